"""Storage: a plan change is all or nothing, even when it spans many sqlite-utils calls."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from scheduler.events import load_event
from scheduler.plan import apply_plan, expand
from tests.conftest import write_config, write_event


def test_a_failure_midway_leaves_no_half_applied_plan(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    event = load_event(write_event(tmp_path), config)
    actions = expand(event, config)
    assert len(actions) > 1
    db = open_db(tmp_path / "plan.db")
    # The event and the first action are written; the second action's write fails.
    db.execute(
        "create trigger die_midway before insert on actions when (select count(*) from actions) "
        "> 0 begin select raise(abort, 'the process died here'); end"
    )
    with pytest.raises(sqlite3.DatabaseError, match="the process died here"):
        apply_plan(db, config, event, actions, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    assert db["events"].count == 0 and db["actions"].count == 0


def test_quiz_answers_are_indexed_by_question_only(tmp_path: Path) -> None:
    """Each index is paid on every answer of a live quiz: all of them lead with the question."""
    db = open_db(tmp_path / "plan.db")
    indexes = {i.name: i.columns for i in db["quiz_answers"].indexes}
    assert indexes and all(columns[0] == "question_id" for columns in indexes.values())


def test_standings_and_name_clearing_seek_answers_by_question(tmp_path: Path) -> None:
    """What reads answers by event goes through the event's questions, not a table scan."""
    from bot.quiz import store

    db = open_db(tmp_path / "plan.db")
    db.execute("pragma foreign_keys = off")  # a result row of no event: only plans are read
    db["quiz_results"].insert(
        {
            "event_id": "quiz",
            "library_id": "central",
            "network": "telegram",
            "place": 1,
            "decided_at": "2026-01-01T00:00:00.000+00:00",
        }
    )
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    store.standings(db, "quiz", "telegram")
    assert store.forget_names(db, "central", datetime(2026, 6, 1, tzinfo=UTC)) == 0
    db.conn.set_trace_callback(None)
    queries = [q for q in seen if "quiz_answers" in q]
    assert len(queries) == 2
    for query in queries:
        plan = " | ".join(r[3] for r in db.execute("explain query plan " + query).fetchall())
        assert "SEARCH quiz_answers USING INDEX idx_quiz_answers_question_id" in plan, plan
        assert "SCAN quiz_answers" not in plan, plan
