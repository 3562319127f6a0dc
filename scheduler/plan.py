"""The plan: events expanded into timed actions, kept in the database.

``expand`` turns an event into planned actions (rendering its texts, so bad
texts fail at load time, not at posting time). ``apply_plan`` writes them in one
transaction: pending actions move, new ones appear, vanished pending ones go,
and sent ones are never touched again. A change to them is reported: every one in
``PlanChange.conflicts`` (what ``bibliobot plan`` prints), and, when it comes from an
edit of the event file, as ``PlanChange.edits`` of the posts that went out (or may
have), which the running bot logs and tells the library's admins (``bot.problems``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from core import messages
from core.clock import Clock
from core.config import Config, LibraryConfig
from core.model import (
    CLOSE,
    COMMUNITY,
    PUBLISH,
    REMINDER,
    SNAPSHOT,
    PlannedAction,
    action_key,
)
from core.storage import CANCELLED, PENDING, SENDING, SENT, UNCERTAIN, to_db
from core.texts import PostFrame, human_time
from scheduler.contest_plan import CONTEST_KINDS, expand_contest
from scheduler.fields import Event
from scheduler.giveaway_plan import GIVEAWAY_KINDS, expand_giveaway
from scheduler.posting import check_length, targets
from scheduler.quiz_plan import QUIZ_KINDS, expand_poll_close, expand_quiz
from scheduler.recurrence import occurrences

POSTS = (PUBLISH, REMINDER)  # kinds that put something in front of readers
# Kinds an event file decides (re-planning compares them).
PLANNED = (*POSTS, *QUIZ_KINDS, *GIVEAWAY_KINDS, *CONTEST_KINDS)
SEEN = tuple(kind for kind in PLANNED if kind != CLOSE)  # kinds readers see
WENT_OUT = (SENT, SENDING, UNCERTAIN)  # states of an action that went out, or may have


@dataclass(frozen=True)
class NewSnapshot:
    """A metrics snapshot just planned after a publication: its action and when it is due."""

    action_id: int
    due_at: str  # as stored (``core.storage.to_db``)


@dataclass(frozen=True)
class SentEdit:
    """A post that went out (or may have) and that an edit of its event file would change."""

    key: str
    state: str
    network: str
    target: str
    changed: tuple[str, ...]  # "time", "text", "image", "content"; or ("removed",)


@dataclass
class PlanChange:
    """What applying an event's plan did."""

    event_id: str
    added: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    edits: list[SentEdit] = field(default_factory=list)  # only when the event file changed
    library_id: str = ""
    title: str = ""


def occurrence_times(event: Event) -> list[datetime]:
    """When the event happens: once, or every time its repeat rule gives."""
    return occurrences(event.at.replace(tzinfo=None), event.repeat, event.at.tzinfo)


def expand(event: Event, config: Config) -> list[PlannedAction]:
    """The actions of an event; EventFileError (in the config's language) if a rendered text
    breaks a limit."""
    with messages.use_language(config.language):
        return _expand(event, config)


def _expand(event: Event, config: Config) -> list[PlannedAction]:
    library = config.library(event.library)
    assert library is not None  # load_event checked it
    if event.kind == "quiz":
        return expand_quiz(event, config, library)
    if event.kind == "giveaway":
        return expand_giveaway(event, config, library)
    if event.kind == "contest":
        return expand_contest(event, config, library)
    times = occurrence_times(event)
    repeating = event.repeat is not None
    image = str(event.image) if event.image else None
    poll = _poll_payload(event)
    language = config.language
    frames = {network: PostFrame(event.kind, network, language) for network in event.networks}
    reminders = {network: PostFrame("reminder", network, language) for network in event.networks}
    actions = []
    for at in times:
        # A repeating event's actions are keyed by local date, so moving the time moves them.
        suffix = f":{at.date().isoformat()}" if repeating else ""
        context = {"title": event.title, "when": human_time(at, language), "library": library.name}
        for network in event.networks:
            text = frames[network].render(event.text_for(network), context)
            check_length(event, network, text)
            reminder = reminders[network].render("", context) if event.remind_before else None
            for target in targets(library, network):
                payload = {"text": text, "image": image}
                if poll:
                    payload["poll"] = poll
                key = action_key(event.id, PUBLISH, network, target) + suffix
                actions.append(PlannedAction(key, PUBLISH, network, target, at, payload))
                for before in event.remind_before:
                    key = action_key(event.id, REMINDER, network, target) + suffix
                    key += f":{int(before.total_seconds())}"
                    note = {"text": reminder, "image": None}
                    actions.append(PlannedAction(key, REMINDER, network, target, at - before, note))
    if event.kind == "poll" and event.repeat is None:
        actions += expand_poll_close(event, {n: targets(library, n) for n in event.networks})
    return actions


