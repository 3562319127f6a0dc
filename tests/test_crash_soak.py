"""Exactly-once through crashes: the bot is SIGKILLed again and again while it posts.

The bot runs as a separate process against the stand-ins (which live in this
test process and survive every kill), and is killed at seeded random moments
while several libraries post to VK, to two Telegram channels and to a MAX channel each. Then the
stand-ins and the database must agree: every VK post exactly once; every
Telegram and every MAX post at most once (neither has an idempotency key),
and each one missing marked uncertain or failed —
none lost without a trace; each publication row names a post the stand-in holds,
with its text, and each ``sent`` action has one. A second run adds about 20 %
injected faults (429, 5xx, slow answers, dropped connections, answers lost after
the post was made). The sizes are ``tests.reliability``'s: short in ``make test``,
full in ``make reliability``; each run prints its figures (kills, posts, doubled,
lost, uncertain).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from bench.fleet import build_fleet
from sandbox.server import Sandbox
from tests.reliability import figures, size, wake_long_polls

LIBRARIES = size(3, 8)
EVENTS_PER_LIBRARY = size(8, 17)  # at most 19 a minute per Telegram chat: no waiting
CHATS_PER_LIBRARY = 2  # each event: one VK post + two Telegram posts
MAX_CHANNELS_PER_LIBRARY = 1  # ... + one MAX message
KILLS = size(3, 20)
SPREAD = size(5, 36)  # seconds over which a library's events are due
FAULTS = (
    "sendMessage:429:0.04,sendMessage:5xx:0.04,sendMessage:ambiguous:0.05,"
    "sendMessage:slow:0.03:2,sendMessage:reset:0.04,"
    "wall.post:429:0.04,wall.post:5xx:0.04,wall.post:ambiguous:0.05,"
    "wall.post:slow:0.03:2,wall.post:reset:0.04,"
    "max/sendMessage:429:0.04,max/sendMessage:5xx:0.04,max/sendMessage:ambiguous:0.05,"
    "max/sendMessage:slow:0.03:2,max/sendMessage:reset:0.04"
)


def build(tmp_path: Path, box: Sandbox, start: datetime, spread: float) -> tuple[Path, dict]:
    """The libraries on the stand-ins, each with its events spread over ``spread`` seconds."""
    fleet = build_fleet(
        box,
        tmp_path,
        LIBRARIES,
        chats_per_library=CHATS_PER_LIBRARY,
        schedule='misfire_grace = "30m"\nsnapshot_after = []\nretry_deadline = "1h"',
        telegram_options="timeout = 1",
        vk_options="timeout = 1\nrequests_per_second = 50",
        max_channels_per_library=MAX_CHANNELS_PER_LIBRARY,
        max_options="timeout = 1",
    )
    for lib, library in enumerate(fleet.libraries):
        zone = ZoneInfo(library.zone)
        for n in range(EVENTS_PER_LIBRARY):
            at = start + timedelta(seconds=spread * n / EVENTS_PER_LIBRARY + lib * 0.1)
            local = at.astimezone(zone).replace(tzinfo=None, microsecond=0)
            (tmp_path / "events" / f"{library.id}-e{n:02d}.toml").write_text(
                f'kind = "announcement"\nlibrary = "{library.id}"\ntitle = "Событие L{lib}E{n:02d}"\n'
                f'at = {local.isoformat()}\ntext = "Текст события L{lib}E{n:02d}."\n',
                encoding="utf-8",
            )
    return fleet.config, fleet.env


def open_actions(db_path: Path) -> int | None:
    if not db_path.exists():
        return None
    db = sqlite_utils.Database(db_path)
    try:
        if "actions" not in db.table_names():
            return None
        return db["actions"].count_where("state in ('pending', 'sending') and kind = 'publish'")
    finally:
        db.close()


def run_with_kills(config: Path, env: dict, seed: int, kills: int, log: Path) -> int:
    """Start the bot, SIGKILL it ``kills`` times at seeded moments, then let it finish."""
    rng = random.Random(seed)
    environment = {**os.environ, **env}
    command = [sys.executable, "-m", "bot", "run", "-c", str(config)]
    done_kills = 0
    with log.open("a") as out:
        while True:
            process = subprocess.Popen(command, env=environment, stdout=out, stderr=out)
            if done_kills < kills:
                time.sleep(rng.uniform(0.8, 3.0))  # the moment of the crash, not a schedule wait
                process.send_signal(signal.SIGKILL)
                process.wait()
                done_kills += 1
                continue
            deadline = time.monotonic() + size(90, 240)
            db_path = config.parent / "fleet.db"
            while open_actions(db_path) != 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            process.terminate()
            process.wait(timeout=40)
            return done_kills


@dataclass
class Tally:
    """What the stand-ins and the database say about every planned post."""

    posts: int = 0
    doubled: list[str] = field(default_factory=list)  # actions with two posts or more
    lost: list[str] = field(default_factory=list)  # neither on the stand-in nor marked so
    disagree: list[str] = field(default_factory=list)  # database and stand-in differ
    outcomes: dict[str, int] = field(default_factory=dict)  # "network:state" → actions

    def count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1


def tally(box: Sandbox, db_path: Path) -> Tally:
    """Each planned post against the stand-ins: once, marked, or lost; rows against posts."""
    db = sqlite_utils.Database(db_path)
    result = Tally()
    vk_posts: dict[str, list[dict]] = {}  # first line (the title) → posts
    vk_by_id: dict[tuple[str, str], dict] = {}  # (community, post id) → post
    for community in box.info()["vk"]["communities"]:
        for post in box.vk.posts(community["group_id"]):
            vk_posts.setdefault(post["text"].split("\n")[0], []).append(post)
            vk_by_id[(str(community["group_id"]), str(post["id"]))] = post
    tg_messages: dict[str, list[dict]] = {}  # chat → its messages
    max_messages: dict[str, list[dict]] = {}  # channel → its messages
    for action in db["actions"].rows_where("kind = 'publish'"):
        result.posts += 1
        title = db["events"].get(action["event_id"])["title"]
        state, key = action["state"], action["key"]
        result.count(f"{action['network']}:{state}")
        publications = list(db["publications"].rows_where("action_id = ?", [action["id"]]))
        if action["network"] == "vk":
            found = vk_posts.get(title, [])
        elif action["network"] == "max":
            channel = action["target"]
            if channel not in max_messages:
                max_messages[channel] = box.max.messages(int(channel))
            found = [m for m in max_messages[channel] if title in m["body"].get("text", "")]
        else:
            chat = action["target"]
            if chat not in tg_messages:
                tg_messages[chat] = box.telegram.messages(int(chat))
            found = [m for m in tg_messages[chat] if title in m.get("text", "")]
        if len(found) > 1:
            result.doubled.append(key)
        if state in ("pending", "sending") or (not found and state == "sent"):
            result.lost.append(f"{key} ({state}, {len(found)} on the stand-in)")
        elif not found and state not in ("uncertain", "failed"):
            result.lost.append(f"{key} ({state}, none on the stand-in)")
        if state == "sent" and len(publications) != 1:
            result.disagree.append(f"{key}: sent with {len(publications)} publication rows")
        if state != "sent" and publications:
            result.disagree.append(f"{key}: {state} with a publication row")
        for publication in publications:
            if action["network"] == "vk":
                post = vk_by_id.get((publication["target"], publication["remote_id"]))
                text = post["text"] if post else None
            elif action["network"] == "max":
                message = next(
                    (
                        m
                        for m in max_messages[action["target"]]
                        if m["body"]["mid"] == publication["remote_id"]
                    ),
                    None,
                )
                text = message["body"].get("text") if message else None
            else:
                message = next(
                    (
                        m
                        for m in tg_messages[action["target"]]
                        if str(m["message_id"]) == publication["remote_id"]
                    ),
                    None,
                )
                text = message.get("text") if message else None
            if text is None or title not in text:
                result.disagree.append(f"{key}: publication {publication['remote_id']} not found")
    db.close()
    return result


@pytest.mark.parametrize("faults", [False, True], ids=["kills", "kills+faults"])
def test_posts_survive_repeated_sigkill(tmp_path: Path, faults: bool) -> None:
    with Sandbox(seed=21) as box:
        box.vk.set_rate_limits(enabled=False)  # pacing is not what this test is about
        if faults:
            box.set_faults(FAULTS, seed=5)
        start = datetime.now(UTC) + timedelta(seconds=3)
        config, env = build(tmp_path, box, start, spread=SPREAD)
        kills = run_with_kills(
            config, env, seed=9 if faults else 8, kills=KILLS, log=tmp_path / "bot.log"
        )
        found = tally(box, tmp_path / "fleet.db")
        fired = sum(len(box.state()[n]["faults"]["fired"]) for n in ("telegram", "vk", "max"))
        wake_long_polls(box)
    uncertain = found.outcomes.get("telegram:uncertain", 0)
    max_uncertain = found.outcomes.get("max:uncertain", 0)
    figures(
        f"crash[{'kills+faults' if faults else 'kills'}]",
        kills=kills,
        posts=found.posts,
        doubled=len(found.doubled),
        lost=len(found.lost),
        uncertain=uncertain,
        max_posts=sum(n for k, n in found.outcomes.items() if k.startswith("max:")),
        max_sent=found.outcomes.get("max:sent", 0),
        max_uncertain=max_uncertain,
        max_failed=found.outcomes.get("max:failed", 0),
        failed=sum(n for k, n in found.outcomes.items() if k.endswith(":failed")),
        disagreements=len(found.disagree),
        faults_fired=fired,
    )
    assert kills == KILLS
    assert found.posts == LIBRARIES * EVENTS_PER_LIBRARY * (
        1 + CHATS_PER_LIBRARY + MAX_CHANNELS_PER_LIBRARY
    )
    assert found.doubled == [] and found.lost == [] and found.disagree == []
    assert found.outcomes.get("vk:sent") == LIBRARIES * EVENTS_PER_LIBRARY  # guid: no doubt
