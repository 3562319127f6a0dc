"""The coming plan as a librarian reads it: a list in local time, or a calendar file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from core import messages
from core.config import Config
from core.model import CLOSE, COMMUNITY, PUBLISH, QUESTION, REMINDER, RESULTS, SNAPSHOT
from core.networks import names, title
from core.storage import PENDING, SENDING, from_db, to_db
from scheduler.ics import CalendarEntry, calendar_bytes
from scheduler.plan import POSTS

# Kinds and states the plan names in words ("agenda.kind_<kind>", "agenda.state_<state>");
# any other (an engine's own action) is shown as stored.
KINDS = (PUBLISH, REMINDER, SNAPSHOT, QUESTION, CLOSE, RESULTS, COMMUNITY)
STATES = (PENDING, SENDING)


def kind_word(kind: str, language: str) -> str:
    """What a planned action is, as a librarian reads it ("публикация")."""
    return messages.text_in(language, f"agenda.kind_{kind}") if kind in KINDS else kind


def state_word(state: str, language: str) -> str:
    """A planned action's state, as a librarian reads it ("запланировано")."""
    return messages.text_in(language, f"agenda.state_{state}") if state in STATES else state


def _network(name: str) -> str:
    """The network's short name (the same in either language); an unknown one as stored."""
    return title(name, "en") if name in names() else name


@dataclass(frozen=True)
class AgendaItem:
    """One coming action, with its local time and what it is about."""

    key: str
    local: datetime
    state: str
    kind: str
    network: str
    target: str
    event_id: str
    title: str


def coming(
    db: sqlite_utils.Database,
    config: Config,
    now: datetime,
    days: int,
    library_id: str | None = None,
    posts_only: bool = False,
) -> list[AgendaItem]:
    """Open actions due within ``days`` (and any overdue ones), oldest first."""
    where = "due_at <= ? and state in ('pending', 'sending')"
    params: list = [to_db(now + timedelta(days=days))]
    if library_id:
        where += " and library_id = ?"
        params.append(library_id)
    zones = {lib.id: lib.timezone for lib in config.libraries}
    titles = {e["id"]: e["title"] for e in db["events"].rows}
    items = []
    for row in db["actions"].rows_where(where, params, order_by="due_at, id"):
        if posts_only and row["kind"] not in POSTS or row["library_id"] not in zones:
            continue
        local = from_db(row["due_at"]).astimezone(zones[row["library_id"]])
        items.append(
            AgendaItem(
                row["key"],
                local,
                row["state"],
                row["kind"],
                row["network"],
                row["target"],
                row["event_id"],
                titles.get(row["event_id"], ""),
            )
        )
    return items


def line(item: AgendaItem, language: str) -> str:
    """One line of ``bibliobot plan``."""
    kind = kind_word(item.kind, language)
    zone = item.local.tzinfo.key  # type: ignore[union-attr]
    network = _network(item.network)
    state = state_word(item.state, language)
    about = f"{item.title} [{item.event_id}]" if item.event_id else ""  # members counts
    return (
        f"{item.local:%Y-%m-%d %H:%M} {zone:<18} {state:<13} {kind:<13} {network:<8} {about}"
    ).rstrip()


def calendar(items: list[AgendaItem], language: str, name: str, now: datetime) -> bytes:
    """An iCalendar file with one event per coming post."""
    entries = [
        CalendarEntry(
            uid=item.key,
            start=item.local,
            summary=f"{item.title} — {kind_word(item.kind, language)}, {_network(item.network)}",
            description=f"{item.event_id} → {item.network} {item.target}",
            duration_minutes=15,
        )
        for item in items
    ]
    return calendar_bytes(entries, name, now=now)
