"""Migrations that keep counts fill them from what an older database already holds."""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from core.storage import migrations, open_db

STAMP = "2026-11-20T15:00:00.000+00:00"


def _older(path: Path) -> sqlite_utils.Database:
    """A database as the version before the kept counts left it."""
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m007_post_figures")
    db["libraries"].insert({"id": "lib", "name": "L", "timezone": "UTC", "paused": 0})
    db["events"].insert({"id": "lib/q", "library_id": "lib", "kind": "quiz", "title": "Q"})
    db["actions"].insert(
        {"id": 1, "key": "k", "event_id": "lib/q", "library_id": "lib", "kind": "publish"}
        | {"due_at": STAMP, "state": "sent"}
    )
    db["publications"].insert({"id": 7, "action_id": 1, "event_id": "lib/q", "library_id": "lib"})
    for value, at in ((10, STAMP), (25, "2026-11-21T15:00:00.000+00:00")):
        db["metric_samples"].insert(
            {"publication_id": 7, "library_id": "lib", "network": "vk", "target": "1"}
            | {"metric": "views", "value": value, "available": 1, "collected_at": at}
        )
    for number, closed in ((1, STAMP), (2, None)):  # the second is still open
        db["quiz_questions"].insert(
            {"id": number, "event_id": "lib/q", "library_id": "lib", "network": "telegram"}
            | {"target": "-1", "number": number, "mode": "live", "spec": json.dumps({})}
            | {"opened_at": STAMP, "closed_at": closed}
        )
        for person, correct in (("a", 1), ("b", 0), ("c", 1)):
            db["quiz_answers"].insert(
                {"question_id": number, "event_id": "lib/q", "library_id": "lib"}
                | {"network": "telegram", "number": number, "person": person}
                | {"correct": correct, "points": correct, "elapsed_ms": 1, "answered_at": STAMP}
            )
    for place, person in enumerate(("a", "c", "b"), start=1):
        db["quiz_results"].insert(
            {"event_id": "lib/q", "library_id": "lib", "network": "telegram", "place": place}
            | {"person": person, "points": 1, "correct": 1, "time_ms": 1, "winner": 1}
        )
    return db


def test_an_older_database_gets_its_counts_on_opening(tmp_path: Path) -> None:
    _older(tmp_path / "old.db")
    db = open_db(tmp_path / "old.db")
    assert db["post_figures"].get(7)["views"] == 25  # the latest reading
    first, second = db["quiz_questions"].rows_where(order_by="number")
    assert (first["answers"], first["correct"]) == (3, 2)
    assert second["answers"] is None  # open: still counted from its answers
    assert {r["person"]: r["answers"] for r in db["quiz_results"].rows} == {"a": 2, "b": 2, "c": 2}
