"""Exactly-once through crashes: the bot is SIGKILLed again and again while it posts.

The bot runs as a separate process against the stand-ins (which live in this
test process and survive every kill). After the schedule of 200+ actions over
four libraries, the stand-ins' state must show: every VK post exactly once;
every Telegram post at most once, and each one missing marked uncertain or
failed in the database — none lost without a trace. A second run adds about
20 % injected faults (429, 5xx, timeouts, dropped connections, answers lost
after the post was made).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from sandbox.fleet import build_fleet
from sandbox.server import Sandbox

LIBRARIES = 4
EVENTS_PER_LIBRARY = 17
CHATS_PER_LIBRARY = 2  # each event: one VK post + two Telegram posts → 204 actions
FAULTS = (
    "sendMessage:429:0.04,sendMessage:5xx:0.04,sendMessage:ambiguous:0.05,"
    "sendMessage:slow:0.03:2,sendMessage:reset:0.04,"
    "wall.post:429:0.04,wall.post:5xx:0.04,wall.post:ambiguous:0.05,"
    "wall.post:slow:0.03:2,wall.post:reset:0.04"
)


def build(tmp_path: Path, box: Sandbox, start: datetime, spread: float) -> tuple[Path, dict]:
    """Four libraries on the stand-ins, each with 17 events a few hundred ms apart."""
    fleet = build_fleet(
        box,
        tmp_path,
        LIBRARIES,
        chats_per_library=CHATS_PER_LIBRARY,
        schedule='misfire_grace = "30m"\nsnapshot_after = []\nretry_deadline = "1h"',
        telegram_options="timeout = 1",
        vk_options="timeout = 1\nrequests_per_second = 50",
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
            deadline = time.monotonic() + 90
            db_path = config.parent / "fleet.db"
            while open_actions(db_path) != 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            process.terminate()
            process.wait(timeout=40)
            return done_kills


def check(box: Sandbox, db_path: Path) -> dict[str, int]:
    """The invariants; returns counts by outcome for the report."""
    db = sqlite_utils.Database(db_path)
    actions = list(db["actions"].rows_where("kind = 'publish'"))
    assert len(actions) == LIBRARIES * EVENTS_PER_LIBRARY * (1 + CHATS_PER_LIBRARY)
    vk_posts: dict[str, list[dict]] = {}
    for community in box.info()["vk"]["communities"]:
        for post in box.vk.posts(community["group_id"]):
            vk_posts.setdefault(post["text"].split("\n")[0], []).append(post)
    outcomes: dict[str, int] = {}
    for action in actions:
        title = db["events"].get(action["event_id"])["title"]
        state = action["state"]
        outcomes[f"{action['network']}:{state}"] = (
            outcomes.get(f"{action['network']}:{state}", 0) + 1
        )
        assert state not in ("pending", "sending"), action["key"]
        publication = next(db["publications"].rows_where("action_id = ?", [action["id"]]), None)
        if action["network"] == "vk":
            posts = vk_posts.get(title, [])
            assert len(posts) == 1, (action["key"], state, len(posts))
            assert state == "sent" and publication["remote_id"] == str(posts[0]["id"])
        else:
            found = [
                m
                for m in box.telegram.messages(int(action["target"]))
                if title in m.get("text", "")
            ]
            assert len(found) <= 1, (action["key"], len(found))
            if not found:
                assert state in ("uncertain", "failed"), (action["key"], state)
            elif state == "sent":
                assert publication["remote_id"] == str(found[0]["message_id"])
            else:
                assert state == "uncertain", (action["key"], state)
    return outcomes


@pytest.mark.parametrize("faults", [False, True], ids=["kills", "kills+faults"])
def test_posts_survive_repeated_sigkill(tmp_path: Path, faults: bool) -> None:
    with Sandbox(seed=21) as box:
        box.vk.set_rate_limits(enabled=False)  # pacing is not what this test is about
        if faults:
            box.set_faults(FAULTS, seed=5)
        start = datetime.now(UTC) + timedelta(seconds=3)
        config, env = build(tmp_path, box, start, spread=10.0)
        kills = run_with_kills(
            config, env, seed=9 if faults else 8, kills=6, log=tmp_path / "bot.log"
        )
        outcomes = check(box, tmp_path / "fleet.db")
    assert kills == 6
    assert outcomes.get("vk:sent") == LIBRARIES * EVENTS_PER_LIBRARY
    print(f"outcomes after {kills} kills (faults={faults}): {outcomes}")
