"""The admin chat's scene for tests: the stand-ins, two libraries, the bot built as ``run``
builds it (``build_app``, readers included) with its clock injected, and the people.

Central (Moscow) is on Telegram, VK and MAX; Branch (Yekaterinburg) on Telegram, with its
own channel of the same bot, and on VK with a community of its own (a community token
only). Anna administers Central only, Boris both; Olga writes to the bot but administers
nothing. The VK and MAX admins are Central's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bot.app import App, build_app, load_plan
from bot.intake.max import MaxIntake
from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from core.clock import ManualClock
from core.config import Config
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import MAX_ENV, TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV

BRANCH_VK_ENV = "TEST_VK_BRANCH_COMMUNITY_TOKEN"

# 09:00 in Moscow on a Monday; the club meets at 10:00 Moscow (07:00 UTC).
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


@dataclass
class Scene:
    """Everything a test of the admin chat drives and looks at."""

    box: Sandbox
    config: Config
    db: sqlite_utils.Database
    clock: ManualClock
    env: dict[str, str]
    app: App
    anna: int  # Telegram admin of Central only
    boris: int  # Telegram admin of Central and Branch
    olga: int  # writes to the bot, administers nothing
    vk_admin: int  # VK admin of Central
    vk_reader: int  # writes to the community, administers nothing
    max_admin: int  # MAX admin of Central
    max_reader: int  # writes to the MAX bot, administers nothing
    branch_group: int  # Branch's VK community
    tmp_path: Path

    # -- driving the readers ------------------------------------------------------------

    def reader(self, kind: type, library: str = "central") -> Any:
        """The app's reader of ``kind`` (VK: of ``library``), told not to hold its long poll."""
        [intake] = [
            i
            for i in self.app.intakes
            if isinstance(i, kind) and getattr(i, "library_id", library) == library
        ]
        if isinstance(intake, TelegramIntake):
            intake.poll_timeout = 0
        else:
            intake.wait = 0
        return intake

    async def round(self, kind: type = TelegramIntake, library: str = "central") -> None:
        """One update round of a network's reader, and the admin chat's answers to it."""
        await self.reader(kind, library).poll_once()
        assert self.app.admin is not None
        await self.app.admin.idle()

    async def telegram(self, user: int, text: str) -> list[dict]:
        """``user`` writes ``text`` to the bot; what the bot wrote back to them."""
        before = len(self.telegram_from_bot(user))
        # A person's pace: the stand-in's frozen clock moves on between messages, so its
        # flood control (about one message a second in a private chat) sees no burst.
        self.box.telegram.advance_clock(5)
        self.box.telegram.post_as_user(user, user, text)
        await self.round(TelegramIntake)
        return self.telegram_from_bot(user)[before:]

    async def vk(self, user: int, text: str) -> list[dict]:
        """``user`` writes ``text`` to the community; what the community wrote back."""
        before = len(self.vk_from_community(user))
        self.box.vk.write(user, text)
        await self.round(VkIntake)
        return self.vk_from_community(user)[before:]

    async def max(self, user: int, text: str) -> list[dict]:
        """``user`` writes ``text`` in the dialog with the MAX bot; what the bot wrote back."""
        before = len(self.max_from_bot(user))
        self.box.max.write(user, None, text)
        await self.round(MaxIntake)
        return self.max_from_bot(user)[before:]

    # -- what people got ----------------------------------------------------------------

    def telegram_from_bot(self, user: int) -> list[dict]:
        """The bot's messages in ``user``'s private chat, oldest first."""
        try:
            messages = self.box.telegram.messages(user)
        except Exception:  # no private chat yet
            return []
        bot_id = self.box.info()["telegram"]["bot_id"]
        return [m for m in messages if m.get("from", {}).get("id") == bot_id]

    def vk_from_community(self, user: int) -> list[dict]:
        """The community's messages to ``user``, oldest first."""
        return [m for m in self.box.vk.messages(user) if m["out"]]

    def max_from_bot(self, user: int) -> list[dict]:
        """The MAX bot's messages in its dialog with ``user``, oldest first."""
        chat = self.max_dialog(user)
        if chat is None:
            return []
        bot_id = self.box.info()["max"]["bot_id"]
        return [m for m in self.box.max.messages(chat) if m["sender"]["user_id"] == bot_id]

    def max_dialog(self, user: int) -> int | None:
        """The chat id of ``user``'s dialog with the MAX bot, if there is one."""
        for chat in self.box.max.state()["chats"]:
            if (
                chat.get("type") == "dialog"
                and chat.get("dialog_with_user", {}).get("user_id") == user
            ):
                return int(chat["chat_id"])
        return None

    def audit(self) -> list[dict]:
        """Every row of ``admin_audit``, oldest first."""
        if "admin_audit" not in self.db.table_names():
            return []
        return list(self.db["admin_audit"].rows_where(order_by="rowid"))

    def library_paused(self, library_id: str) -> bool:
        row = next(self.db["libraries"].rows_where("id = ?", [library_id]), None)
        return bool(row and row["paused"])


