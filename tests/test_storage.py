"""Storage: a plan change is all or nothing, even when it spans many sqlite-utils calls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.storage import open_db
from scheduler.clock import ManualClock
from scheduler.events import load_event
from scheduler.plan import apply_plan, expand
from tests.conftest import write_config, write_event


def test_a_failure_midway_leaves_no_half_applied_plan(tmp_path: Path, monkeypatch) -> None:
    config = load_config(write_config(tmp_path))
    event = load_event(write_event(tmp_path), config)
    actions = expand(event, config)
    db = open_db(tmp_path / "plan.db")
    inserted = []
    original = type(db["actions"]).insert

    def insert_then_fail(self, record, *args, **kwargs):
        if self.name == "actions" and inserted:
            raise RuntimeError("the process died here")
        inserted.append(record)
        return original(self, record, *args, **kwargs)

    monkeypatch.setattr(type(db["actions"]), "insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        apply_plan(db, config, event, actions, ManualClock(datetime(2026, 12, 1, tzinfo=UTC)))
    assert db["events"].count == 0 and db["actions"].count == 0
