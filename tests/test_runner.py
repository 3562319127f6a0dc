"""The runner: claims, misfire rule, retries, ambiguous outcomes, and recovery after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts import Alerts
from bot.app import load_plan
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import AmbiguousOutcome, BadContent, RetryLater
from core.storage import open_db
from scheduler import runner as runner_module
from scheduler.runner import Runner
from tests.conftest import FakePlatform, write_config, write_event

# 2026-12-05 18:00 in Moscow (UTC+3)
DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    write_event(tmp_path)
    db = open_db(tmp_path / "plan.db")
    clock = ManualClock(DUE - timedelta(hours=1))
    load_plan(db, config, clock)
    platforms = {
        ("central", "telegram"): FakePlatform("telegram"),
        ("central", "vk"): FakePlatform("vk"),
    }
    notices: list[tuple[str, str]] = []

    async def notify(library_id: str, text: str, attachment=None) -> int:
        notices.append((library_id, text))
        return 1

    runner = Runner(db, config, platforms, clock=clock, seed=1)
    runner.observers.append(Alerts(db, config, notify, clock).observe)  # as build_app wires it
    return runner, db, clock, platforms, notices


async def told(runner: Runner) -> None:
    """Wait for the alerts the runner's outcomes started."""
    await runner.observers[0].__self__.drain()


def publish_ids(db) -> dict[str, int]:
    return {row["network"]: row["id"] for row in db["actions"].rows_where("kind = 'publish'")}


def states(db) -> dict[str, str]:
    return {row["network"]: row["state"] for row in db["actions"].rows_where("kind = 'publish'")}


async def test_due_action_is_published_once_with_snapshots_planned(world) -> None:
    runner, db, clock, platforms, _ = world
    clock.current = DUE
    ids = publish_ids(db)
    await runner.fire(ids["vk"])
    await runner.fire(ids["vk"])  # a second firing finds it claimed and does nothing
    assert len(platforms[("central", "vk")].posts) == 1
    pub = next(db["publications"].rows)
    assert (pub["network"], pub["remote_id"], pub["url"]) == (
        "vk",
        "1",
        "https://example.test/vk/1",
    )
    snapshot = next(db["actions"].rows_where("kind = 'snapshot'"))
    assert snapshot["due_at"] == "2026-12-05T16:00:00.000+00:00"
    assert (
        platforms[("central", "vk")].posts[0].guid
        == platforms[("central", "vk")].posts[0].guid.strip()
    )


async def test_a_gentle_sync_leaves_what_happened_during_its_pauses(world, monkeypatch) -> None:
    """The refresh's sync gives the loop its turn every few actions: what fired or was
    armed meanwhile is newer than the rows it read, and stays as it is."""
    runner, db, clock, platforms, _ = world
    monkeypatch.setattr(runner_module, "SYNC_CHUNK", 1)
    ids = publish_ids(db)
    assert runner.rearm() == 2
    clock.current = DUE
    syncing = asyncio.create_task(runner.sync_gently())
    await asyncio.sleep(0)  # the sync has read both actions and handled one
    assert not syncing.done()
    for action_id in ids.values():  # both fire while it pauses
        runner.scheduler.remove_job(str(action_id))  # as APScheduler does with a date job it runs
        await runner.fire(action_id)
    await syncing
    assert all(runner.scheduler.get_job(str(i)) is None for i in ids.values())  # not re-armed
    snapshots = [r["id"] for r in db["actions"].rows_where("kind = 'snapshot'")]
    assert len(snapshots) == 2  # armed as each post went out, not disarmed by the sync
    assert all(runner.scheduler.get_job(str(i)) is not None for i in snapshots)
    assert runner.sync() == 2  # a sync now finds just the snapshots, as armed
    assert len(platforms[("central", "vk")].posts) == 1


async def test_rearm_applies_the_misfire_rule(world) -> None:
    runner, db, clock, platforms, notices = world
    clock.current = DUE + timedelta(minutes=10)
    assert runner.rearm() == 2  # 10 min late, grace 15 min: both still go out
    clock.current = DUE + timedelta(minutes=16)
    assert runner.rearm() == 0
    assert states(db) == {"telegram": "missed", "vk": "missed"}
    assert "опоздание 16 мин" in next(db["actions"].rows)["error"]


