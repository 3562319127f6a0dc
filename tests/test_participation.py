"""Participation: acts and unique people from the bots' own records, per event and period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.fleet import seed_publications
from core.interactions import participation, pseudonym, record
from core.storage import open_db

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_participations_and_unique_people(tmp_path: Path) -> None:
    db = open_db(tmp_path / "p.db")
    seed_publications(db, "central", 7, [101, 102], T)
    acts = [  # (network, target, post, kind, user, days after T)
        ("vk", "7", "101", "comment", 1, 0),
        ("vk", "7", "101", "like", 1, 0),  # the same reader again: one person
        ("vk", "7", "101", "vote", 2, 1),
        ("vk", "7", "102", "comment", 3, 40),  # next month, another post
        ("telegram", "-100", "5", "reply", 1, 0),  # the same id on Telegram is another account
        ("vk", "7", "101", "join", 4, 0),  # membership, not participation
    ]
    for n, (network, target, post, kind, user, days) in enumerate(acts):
        record(
            db,
            library_id="central",
            network=network,
            target=target,
            remote_id=post,
            kind=kind,
            user_id=user,
            at=T + timedelta(days=days),
            dedup=f"act-{n}",
        )
    assert participation(db, library_id="central") == (5, 4)
    assert participation(db, event_id="central/archive") == (4, 3)  # only acts on its posts
    assert participation(db, start=T, end=T + timedelta(days=30)) == (4, 3)
    row = next(db["interactions"].rows)
    assert len(row["person"]) == 16  # a pseudonym, not the platform id
    assert row["person"] == pseudonym(
        bytes.fromhex(db["libraries"].get("central")["secret"]), "vk", 1
    )
