"""What readers did, as the bots saw it: one row per act, under a pseudonymous id.

Reports count participants from these rows, so a reader's platform id never
leaves this module: ``pseudonym`` turns it into an HMAC under the library's own
secret (made once, kept in the database), stable for that library and useless
for linking people across libraries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

import sqlite_utils

from core.storage import to_db

KINDS = (
    "comment",
    "reply",
    "reaction",
    "vote",
    "like",
    "join",
    "leave",
    "message",
    "answer",
    "entry",
)


def library_secret(db: sqlite_utils.Database, library_id: str) -> bytes:
    """The library's pseudonymisation key, created on first use."""
    row = next(db["libraries"].rows_where("id = ?", [library_id]), None)
    if row is None or not row.get("secret"):
        with db.atomic():
            # A library with nothing planned yet has no row (its first upload signs buttons):
            # the plan fills in its name and zone when it plans.
            db["libraries"].insert({"id": library_id, "paused": 0}, ignore=True)
            db["libraries"].update(library_id, {"secret": secrets.token_hex(32)})
        row = db["libraries"].get(library_id)
    return bytes.fromhex(row["secret"])


def pseudonym(secret: bytes, network: str, user_id: int | str) -> str:
    """A stable pseudonymous id of a reader within one library."""
    digest = hmac.new(secret, f"{network}:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def find_publication(
    db: sqlite_utils.Database, network: str, target: str, remote_id: str
) -> dict | None:
    """The publication a reader acted on, by where it is and its platform id."""
    return next(
        db["publications"].rows_where(
            "network = ? and target = ? and remote_id = ?",
            [network, str(target), str(remote_id)],
            limit=1,
        ),
        None,
    )


def find_poll_publication(
    db: sqlite_utils.Database, network: str, target: str, poll_id: str
) -> dict | None:
    """The publication carrying a poll: VK poll ids are per community, Telegram's unique."""
    where, params = "network = ? and poll_id = ?", [network, str(poll_id)]
    if network != "telegram":
        where += " and target = ?"
        params.append(str(target))
    return next(db["publications"].rows_where(where, params, limit=1), None)


def record(
    db: sqlite_utils.Database,
    *,
    library_id: str,
    network: str,
    target: str,
    remote_id: str,
    kind: str,
    user_id: int | str,
    at: datetime,
    dedup: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Store one act (once: ``dedup`` is the platform's id of it); False if seen before.

    A vote whose post the reader of the updates did not know (it learns a poll's post from
    the post going out, and forgets it on a restart) is tied to the post by its poll id,
    so that reports count it once, with the poll's totals, and not also apart.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown interaction kind {kind!r}")
    publication = find_publication(db, network, target, remote_id)
    if publication is None and kind == "vote" and (detail or {}).get("poll_id") is not None:
        publication = find_poll_publication(db, network, target, str(detail["poll_id"]))
    row = {
        "library_id": library_id,
        "network": network,
        "target": str(target),
        "remote_id": str(remote_id),
        "publication_id": publication["id"] if publication else None,
        "kind": kind,
        "person": pseudonym(library_secret(db, library_id), network, user_id),
        "detail": json.dumps(detail or {}, ensure_ascii=False),
        "at": to_db(at),
        "dedup": dedup,
    }
    with db.atomic():
        cursor = db.execute(
            "insert or ignore into interactions (library_id, network, target, remote_id, "
            "publication_id, kind, person, detail, at, dedup) values "
            "(:library_id, :network, :target, :remote_id, :publication_id, :kind, :person, "
            ":detail, :at, :dedup)",
            row,
        )
    return cursor.rowcount == 1


def record_reaction_totals(
    db: sqlite_utils.Database, chat_id: str, message_id: str, totals: dict[str, int], at: datetime
) -> None:
    """Telegram's anonymous reaction totals of a message at one moment (append-only)."""
    with db.atomic():
        db["reaction_totals"].insert(
            {
                "chat_id": str(chat_id),
                "message_id": str(message_id),
                "totals": json.dumps(totals, ensure_ascii=False, sort_keys=True),
                "observed_at": to_db(at),
            }
        )


def latest_reactions(
    db: sqlite_utils.Database, chat_id: str, message_id: str
) -> dict[str, int] | None:
    """The last reaction totals seen for a message, or None if none arrived."""
    row = next(
        db["reaction_totals"].rows_where(
            "chat_id = ? and message_id = ?",
            [str(chat_id), str(message_id)],
            order_by="observed_at desc, id desc",
            limit=1,
        ),
        None,
    )
    return None if row is None else json.loads(row["totals"])


def get_offset(db: sqlite_utils.Database, source: str) -> int | None:
    """Where an update stream (a bot's getUpdates, a community's long poll) stopped."""
    # Plain SQL: this runs once per batch of updates, and sqlite-utils' table helpers
    # read the schema on every call.
    row = db.execute("select offset from update_offsets where source = ?", [source]).fetchone()
    return None if row is None else row[0]


def set_offset(db: sqlite_utils.Database, source: str, offset: int, at: datetime) -> None:
    """Remember where an update stream stopped."""
    with db.atomic():
        db.execute(
            "insert into update_offsets (source, offset, updated_at) values (?, ?, ?) "
            "on conflict(source) do update set offset = excluded.offset, "
            "updated_at = excluded.updated_at",
            [source, offset, to_db(at)],
        )


def record_poll_totals(
    db: sqlite_utils.Database, poll_id: str, totals: dict[str, int], at: datetime
) -> None:
    """Votes per option of a poll at one moment (Telegram ``poll`` updates; append-only)."""
    with db.atomic():
        db["poll_totals"].insert(
            {
                "poll_id": str(poll_id),
                "totals": json.dumps(totals, sort_keys=True),
                "observed_at": to_db(at),
            }
        )


def latest_poll_totals(db: sqlite_utils.Database, poll_id: str) -> dict[str, int] | None:
    """The last votes per option seen for a poll, or None if no update arrived."""
    row = next(
        db["poll_totals"].rows_where(
            "poll_id = ?", [str(poll_id)], order_by="observed_at desc, id desc", limit=1
        ),
        None,
    )
    return None if row is None else json.loads(row["totals"])


def participation(
    db: sqlite_utils.Database,
    *,
    library_id: str | None = None,
    event_id: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[int, int]:
    """(participations, unique people) from the bots' own records, across both networks.

    A participation is one recorded act (a comment, a vote, a reaction, …); people are
    counted once per network, as a reader's VK and Telegram accounts cannot be linked.
    Joins and leaves are membership, not participation, and are left out.
    """
    where = ["kind not in ('join', 'leave')"]
    params: list = []
    if library_id:
        where.append("library_id = ?")
        params.append(library_id)
    if event_id:
        where.append("publication_id in (select id from publications where event_id = ?)")
        params.append(event_id)
    if start:
        where.append("at >= ?")
        params.append(to_db(start))
    if end:
        where.append("at < ?")
        params.append(to_db(end))
    sql = (
        "select count(*), count(distinct network || ':' || person) from interactions where "
        + " and ".join(where)
    )
    total, unique = db.execute(sql, params).fetchone()
    return int(total), int(unique)