def _poll_payload(event: Event) -> dict | None:
    """What the adapters need to create the poll (closing time as unix seconds)."""
    if event.kind != "poll":
        return None
    closes = int(event.closes_at.timestamp()) if event.closes_at else None
    return {
        "question": event.question,
        "options": list(event.options),
        "multiple": event.multiple,
        "closes_at": closes,
    }


def apply_plan(
    db: sqlite_utils.Database,
    config: Config,
    event: Event,
    actions: list[PlannedAction],
    clock: Clock,
    file_digest: str | None = None,
) -> PlanChange:
    """Write an event and its actions in one transaction; sent actions stay as they are.

    ``file_digest`` (of the event file) tells an edit of the file from a change of the
    settings or the post frames: only the first makes ``edits`` (None: take it as an edit).
    """
    now = to_db(clock.now())
    library = config.library(event.library)
    assert library is not None
    change = PlanChange(event.id, library_id=event.library, title=event.title)
    with db.atomic():
        _upsert_library(db, library, now)
        known = (
            db["events"].get(event.id) if db["events"].count_where("id = ?", [event.id]) else None
        )
        if known and known["status"] == CANCELLED:
            change.conflicts.append(f"{event.id}: cancelled; changes to its file are ignored")
            return change
        data = _event_data(event)
        edited = _file_edited(known, data, file_digest)
        if file_digest:
            data["file"] = file_digest
        db["events"].upsert(
            {
                "id": event.id,
                "library_id": event.library,
                "kind": event.kind,
                "title": event.title,
                "source": event.source,
                "digest": event.digest,
                "starts_at": to_db(event.at),
                "data": json.dumps(data, ensure_ascii=False),
                "status": "active",
                "loaded_at": now,
            },
            pk="id",
        )
        existing = {row["key"]: row for row in _post_actions(db, event.id)}
        writes = _Writes()
        moment = clock.now()
        for action in actions:
            row = existing.pop(action.key, None)
            if row is None and action.kind == REMINDER and action.due_at < moment:
                continue  # a reminder whose time passed before the event was planned
            _apply_one(writes, event, action, row, change, now, edited)
        for key, row in existing.items():
            if row["state"] == PENDING:
                writes.deleted.append((row["id"],))
                change.removed += 1
            else:
                change.conflicts.append(
                    f"{key}: already {row['state']}, no longer in the event file; left as it is"
                )
                if edited:
                    _note_edit(change, row, ("removed",))
        writes.apply(db)
    return change


@dataclass
class _Writes:
    """An event's action rows to insert, move and delete, written in one go (executemany).

    One statement per kind of change instead of one per action: a series of a hundred
    occurrences costs three statements, not a hundred round trips through sqlite-utils.
    """

    inserted: list[tuple] = field(default_factory=list)
    moved: list[tuple] = field(default_factory=list)
    deleted: list[tuple] = field(default_factory=list)

    def apply(self, db: sqlite_utils.Database) -> None:
        """Write them, inside the caller's transaction."""
        conn = db.conn
        if self.inserted:
            conn.executemany(
                "insert into actions (key, event_id, library_id, kind, network, target, due_at, "
                "state, attempts, payload, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                self.inserted,
            )
        if self.moved:
            conn.executemany(
                "update actions set due_at = ?, payload = ?, retry_at = null where id = ?",
                self.moved,
            )
        if self.deleted:
            conn.executemany("delete from actions where id = ?", self.deleted)


def _file_edited(known: dict | None, data: dict[str, Any], file_digest: str | None) -> bool:
    """Whether the event file changed since the plan was last applied.

    The stored digest of the file says so; a plan stored before digests were kept is
    compared by what the file says (title, text, time, image, ...).
    """
    if known is None or file_digest is None:
        return True
    before = json.loads(known["data"] or "{}")
    if "file" in before:
        return before.pop("file") != file_digest
    return before != json.loads(json.dumps(data, ensure_ascii=False))


def _note_edit(change: PlanChange, row: dict, changed: tuple[str, ...]) -> None:
    """Keep a change to a post readers have seen (or may have), for the admins to hear of."""
    if row["state"] in WENT_OUT and row["kind"] in SEEN and changed:
        change.edits.append(
            SentEdit(row["key"], row["state"], row["network"], row["target"], changed)
        )


def _what_changed(row: dict, due: str, payload: dict[str, Any]) -> tuple[str, ...]:
    """What differs between a stored action and its new plan: time, text, image, content."""
    before = json.loads(row["payload"] or "{}")
    changed = ["time"] if row["due_at"] != due else []
    changed += [key for key in ("text", "image") if before.get(key) != payload.get(key)]
    others = (before.keys() | payload.keys()) - {"text", "image"}
    if any(before.get(key) != payload.get(key) for key in others):
        changed.append("content")
    return tuple(changed)


