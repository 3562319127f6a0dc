"""The outcome of a send is recorded even if the disk is full when it comes back.

The disk fills up while a post is being sent (``tests.diskfull``): the runner keeps
the outcome and writes it again with backoff until there is room, so a published post
ends ``sent`` with its publication instead of staying ``sending`` until a restart
(where a Telegram post would become uncertain although published).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.alerts import Alerts
from bot.app import load_plan
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import AmbiguousOutcome, BadContent, PlatformError, RetryLater
from core.platform import Post, Published
from core.storage import open_db
from scheduler.runner import Runner
from tests.conftest import FakePlatform, write_config, write_event
from tests.diskfull import fill, free

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
TABLES = ("actions", "publications")


class DiskFillsWhileSending(FakePlatform):
    """A platform during whose send the disk fills up."""

    db = None

    async def publish(self, post: Post) -> Published:
        try:
            return await super().publish(post)
        finally:
            fill(self.db, *TABLES)


@pytest.fixture
def world(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    write_event(tmp_path)
    db = open_db(tmp_path / "plan.db")
    clock = ManualClock(DUE)
    load_plan(db, config, clock)
    telegram = DiskFillsWhileSending("telegram")
    telegram.db = db
    notices: list[str] = []

    async def notify(library_id: str, text: str, attachment=None) -> int:
        notices.append(text)
        return 1

    runner = Runner(db, config, {("central", "telegram"): telegram}, clock=clock)
    runner.observers.append(Alerts(db, config, notify, clock).observe)
    action = next(db["actions"].rows_where("kind = 'publish' and network = 'telegram'"))["id"]
    return runner, db, telegram, action, notices


@pytest.mark.parametrize(
    "outcome, state",
    [
        (None, "sent"),
        (RetryLater("Telegram sendMessage: Too Many Requests", "telegram", delay=7), "pending"),
        (AmbiguousOutcome("Telegram sendMessage: timed out", "telegram"), "uncertain"),
        (BadContent("Telegram sendMessage: can't parse entities", "telegram"), "failed"),
    ],
)
async def test_an_outcome_refused_by_a_full_disk_is_recorded_once_there_is_room(
    world, outcome: PlatformError | None, state: str
) -> None:
    runner, db, telegram, action, notices = world
    telegram.outcomes = [outcome] if outcome else []
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            free(db, *TABLES)  # someone made room

    runner.store_pause = pause
    await runner.fire(action)
    await runner.stop()
    await runner.observers[0].__self__.drain()
    assert pauses == [1.0, 2.0, 4.0]  # backoff while the disk stayed full
    row = db["actions"].get(action)
    assert row["state"] == state
    publications = list(db["publications"].rows)
    if outcome is None:
        assert [(p["action_id"], p["url"]) for p in publications] == [
            (action, "https://example.test/telegram/1")
        ]
        assert db["actions"].count_where("kind = 'snapshot'") == 1
    else:
        assert publications == [] and row["error"].startswith(str(outcome))
    assert len(notices) == (1 if state in ("uncertain", "failed") else 0)  # told once, when stored


async def test_a_stop_while_the_disk_stays_full_names_the_outcome_in_the_log(
    world, caplog: pytest.LogCaptureFixture
) -> None:
    runner, db, _, action, _ = world
    runner.store_delay = 3600.0  # only the stop ends the wait
    firing = asyncio.create_task(runner.fire(action))
    while not [r for r in caplog.records if r.name == "scheduler.runner"]:  # a first refusal
        await asyncio.sleep(0.01)
    await asyncio.wait_for(runner.stop(), timeout=5)
    assert firing.done()
    [refused, given_up] = [r for r in caplog.records if r.name == "scheduler.runner"]
    assert refused.levelno == logging.WARNING and "database or disk is full" in refused.message
    assert given_up.levelno == logging.ERROR
    assert "published as https://example.test/telegram/1" in given_up.message
    assert db["actions"].get(action)["state"] == "sending"  # the next start decides