async def test_transient_error_is_retried_later_then_sent(world) -> None:
    runner, db, clock, platforms, _ = world
    platforms[("central", "telegram")].outcomes = [RetryLater("429", "telegram", delay=7)]
    clock.current = DUE
    action = publish_ids(db)["telegram"]
    await runner.fire(action)
    row = db["actions"].get(action)
    assert row["state"] == "pending" and row["error"] == "429"
    retry_at = datetime.fromisoformat(row["retry_at"])
    assert timedelta(seconds=7) <= retry_at - DUE <= timedelta(seconds=7 * 1.25)
    clock.current = retry_at
    await runner.fire(action)
    assert db["actions"].get(action)["state"] == "sent"
    assert len(platforms[("central", "telegram")].posts) == 1


async def test_retries_stop_at_the_deadline(world) -> None:
    runner, db, clock, platforms, _ = world
    platforms[("central", "vk")].outcomes = [RetryLater("flood", "vk", delay=3600)]
    clock.current = DUE
    action = publish_ids(db)["vk"]
    await runner.fire(action)
    row = db["actions"].get(action)
    assert row["state"] == "failed" and row["error"].startswith("не вышло (попыток: 1): flood")


async def test_ambiguous_telegram_send_becomes_uncertain_and_admins_are_told(world) -> None:
    runner, db, clock, platforms, notices = world
    platforms[("central", "telegram")].outcomes = [
        AmbiguousOutcome("Telegram: timed out", "telegram")
    ]
    clock.current = DUE
    await runner.fire(publish_ids(db)["telegram"])
    await runner.stop()
    await told(runner)
    assert states(db)["telegram"] == "uncertain"
    [(library, text)] = notices
    assert library == "central" and "Посмотрите в канале, появился ли пост" in text


async def test_ambiguous_vk_send_is_repeated_with_the_same_guid(world) -> None:
    runner, db, clock, platforms, _ = world
    vk = platforms[("central", "vk")]
    vk.outcomes = [AmbiguousOutcome("VK: wall.post: ReadTimeout", "vk")]
    clock.current = DUE
    action = publish_ids(db)["vk"]
    await runner.fire(action)
    assert db["actions"].get(action)["state"] == "pending"
    clock.current = datetime.fromisoformat(db["actions"].get(action)["retry_at"])
    await runner.fire(action)
    assert db["actions"].get(action)["state"] == "sent"


async def test_permanent_error_fails_at_once_with_the_reason(world) -> None:
    runner, db, clock, platforms, notices = world
    platforms[("central", "vk")].outcomes = [
        BadContent("VK: wall.post: [100] message is too long", "vk")
    ]
    clock.current = DUE
    await runner.fire(publish_ids(db)["vk"])
    await runner.stop()
    await told(runner)
    row = db["actions"].get(publish_ids(db)["vk"])
    assert (row["state"], row["error"]) == ("failed", "VK: wall.post: [100] message is too long")
    assert "не опубликован: сеть отклонила содержимое" in notices[0][1]


async def test_crash_while_sending_recovers_per_network(world) -> None:
    runner, db, clock, platforms, _ = world
    ids = publish_ids(db)
    left = "2026-12-05T15:00:00.500+00:00"  # the request had left the machine
    for action in ids.values():
        db["actions"].update(action, {"state": "sending", "attempts": 1, "dispatched_at": left})
    clock.current = DUE + timedelta(minutes=1)
    restarted = Runner(db, runner.config, platforms, clock=clock, seed=2)
    restarted.recover()
    assert restarted.rearm() == 1
    assert states(db) == {"telegram": "uncertain", "vk": "pending"}
    await restarted.fire(ids["vk"])
    assert states(db)["vk"] == "sent"
    assert platforms[("central", "telegram")].posts == []


async def test_a_telegram_post_still_waiting_locally_is_resent_after_a_crash(world) -> None:
    runner, db, clock, platforms, _ = world
    action = publish_ids(db)["telegram"]
    db["actions"].update(action, {"state": "sending", "attempts": 1, "dispatched_at": None})
    clock.current = DUE + timedelta(seconds=30)
    restarted = Runner(db, runner.config, platforms, clock=clock, seed=2)
    restarted.recover()
    await restarted.fire(action)
    assert states(db)["telegram"] == "sent"
    assert db["actions"].get(action)["dispatched_at"] is not None


