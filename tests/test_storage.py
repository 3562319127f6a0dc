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
