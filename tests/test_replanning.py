"""Re-planning: edits move pending actions, never resend sent ones; cancel, delete, pause, resume."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import load_plan
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from scheduler.plan import cancel_event, set_paused
from scheduler.runner import Runner
from tests.conftest import FakePlatform, write_config, write_event

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # 18:00 in Moscow


@pytest.fixture
def setup(tmp_path: Path):
    config = load_config(write_config(tmp_path))
    db = open_db(tmp_path / "plan.db")
    clock = ManualClock(DUE - timedelta(days=2))
    platforms = {("central", n): FakePlatform(n) for n in ("telegram", "vk")}
    runner = Runner(db, config, platforms, clock=clock, seed=3)
    return tmp_path, config, db, clock, runner, platforms


def actions(db, kind: str = "publish") -> dict[str, dict]:
    return {r["network"]: r for r in db["actions"].rows_where("kind = ?", [kind])}


def test_moving_the_time_moves_pending_actions(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder)
    load_plan(db, config, clock)
    write_event(folder, at="2026-12-05T19:30:00")
    result = load_plan(db, config, clock)
    assert (result.changes[0].moved, result.changes[0].added) == (2, 0)
    assert {r["due_at"] for r in actions(db).values()} == {"2026-12-05T16:30:00.000+00:00"}


async def test_a_sent_action_is_never_sent_again_and_the_change_is_reported(setup) -> None:
    folder, config, db, clock, runner, platforms = setup
    write_event(folder)
    load_plan(db, config, clock)
    clock.current = DUE
    await runner.fire(actions(db)["vk"]["id"])
    write_event(folder, text='"Новый текст"')
    change = load_plan(db, config, clock).changes[0]
    assert change.moved == 1  # the Telegram one, still pending
    assert change.conflicts == [
        "central/club:publish:vk:1: already sent; the change is not applied to it"
    ]
    assert runner.sync() == 2  # telegram publish + the VK snapshot
    assert len(platforms[("central", "vk")].posts) == 1


def test_deleting_the_file_cancels_what_is_pending(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    path = write_event(folder)
    load_plan(db, config, clock)
    path.unlink()
    result = load_plan(db, config, clock)
    assert result.cancelled == {"central/club": 2}
    assert {r["state"] for r in actions(db).values()} == {"cancelled"}
    assert runner.sync() == 0


def test_a_cancelled_event_is_not_revived_by_its_file(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder)
    load_plan(db, config, clock)
    assert cancel_event(db, "central/club", "2026-12-01T00:00:00.000+00:00", "by hand") == 2
    write_event(folder, at="2026-12-06T18:00:00")
    change = load_plan(db, config, clock).changes[0]
    assert change.conflicts == ["central/club: cancelled; changes to its file are ignored"]
    assert {r["state"] for r in actions(db).values()} == {"cancelled"}


def test_a_broken_edit_keeps_the_previous_plan(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder)
    load_plan(db, config, clock)
    write_event(folder, at='"в субботу"')
    result = load_plan(db, config, clock)
    assert len(result.problems) == 1 and not result.cancelled
    assert {r["state"] for r in actions(db).values()} == {"pending"}


def test_reminders_are_planned_before_the_event(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder, remind_before='["1d", "2h"]')
    load_plan(db, config, clock)
    reminders = sorted(r["due_at"] for r in db["actions"].rows_where("kind = 'reminder'"))
    assert reminders == [
        "2026-12-04T15:00:00.000+00:00",
        "2026-12-04T15:00:00.000+00:00",
        "2026-12-05T13:00:00.000+00:00",
        "2026-12-05T13:00:00.000+00:00",
    ]
    text = next(db["actions"].rows_where("kind = 'reminder' and network = 'telegram'"))["payload"]
    assert "Напоминаем" in text and "Книжный клуб" in text


def test_a_reminder_already_past_when_planned_is_skipped(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    clock.current = DUE - timedelta(hours=5)  # the 1-day reminder is already in the past
    write_event(folder, remind_before='["1d", "2h"]')
    load_plan(db, config, clock)
    assert db["actions"].count_where("kind = 'reminder'") == 2


async def test_a_paused_library_posts_nothing_until_resumed(setup) -> None:
    folder, config, db, clock, runner, platforms = setup
    write_event(folder)
    load_plan(db, config, clock)
    set_paused(db, "central", True)
    load_plan(db, config, clock)  # a reload keeps the pause
    assert runner.sync() == 0
    clock.current = DUE
    await runner.fire(actions(db)["vk"]["id"])
    assert platforms[("central", "vk")].posts == [] and actions(db)["vk"]["state"] == "pending"
    set_paused(db, "central", False)
    clock.current = DUE + timedelta(minutes=5)
    assert runner.sync() == 2
    await runner.fire(actions(db)["vk"]["id"])
    assert len(platforms[("central", "vk")].posts) == 1


def test_resuming_after_the_grace_marks_posts_missed(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder)
    load_plan(db, config, clock)
    set_paused(db, "central", True)
    clock.current = DUE + timedelta(hours=1)
    set_paused(db, "central", False)
    assert runner.sync() == 0
    assert {r["state"] for r in actions(db).values()} == {"missed"}


def test_grace_is_set_per_action_kind(setup) -> None:
    folder, config, db, clock, runner, _ = setup
    write_event(folder, remind_before='["2h"]')
    load_plan(db, config, clock)
    clock.current = DUE - timedelta(hours=2) + timedelta(minutes=6)  # reminder 6 min late
    runner.sync()
    states = {(r["kind"], r["state"]) for r in db["actions"].rows}
    assert ("reminder", "missed") in states and ("publish", "pending") in states


def test_a_weekly_event_plans_each_occurrence_in_local_time(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, timezone="Europe/Berlin"))
    path = write_event(tmp_path, at="2027-03-19T18:00:00")  # a Friday; DST starts on 28 March
    path.write_text(path.read_text() + '[repeat]\nevery = "week"\ncount = 3\n', encoding="utf-8")
    db = open_db(tmp_path / "plan.db")
    load_plan(db, config, ManualClock(datetime(2027, 3, 1, tzinfo=UTC)))
    vk = sorted(
        (r["key"].rsplit(":", 1)[1], r["due_at"])
        for r in db["actions"].rows_where("network = 'vk'")
    )
    assert vk == [
        ("2027-03-19", "2027-03-19T17:00:00.000+00:00"),
        ("2027-03-26", "2027-03-26T17:00:00.000+00:00"),
        ("2027-04-02", "2027-04-02T16:00:00.000+00:00"),  # still 18:00 local, now UTC+2
    ]


def test_a_bad_repeat_rule_names_its_line(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = write_event(tmp_path)
    path.write_text(
        path.read_text() + '[repeat]\nevery = "week"\nweekdays = ["пт"]\ncount = 3\n',
        encoding="utf-8",
    )
    result = load_plan(open_db(tmp_path / "plan.db"), config)
    [problem] = result.problems
    assert str(problem).startswith(f"{path}:9 [repeat.weekdays]:")


def test_members_are_counted_daily_at_local_time(tmp_path: Path) -> None:
    path = write_config(tmp_path, timezone="Asia/Kamchatka")
    path.write_text(
        path.read_text().replace('community_snapshot_at = "off"', 'community_snapshot_at = "23:50"')
    )
    config = load_config(path)
    db = open_db(tmp_path / "plan.db")
    load_plan(
        db, config, ManualClock(datetime(2026, 12, 5, 0, 0, tzinfo=UTC))
    )  # 12:00 in Kamchatka
    rows = sorted(
        (r["network"], r["due_at"]) for r in db["actions"].rows_where("kind = 'community'")
    )
    assert rows == [
        ("telegram", "2026-12-05T11:50:00.000+00:00"),
        ("telegram", "2026-12-06T11:50:00.000+00:00"),
        ("vk", "2026-12-05T11:50:00.000+00:00"),
        ("vk", "2026-12-06T11:50:00.000+00:00"),
    ]
    load_plan(db, config, ManualClock(datetime(2026, 12, 5, 1, 0, tzinfo=UTC)))
    assert db["actions"].count_where("kind = 'community'") == 4  # planned once