def text_of(message: dict) -> str:
    """A stand-in message's text or caption (Telegram, VK or MAX)."""
    if "body" in message:
        return str(message["body"].get("text") or "")
    return str(message.get("text") or message.get("caption") or "")


def write_two_libraries(folder: Path, info: dict, ids: dict[str, Any]) -> Path:
    """The config of Central and Branch (see the module's docstring)."""
    (folder / "events").mkdir(exist_ok=True)
    tg, vk, mx = info["telegram"], info["vk"], info["max"]
    path = folder / "config.toml"
    path.write_text(
        f"""storage = "bibliobot.db"
language = "ru"
events_dir = "events"

[schedule]
misfire_grace = "15m"
snapshot_after = ["1h"]
community_snapshot_at = "off"

[[library]]
id = "central"
name = "Центральная библиотека"
timezone = "Europe/Moscow"
admins = [{ids["anna"]}, {ids["boris"]}]

[library.telegram]
token_env = "{TG_ENV}"
chats = [{tg["channel_id"]}]
api_url = "{tg["api_url"]}"

[library.vk]
group_id = {vk["group_id"]}
user_token_env = "{VK_USER_ENV}"
community_token_env = "{VK_COMMUNITY_ENV}"
api_url = "{vk["api_url"]}"
admins = [{ids["vk_admin"]}]

[library.max]
token_env = "{MAX_ENV}"
channels = [{mx["channel_id"]}]
api_url = "{mx["api_url"]}"
admins = [{ids["max_admin"]}]

[[library]]
id = "branch"
name = "Детская библиотека"
timezone = "Asia/Yekaterinburg"
admins = [{ids["boris"]}]

[library.telegram]
token_env = "{TG_ENV}"
chats = [{ids["branch_channel"]}]
api_url = "{tg["api_url"]}"

[library.vk]
group_id = {ids["branch_group"]}
community_token_env = "{BRANCH_VK_ENV}"
api_url = "{vk["api_url"]}"
""",
        encoding="utf-8",
    )
    return path


def write_event(folder: Path, library: str, name: str, at: str, networks: str, **more: str) -> None:
    """An announcement of ``library`` at local time ``at``."""
    lines = {
        "kind": '"announcement"',
        "library": f'"{library}"',
        "title": f'"{name.capitalize()}"',
        "at": at,
        "networks": networks,
        "text": '"Приходите!"',
        **more,
    }
    body = "\n".join(f"{k} = {v}" for k, v in lines.items())
    (folder / "events" / f"{name}.toml").write_text(body + "\n", encoding="utf-8")


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    with Sandbox(seed=41) as box:
        box.max.set_rate_limit(enabled=False)
        box.telegram.freeze_clock()
        info = box.info()
        people = {
            "anna": box.telegram.add_user("Анна", "Смирнова")["id"],
            "boris": box.telegram.add_user("Борис", "Орлов")["id"],
            "olga": box.telegram.add_user("Ольга", "Петрова")["id"],
            "vk_admin": info["vk"]["admin_id"],
            "vk_reader": info["vk"]["reader_ids"][0],
            "max_admin": box.max.add_user(first_name="Мария")["user_id"],
            "max_reader": box.max.add_user(first_name="Пётр")["user_id"],
        }
        branch = box.telegram.create_chat("Детская библиотека", "channel")
        box.telegram.add_bot_to(branch["id"], True)
        people["branch_channel"] = branch["id"]
        community = box.vk.add_community("Детская библиотека")
        people["branch_group"] = community["group_id"]
        path = write_two_libraries(tmp_path, info, people)
        write_event(tmp_path, "central", "club", "2026-12-07T10:00:00", '["telegram", "vk"]')
        write_event(tmp_path, "central", "lecture", "2026-12-09T18:30:00", '["telegram"]')
        write_event(tmp_path, "branch", "tales", "2026-12-08T12:00:00", '["telegram"]')
        config = load_config(path)
        db = open_db(config.storage)
        clock = ManualClock(NOW)
        assert load_plan(db, config, clock).problems == []
        env = {
            TG_ENV: info["telegram"]["token"],
            VK_USER_ENV: info["vk"]["user_token"],
            VK_COMMUNITY_ENV: info["vk"]["community_token"],
            MAX_ENV: info["max"]["token"],
            BRANCH_VK_ENV: community["community_token"],
        }
        app = build_app(config, db, env=env, clock=clock, wait=0)
        app.runner.sync()  # the jobs armed as at start (the scheduler itself is not started)
        del people["branch_channel"]
        scene = Scene(box, config, db, clock, env, app, tmp_path=tmp_path, **people)
        try:
            yield scene
        finally:
            if app.admin is not None:
                await app.admin.idle()
            await app.close()
