"""The librarian's decision on an entry: approve or reject, from the buttons or the CLI.

An entry can be decided, and decided again, until its network's gallery goes out; after
that the gallery shows what was approved, and a change would not match it.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from bot.contest import store
from core.errors import BibliobotError
from core.storage import to_db


class NoSuchEntry(BibliobotError):
    """The contest has no entry with that number."""


class GalleryOut(BibliobotError):
    """The gallery of the entry's network is out: its decision can no longer change."""


def decide(
    db: sqlite_utils.Database,
    event_id: str,
    number: int,
    approve: bool,
    by: str,
    now: datetime,
) -> dict:
    """Approve or reject entry ``number`` of a contest; returns the updated entry."""
    row = db.execute(
        "select id, network from contest_entries where event_id = ? and number = ?",
        [event_id, number],
    ).fetchone()
    if row is None:
        raise NoSuchEntry(f"{event_id}: no entry No. {number}")
    entry_id, network = row
    if store.gallery_out(db, event_id, network):
        raise GalleryOut(f"{event_id}: the {network} gallery is out; entry No. {number} stays")
    state = store.APPROVED if approve else store.REJECTED
    with db.atomic():
        db["contest_entries"].update(
            entry_id, {"state": state, "decided_at": to_db(now), "decided_by": by}
        )
    return db["contest_entries"].get(entry_id)
