"""Contest rows in the database: the contests the plan holds, entries and notices."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from core.model import CONTEST_ENTRY as ENTRY
from core.model import CONTEST_GALLERY as GALLERY
from core.model import CONTEST_POLL as POLL
from core.model import CONTEST_RESULTS as RESULTS
from core.storage import PENDING, to_db

APPROVED, REJECTED = "approved", "rejected"


@dataclass(frozen=True)
class Contest:
    """A contest as its plan tells it (the gallery action's payload)."""

    event_id: str
    library_id: str
    title: str
    opens_at: datetime
    entries_until: datetime
    gallery_at: datetime
    voting_until: datetime
    results_at: datetime
    types: tuple[str, ...]
    per_person: int
    winners: int
    keep_entries: int  # seconds
    voting: str = "likes"  # or "poll"

    @classmethod
    def from_row(cls, row: dict) -> Contest:
        rules = json.loads(row["payload"])
        return cls(
            event_id=row["event_id"],
            library_id=row["library_id"],
            title=rules["title"],
            opens_at=datetime.fromisoformat(rules["opens_at"]),
            entries_until=datetime.fromisoformat(rules["entries_until"]),
            gallery_at=datetime.fromisoformat(rules["gallery_at"]),
            voting_until=datetime.fromisoformat(rules["voting_until"]),
            results_at=datetime.fromisoformat(rules["results_at"]),
            types=tuple(rules["types"]),
            per_person=int(rules["per_person"]),
            winners=int(rules["winners"]),
            keep_entries=int(rules["keep_entries"]),
            voting=rules.get("voting", "likes"),
        )


def contests(db: sqlite_utils.Database, library_ids: list[str], network: str) -> list[Contest]:
    """Contests of these libraries on ``network`` that are in the plan and not cancelled."""
    if not library_ids:
        return []
    marks = ", ".join("?" for _ in library_ids)
    rows = db.execute(
        "select a.event_id, a.library_id, a.payload from actions a join events e "
        f"on e.id = a.event_id where a.kind = ? and a.network = ? and a.library_id in ({marks}) "
        "and e.status = 'active' group by a.event_id order by a.due_at",
        [GALLERY, network, *library_ids],
    ).fetchall()
    return [
        Contest.from_row(dict(zip(("event_id", "library_id", "payload"), r, strict=True)))
        for r in rows
    ]


def contest(db: sqlite_utils.Database, event_id: str) -> Contest | None:
    """One contest by its event id."""
    row = db.execute(
        "select event_id, library_id, payload from actions where event_id = ? and kind = ? limit 1",
        [event_id, GALLERY],
    ).fetchone()
    return (
        Contest.from_row(dict(zip(("event_id", "library_id", "payload"), row, strict=True)))
        if row
        else None
    )


def contest_of_post(
    db: sqlite_utils.Database, network: str, target: str, remote_id: str
) -> str | None:
    """The contest whose call post this is (a comment on it is an entry), if any."""
    row = db.execute(
        "select p.event_id from publications p join actions a on a.id = p.action_id "
        "join events e on e.id = p.event_id where e.kind = 'contest' and a.kind = 'publish' "
        "and p.network = ? and p.target = ? and p.remote_id = ?",
        [network, str(target), str(remote_id)],
    ).fetchone()
    return row[0] if row else None


def call_published(db: sqlite_utils.Database, event_id: str, network: str) -> bool:
    """Whether the call post went out on ``network``: entries are taken from then on."""
    return bool(
        db.execute(
            "select 1 from publications p join actions a on a.id = p.action_id "
            "where p.event_id = ? and p.network = ? and a.kind = 'publish' limit 1",
            [event_id, network],
        ).fetchone()
    )


def gallery_out(db: sqlite_utils.Database, event_id: str, network: str) -> bool:
    """Whether the gallery of ``network`` has fired (entries can no longer change state)."""
    return bool(
        db["actions"].count_where(
            "event_id = ? and network = ? and kind = ? and state != ?",
            [event_id, network, GALLERY, PENDING],
        )
    )


def entries(db: sqlite_utils.Database, event_id: str, network: str | None = None) -> list[dict]:
    """Entries of a contest in their order of arrival (of one network if given)."""
    where, params = "event_id = ?", [event_id]
    if network:
        where += " and network = ?"
        params.append(network)
    return list(db["contest_entries"].rows_where(where, params, order_by="number"))


def entry_posts(db: sqlite_utils.Database, event_id: str, network: str) -> list[dict]:
    """Each entry post that went out: the entry id, the target and the post id."""
    rows = db.execute(
        "select a.payload, p.target, p.remote_id from actions a join publications p "
        "on p.action_id = a.id where a.event_id = ? and a.network = ? and a.kind = ?",
        [event_id, network, ENTRY],
    ).fetchall()
    return [
        {"entry_id": json.loads(payload)["entry_id"], "target": target, "remote_id": remote}
        for payload, target, remote in rows
    ]


def poll_posts(db: sqlite_utils.Database, event_id: str, network: str) -> list[dict]:
    """Each poll of the finalists that went out: target, post id, poll id, its entry ids."""
    rows = db.execute(
        "select a.payload, p.target, p.remote_id, p.poll_id from actions a join publications p "
        "on p.action_id = a.id where a.event_id = ? and a.network = ? and a.kind = ?",
        [event_id, network, POLL],
    ).fetchall()
    return [
        {"entries": json.loads(payload)["entries"], "target": t, "remote_id": r, "poll_id": poll}
        for payload, t, r, poll in rows
    ]


def add_notice(
    db: sqlite_utils.Database,
    library_id: str,
    network: str,
    kind: str,
    payload: dict,
    dedup: str,
    now: datetime,
) -> bool:
    """Queue a message for ``ContestEngine.deliver``; False if that one is queued already."""
    row = {
        "library_id": library_id,
        "network": network,
        "kind": kind,
        "payload": json.dumps(payload, ensure_ascii=False),
        "created_at": to_db(now),
        "attempts": 0,
        "dedup": dedup,
    }
    if noticed(db, dedup):
        return False
    db["contest_notices"].insert(row)
    return True


def noticed(db: sqlite_utils.Database, dedup: str) -> bool:
    """Whether a notice with this key is queued (or sent) already."""
    return bool(db["contest_notices"].count_where("dedup = ?", [dedup]))


def results_done(db: sqlite_utils.Database, event_id: str) -> str | None:
    """When the contest's results went out (the first results action), if they did."""
    row = db.execute(
        "select min(finished_at) from actions where event_id = ? and kind = ? and state = 'sent'",
        [event_id, RESULTS],
    ).fetchone()
    return row[0] if row else None