async def test_restart_does_not_repost_sent_actions(world) -> None:
    runner, db, clock, platforms, _ = world
    clock.current = DUE
    for action in publish_ids(db).values():
        await runner.fire(action)
    restarted = Runner(db, runner.config, platforms, clock=clock)
    restarted.recover()
    armed = restarted.rearm()
    job_ids = {int(job.id) for job in restarted.scheduler.get_jobs()}
    snapshot_ids = {row["id"] for row in db["actions"].rows_where("kind = 'snapshot'")}
    assert armed == 2 and job_ids == snapshot_ids  # only the two metric snapshots are armed again
    assert sum(len(p.posts) for p in platforms.values()) == 2


async def test_snapshots_batch_every_due_publication(world) -> None:
    runner, db, clock, platforms, _ = world
    clock.current = DUE
    for action in publish_ids(db).values():
        await runner.fire(action)
    clock.current = DUE + timedelta(hours=2)
    first = next(db["actions"].rows_where("kind = 'snapshot' and network = 'vk'"))
    await runner.fire(first["id"])
    samples = {(s["metric"], s["value"]) for s in db["metric_samples"].rows_where("network = 'vk'")}
    assert samples == {
        ("views", 10.0),
        ("likes", 2.0),
        ("reposts", 1.0),
        ("comments", 0.0),
        ("reach", None),  # not available, not zero
        ("members", 100.0),
    }


async def test_resend_uncertain_lets_telegram_repeat_after_an_unknown_outcome(world) -> None:
    runner, db, clock, platforms, notices = world
    library = runner.config.libraries[0]
    from dataclasses import replace

    telegram = replace(library.telegram, resend_uncertain=True)
    runner.config = replace(runner.config, libraries=(replace(library, telegram=telegram),))
    platforms[("central", "telegram")].outcomes = [AmbiguousOutcome("timed out", "telegram")]
    clock.current = DUE
    action = publish_ids(db)["telegram"]
    await runner.fire(action)
    assert db["actions"].get(action)["state"] == "pending"
    clock.current = datetime.fromisoformat(db["actions"].get(action)["retry_at"])
    await runner.fire(action)
    assert db["actions"].get(action)["state"] == "sent" and not notices


@pytest.mark.parametrize(
    "kind", ["contest_gallery", "contest_entry", "contest_poll", "contest_results"]
)
async def test_a_contest_message_that_may_have_left_telegram_is_not_sent_again(world, kind) -> None:
    runner, db, clock, platforms, _ = world
    action = publish_ids(db)["telegram"]
    left = "2026-12-05T15:00:00.500+00:00"
    db["actions"].update(
        action, {"kind": kind, "state": "sending", "attempts": 1, "dispatched_at": left}
    )
    restarted = Runner(db, runner.config, platforms, clock=clock, seed=2)
    restarted.recover()
    assert db["actions"].get(action)["state"] == "uncertain"


async def test_observers_hear_each_outcome_after_it_is_stored(world) -> None:
    runner, db, clock, platforms, _ = world
    heard: list[tuple[str, str, str, bool]] = []

    def observer(outcome) -> None:
        stored = db["actions"].get(outcome.action_id)["state"]
        heard.append((outcome.network, outcome.state, stored, outcome.error is not None))

    def broken(outcome) -> None:
        raise RuntimeError("an observer's bug")  # costs only itself

    runner.observers += [broken, observer]
    platforms[("central", "telegram")].outcomes = [RetryLater("429", "telegram", delay=7)]
    platforms[("central", "vk")].outcomes = [BadContent("too long", "vk")]
    clock.current = DUE
    ids = publish_ids(db)
    await runner.fire(ids["telegram"])
    await runner.fire(ids["vk"])
    clock.current = datetime.fromisoformat(db["actions"].get(ids["telegram"])["retry_at"])
    await runner.fire(ids["telegram"])
    assert heard == [
        ("telegram", "retrying", "pending", True),
        ("vk", "failed", "failed", True),
        ("telegram", "sent", "sent", False),
    ]