def cancel_event(db: sqlite_utils.Database, event_id: str, now: str, why: str) -> int:
    """Mark an event cancelled and its pending actions too; return how many were pending."""
    with db.atomic():
        db["events"].update(event_id, {"status": CANCELLED, "loaded_at": now})
        cursor = db.execute(
            "update actions set state = ?, finished_at = ?, error = ? "
            "where event_id = ? and state = ?",
            [CANCELLED, now, why, event_id, PENDING],
        )
    return cursor.rowcount


def set_paused(db: sqlite_utils.Database, library_id: str, paused: bool) -> None:
    """Pause or resume a library: its actions stay in the plan but do not fire."""
    with db.atomic():
        db["libraries"].update(library_id, {"paused": int(paused)})


def plan_community_snapshots(db: sqlite_utils.Database, config: Config, now: datetime) -> int:
    """A members count of every channel and community, daily at the configured local time."""
    added = 0
    if config.schedule.community_snapshot_at is None:
        return added
    with db.atomic():
        for library in config.libraries:
            _upsert_library(db, library, to_db(now))
            today = now.astimezone(library.timezone).date()
            for day in (today, today + timedelta(days=1)):
                at = datetime.combine(day, config.schedule.community_snapshot_at, library.timezone)
                if at <= now:
                    continue
                for network in library.networks:
                    for target in targets(library, network):
                        row = {
                            "key": f"{library.id}:{COMMUNITY}:{network}:{target}:{day.isoformat()}",
                            "event_id": None,
                            "library_id": library.id,
                            "kind": COMMUNITY,
                            "network": network,
                            "target": target,
                            "due_at": to_db(at),
                            "state": PENDING,
                            "attempts": 0,
                            "payload": "{}",
                            "created_at": to_db(now),
                        }
                        added += db["actions"].insert(row, ignore=True).last_rowid is not None
    return added


def _upsert_library(db: sqlite_utils.Database, library: LibraryConfig, now: str) -> None:
    """Insert or rename a library, keeping whether it is paused."""
    values = {"name": library.name, "timezone": library.timezone.key, "updated_at": now}
    if db["libraries"].count_where("id = ?", [library.id]):
        db["libraries"].update(library.id, values)
    else:
        db["libraries"].insert({"id": library.id, "paused": 0, **values})


def _post_actions(db: sqlite_utils.Database, event_id: str) -> list[dict]:
    marks = ", ".join("?" for _ in PLANNED)
    return list(
        db["actions"].rows_where(f"event_id = ? and kind in ({marks})", [event_id, *PLANNED])
    )


def _apply_one(
    writes: _Writes,
    event: Event,
    action: PlannedAction,
    row: dict | None,
    change: PlanChange,
    now: str,
    edited: bool = True,
) -> None:
    due = to_db(action.due_at)
    payload = json.dumps(action.payload, ensure_ascii=False, sort_keys=True)
    if row is None:
        writes.inserted.append(
            (
                action.key,
                event.id,
                event.library,
                action.kind,
                action.network,
                action.target,
                due,
                PENDING,
                payload,
                now,
            )
        )
        change.added += 1
    elif row["due_at"] == due and row["payload"] == payload:
        change.unchanged += 1
    elif row["state"] == PENDING:
        writes.moved.append((due, payload, row["id"]))
        change.moved += 1
    else:
        change.conflicts.append(
            f"{action.key}: already {row['state']}; the change is not applied to it"
        )
        if edited:
            _note_edit(change, row, _what_changed(row, due, json.loads(payload)))


def plan_snapshots(
    db: sqlite_utils.Database,
    publication: dict,
    offsets: tuple[timedelta, ...],
    published_at: datetime,
) -> list[NewSnapshot]:
    """Insert metric snapshot actions after a publication; return them, to arm."""
    created = []
    for offset in offsets:
        seconds = int(offset.total_seconds())
        due = to_db(published_at + offset)
        row = {
            "key": f"{publication['event_id']}:{SNAPSHOT}:{publication['id']}:{seconds}",
            "event_id": publication["event_id"],
            "library_id": publication["library_id"],
            "kind": SNAPSHOT,
            "network": publication["network"],
            "target": publication["target"],
            "due_at": due,
            "state": PENDING,
            "attempts": 0,
            "payload": json.dumps({"publication_id": publication["id"]}),
            "created_at": to_db(published_at),
        }
        table = db["actions"].insert(row, ignore=True)
        if table.last_rowid and db["actions"].get(table.last_rowid)["key"] == row["key"]:
            created.append(NewSnapshot(table.last_rowid, due))
    return created


def _event_data(event: Event) -> dict[str, Any]:
    return {
        "title": event.title,
        "text": event.text,
        "networks": list(event.networks),
        "at_local": event.at.replace(tzinfo=None).isoformat(),
        "image": str(event.image) if event.image else None,
        "question": event.question,
        "options": list(event.options),
        "mode": event.quiz.mode if event.quiz else None,
        "questions": len(event.questions),
    }
