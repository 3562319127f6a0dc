"""The plan: events expanded into timed actions, kept in the database.

``expand`` turns an event into planned actions (rendering its texts, so bad
texts fail at load time, not at posting time). ``apply_plan`` writes them in one
transaction: pending actions move, new ones appear, vanished pending ones go,
and sent ones are never touched again (a change to them is reported).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.config import Config, LibraryConfig
from bot.errors import EventFileError
from bot.platforms import telegram as tg_limits
from bot.platforms import vk as vk_limits
from bot.storage import PENDING, to_db
from bot.texts import human_time, render_post
from scheduler.clock import Clock
from scheduler.events import Event

PUBLISH, SNAPSHOT = "publish", "snapshot"
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PlannedAction:
    """One thing to do at one time: publish to a target, or read metrics."""

    key: str
    kind: str
    network: str
    target: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlanChange:
    """What applying an event's plan did."""

    event_id: str
    added: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)


def targets(library: LibraryConfig, network: str) -> tuple[str, ...]:
    """Where a library posts on ``network``."""
    if network == "telegram" and library.telegram:
        return library.telegram.chats
    if network == "vk" and library.vk:
        return (str(library.vk.group_id),)
    return ()


def expand(event: Event, config: Config) -> list[PlannedAction]:
    """The actions of an event; EventFileError if a rendered text breaks a limit."""
    library = config.library(event.library)
    assert library is not None  # load_event checked it
    context = {
        "title": event.title,
        "when": human_time(event.at, config.language),
        "library": library.name,
    }
    actions = []
    for network in event.networks:
        text = render_post(event.kind, network, config.language, event.text_for(network), context)
        _check_length(event, network, text)
        for target in targets(library, network):
            payload = {"text": text, "image": str(event.image) if event.image else None}
            key = f"{event.id}:{PUBLISH}:{network}:{target}"
            actions.append(PlannedAction(key, PUBLISH, network, target, event.at, payload))
    return actions


def _check_length(event: Event, network: str, text: str) -> None:
    if network == "telegram":
        visible = len(html.unescape(_TAG.sub("", text)))
        limit = tg_limits.CAPTION_LIMIT if event.image else tg_limits.TEXT_LIMIT
        what = "a caption under an image" if event.image else "a message"
    else:
        visible, limit, what = len(text), vk_limits.TEXT_LIMIT, "a wall post"
    if visible > limit:
        field_name = (
            f"text_by_network.{network}" if network in dict(event.text_by_network) else "text"
        )
        raise EventFileError(
            event.source,
            field_name,
            f"the {network} post is {visible} characters; {what} holds at most {limit}",
        )


def guid_for(key: str) -> str:
    """A stable idempotency key for an action (VK's wall.post guid)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def apply_plan(
    db: sqlite_utils.Database,
    config: Config,
    event: Event,
    actions: list[PlannedAction],
    clock: Clock,
) -> PlanChange:
    """Write an event and its actions in one transaction; sent actions stay as they are."""
    now = to_db(clock.now())
    library = config.library(event.library)
    assert library is not None
    change = PlanChange(event.id)
    with db.conn:
        db["libraries"].upsert(
            {
                "id": library.id,
                "name": library.name,
                "timezone": library.timezone.key,
                "paused": 0,
                "updated_at": now,
            },
            pk="id",
            alter=False,
        )
        db["events"].upsert(
            {
                "id": event.id,
                "library_id": event.library,
                "kind": event.kind,
                "title": event.title,
                "source": event.source,
                "digest": event.digest,
                "starts_at": to_db(event.at),
                "data": json.dumps(_event_data(event), ensure_ascii=False),
                "status": "active",
                "loaded_at": now,
            },
            pk="id",
        )
        existing = {
            row["key"]: row
            for row in db["actions"].rows_where("event_id = ? and kind = ?", [event.id, PUBLISH])
        }
        for action in actions:
            _apply_one(db, event, action, existing.pop(action.key, None), change, now)
        for key, row in existing.items():
            if row["state"] == PENDING:
                db["actions"].delete(row["id"])
                change.removed += 1
            else:
                change.conflicts.append(
                    f"{key}: already {row['state']}, no longer in the event file; left as it is"
                )
    return change


def _apply_one(
    db, event: Event, action: PlannedAction, row: dict | None, change: PlanChange, now: str
) -> None:
    due = to_db(action.due_at)
    payload = json.dumps(action.payload, ensure_ascii=False, sort_keys=True)
    if row is None:
        db["actions"].insert(
            {
                "key": action.key,
                "event_id": event.id,
                "library_id": event.library,
                "kind": action.kind,
                "network": action.network,
                "target": action.target,
                "due_at": due,
                "state": PENDING,
                "attempts": 0,
                "payload": payload,
                "created_at": now,
            }
        )
        change.added += 1
    elif row["due_at"] == due and row["payload"] == payload:
        change.unchanged += 1
    elif row["state"] == PENDING:
        db["actions"].update(row["id"], {"due_at": due, "payload": payload, "retry_at": None})
        change.moved += 1
    else:
        change.conflicts.append(
            f"{action.key}: already {row['state']}; the change is not applied to it"
        )


def plan_snapshots(
    db: sqlite_utils.Database,
    publication: dict,
    offsets: tuple[timedelta, ...],
    published_at: datetime,
    now: str,
) -> None:
    """Metric snapshot actions after a publication (inside the caller's transaction)."""
    for offset in offsets:
        seconds = int(offset.total_seconds())
        db["actions"].insert(
            {
                "key": f"{publication['event_id']}:{SNAPSHOT}:{publication['id']}:{seconds}",
                "event_id": publication["event_id"],
                "library_id": publication["library_id"],
                "kind": SNAPSHOT,
                "network": publication["network"],
                "target": publication["target"],
                "due_at": to_db(published_at + offset),
                "state": PENDING,
                "attempts": 0,
                "payload": json.dumps({"publication_id": publication["id"]}),
                "created_at": now,
            },
            ignore=True,
        )


def _event_data(event: Event) -> dict[str, Any]:
    return {
        "title": event.title,
        "text": event.text,
        "networks": list(event.networks),
        "at_local": event.at.replace(tzinfo=None).isoformat(),
        "image": str(event.image) if event.image else None,
    }
