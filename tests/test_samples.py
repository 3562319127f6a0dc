"""Samples and the posts' latest figures: stored together, never disagreeing."""

import sqlite3

import pytest

from core.samples import FIGURES, refresh, store_samples
from core.storage import open_db
from scheduler.snapshots import sample


def _post(db, pub_id: int) -> None:
    db["libraries"].insert({"id": "lib", "name": "L", "timezone": "UTC", "paused": 0})
    db["events"].insert({"id": "lib/e", "library_id": "lib", "kind": "announcement", "title": "E"})
    db["actions"].insert(
        {
            "id": 1,
            "key": "k",
            "event_id": "lib/e",
            "library_id": "lib",
            "kind": "publish",
            "due_at": "2026-11-01T09:00:00.000+00:00",
            "state": "sent",
        }
    )
    db["publications"].insert(
        {"id": pub_id, "action_id": 1, "event_id": "lib/e", "library_id": "lib"}
    )


def _figures(db, pub_id: int) -> dict:
    return {k: v for k, v in db["post_figures"].get(pub_id).items() if k in FIGURES}


def test_latest_reading_wins_even_when_an_older_one_arrives_later(tmp_path):
    db = open_db(tmp_path / "b.db")
    _post(db, 7)
    new = "2026-11-02T10:00:00.000+00:00"
    old = "2026-11-01T10:00:00.000+00:00"
    store_samples(db, [sample(7, "lib", "vk", "1", "views", 50, new)])
    store_samples(db, [sample(7, "lib", "vk", "1", "views", 10, old)])
    store_samples(db, [sample(7, "lib", "vk", "1", "likes", 3, old)])
    store_samples(db, [sample(7, "lib", "vk", "1", "reposts", None, new)])
    got = _figures(db, 7)
    assert got["views"] == 50 and got["likes"] == 3
    assert got["reposts"] is None and got["comments"] is None  # not shown is not zero
    assert db["post_figures"].get(7)["engagement"] == 3
    assert db["metric_samples"].count == 4  # the history keeps every reading


def test_members_counts_have_no_post_and_change_no_figures(tmp_path):
    db = open_db(tmp_path / "b.db")
    store_samples(db, [sample(None, "lib", "vk", "1", "members", 100, "2026-11-01T00:00:00+00:00")])
    assert db["metric_samples"].count == 1 and db["post_figures"].count == 0


def test_a_failed_write_leaves_neither_samples_nor_figures(tmp_path):
    db = open_db(tmp_path / "b.db")
    _post(db, 7)
    bad = sample(999, "lib", "vk", "1", "views", 5, "2026-11-01T00:00:00+00:00")  # no such post
    good = sample(7, "lib", "vk", "1", "views", 5, "2026-11-01T00:00:00+00:00")
    with pytest.raises(sqlite3.IntegrityError):
        store_samples(db, [good, bad])
    assert db["metric_samples"].count == 0 and db["post_figures"].count == 0


def test_refresh_of_everything_rebuilds_the_table_from_history(tmp_path):
    db = open_db(tmp_path / "b.db")
    _post(db, 7)
    store_samples(db, [sample(7, "lib", "vk", "1", "views", 9, "2026-11-01T00:00:00+00:00")])
    db.execute("delete from post_figures")
    refresh(db.conn)
    assert _figures(db, 7)["views"] == 9
