"""The plan's domain model: planned actions, their kinds and their keys.

An action's key is ``{event id}:{kind}:{network}:{target}`` followed by what tells it
from its siblings (a question's number, a repeating event's date, a reminder's lead).
The planner makes actions; the runner, the engines and the reports read them by kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.platform import Published

# Posts, and the metrics read after them.
PUBLISH, REMINDER, SNAPSHOT, COMMUNITY = "publish", "reminder", "snapshot", "community"
# A quiz: each question, its close; then the results (a closing poll shares close and results).
QUESTION, CLOSE, RESULTS = "question", "close", "results"
# A giveaway: its announcement (the engine puts the seed's commitment in), then its draw.
ANNOUNCE, DRAW = "giveaway", "draw"
# A contest: the gallery's intro, each entry's post (made at the gallery), the poll of the
# entries, the votes counted, the results.
CONTEST_GALLERY, CONTEST_ENTRY, CONTEST_POLL = "contest_gallery", "contest_entry", "contest_poll"
CONTEST_TALLY, CONTEST_RESULTS = "contest_tally", "contest_results"

SETTLE = timedelta(seconds=2)  # answers sent just before a close are still on their way
MARK = "\u2060COMMITMENT\u2060"  # where a giveaway announcement's commitment goes once made


@dataclass(frozen=True)
class PlannedAction:
    """One thing to do at one time: publish to a target, ask, close, draw, read metrics."""

    key: str
    kind: str
    network: str
    target: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Handled:
    """What an action's handler did on the platform, and what to record of it.

    ``record`` is written together with the action's outcome and, like it, kept and
    written again while the database refuses it: what the platform took is never lost
    to a full disk (a question asked is opened to answers once it is stored).
    """

    published: Published | None
    record: Callable[[], None] | None = None


RETRYING = "retrying"  # an outcome that is not a state: the action is pending again, later


@dataclass(frozen=True)
class ActionOutcome:
    """What just became of one action: the runner tells its observers (the ``run`` command's
    lines, the admins' alerts) after the database has it.

    ``state`` is the action's new state (``sent``, ``failed``, ``uncertain``, ``missed``) or
    ``RETRYING`` (pending again until ``retry_at``); ``error`` is the platform's error by
    our vocabulary where one caused it.
    """

    action_id: int
    key: str
    kind: str
    library_id: str
    event_id: str
    network: str
    state: str
    at: datetime  # UTC
    reason: str = ""
    error: Exception | None = None
    url: str = ""
    retry_at: datetime | None = None


def action_key(event_id: str, kind: str, network: str, target: str) -> str:
    """The key of an event's action of ``kind`` on one target (siblings add a suffix)."""
    return f"{event_id}:{kind}:{network}:{target}"


def question_key(close_key: str) -> str:
    """The key of the question a close action closes (they differ only by the kind)."""
    return close_key.replace(f":{CLOSE}:", f":{QUESTION}:", 1)


def guid_for(key: str) -> str:
    """A stable idempotency key for an action (where the network honours one)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]
