"""A network of many libraries on the stand-ins, for crash tests and benchmarks.

``build_fleet`` gives each library its own VK community and/or Telegram
channels on a running Sandbox, writes a config naming them, and returns the
token variables to run the bot with. It lives here, not in sandbox/, because it writes
the bot's config and database; the stand-ins know nothing of the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.storage import to_db
from sandbox.server import Sandbox

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Kamchatka")


@dataclass(frozen=True)
class FleetLibrary:
    """One library of the fleet and where it posts."""

    id: str
    zone: str
    group_id: int | None
    chats: tuple[int, ...]
    max_channels: tuple[int, ...] = ()


@dataclass(frozen=True)
class Fleet:
    """The config file, the token variables, and the libraries."""

    config: Path
    env: dict[str, str]
    libraries: tuple[FleetLibrary, ...]


def build_fleet(
    box: Sandbox,
    folder: Path,
    libraries: int,
    vk: bool = True,
    chats_per_library: int = 1,
    schedule: str = 'misfire_grace = "30m"\nsnapshot_after = []\ncommunity_snapshot_at = "off"',
    telegram_options: str = "",
    vk_options: str = "",
    max_channels_per_library: int = 0,
    max_options: str = "",
) -> Fleet:
    """Config and stand-in communities/channels for ``libraries`` libraries in ``folder``
    (MAX channels only when ``max_channels_per_library`` > 0, so the benchmarks stay as they were)."""
    info = box.info()
    env = {"FLEET_TG": info["telegram"]["token"], "FLEET_VK_USER": info["vk"]["user_token"]}
    lines = ['storage = "fleet.db"', 'events_dir = "events"', "[schedule]", schedule]
    (folder / "events").mkdir(parents=True, exist_ok=True)
    fleet = []
    for n in range(libraries):
        lib_id, zone = f"lib{n:03d}", ZONES[n % len(ZONES)]
        lines += [
            "[[library]]",
            f'id = "{lib_id}"',
            f'name = "Библиотека {n}"',
            f'timezone = "{zone}"',
        ]
        chats = []
        for c in range(chats_per_library):
            chat = box.telegram.create_chat(f"Канал {n}-{c}", "channel")
            box.telegram.add_bot_to(chat["id"], admin=True)
            chats.append(chat["id"])
        if chats:
            lines += [
                "[library.telegram]",
                'token_env = "FLEET_TG"',
                f"chats = {chats}",
                f'api_url = "{info["telegram"]["api_url"]}"',
                telegram_options,
            ]
        channels = []
        for c in range(max_channels_per_library):
            channel = box.max.create_chat(f"Канал MAX {n}-{c}", "channel", bot="admin")
            channels.append(channel["chat_id"])
        if channels:
            env["FLEET_MAX"] = info["max"]["token"]
            lines += [
                "[library.max]",
                'token_env = "FLEET_MAX"',
                f"channels = {channels}",
                f'api_url = "{info["max"]["api_url"]}"',
                max_options,
            ]
        group_id = None
        if vk:
            community = box.vk.add_community(f"Библиотека {n}")
            group_id = community["group_id"]
            env[f"FLEET_VK_COMMUNITY_{n}"] = community["community_token"]
            lines += [
                "[library.vk]",
                f"group_id = {group_id}",
                'user_token_env = "FLEET_VK_USER"',
                f'community_token_env = "FLEET_VK_COMMUNITY_{n}"',
                f'api_url = "{info["vk"]["api_url"]}"',
                vk_options,
            ]
        fleet.append(FleetLibrary(lib_id, zone, group_id, tuple(chats), tuple(channels)))
    config = folder / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Fleet(config, env, tuple(fleet))


def seed_publications(
    db, library_id: str, group_id: int, post_ids: list[int], published_at: datetime
) -> None:
    """Publications as the runner would have recorded them (with their event and actions)."""
    stamp = to_db(published_at)
    event_id = f"{library_id}/archive"
    with db.atomic():
        db["libraries"].insert(
            {"id": library_id, "name": library_id, "timezone": "Europe/Moscow", "paused": 0},
            ignore=True,
        )
        db["events"].insert(
            {
                "id": event_id,
                "library_id": library_id,
                "kind": "announcement",
                "title": "t",
                "status": "active",
                "starts_at": stamp,
            }
        )
        for post_id in post_ids:
            action = (
                db["actions"]
                .insert(
                    {
                        "key": f"{event_id}:publish:vk:{group_id}:{post_id}",
                        "event_id": event_id,
                        "library_id": library_id,
                        "kind": "publish",
                        "network": "vk",
                        "target": str(group_id),
                        "due_at": stamp,
                        "state": "sent",
                    }
                )
                .last_pk
            )
            db["publications"].insert(
                {
                    "action_id": action,
                    "event_id": event_id,
                    "library_id": library_id,
                    "network": "vk",
                    "target": str(group_id),
                    "remote_id": str(post_id),
                    "url": "",
                    "published_at": stamp,
                }
            )
