"""Contest event files (``kind = "contest"``): a call for entries, moderation, a gallery,
voting by likes / reactions and the results.

``parse_contest`` reads it (see ``scheduler.events.PARSERS``). The call post is an
announcement at ``at``; after it come, in this order, ``entries_until`` (the last moment an
entry counts), ``gallery_at`` (each approved entry is posted), ``voting_until`` (votes are
counted) and ``results_at`` (the results post; winners are told).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.config import LibraryConfig, parse_duration
from core.messages import catalogue, language, text
from core.networks import registry
from scheduler.fields import Announcement, Fields, announcement, local_time, on_able_networks

ENTRY_TYPES = ("photo", "video", "text")
VOTING = ("likes", "poll")  # likes / reactions on each entry's post, or a poll of them
MAX_POLL_DAYS = 30  # a native poll closes by itself at most about a month after sending
CONTEST_KEYS = (
    *("kind", "library", "title", "text", "at", "networks", "image", "text_by_network"),
    *("entries_until", "gallery_at", "voting_until", "results_at"),
    *("entry_types", "entries_per_person", "winners", "voting", "keep_entries"),
)
MAX_ENTRIES_PER_PERSON = 10
LONGEST = timedelta(days=180)  # from the call to the results
LONGEST_KEEP = timedelta(days=3 * 366)


@dataclass(frozen=True)
class ContestSettings:
    """How a contest runs; every time is aware, in the library's zone."""

    entries_until: datetime
    gallery_at: datetime
    voting_until: datetime
    results_at: datetime
    entry_types: tuple[str, ...] = ENTRY_TYPES
    entries_per_person: int = 1
    winners: int = 3
    voting: str = "likes"
    keep_entries: timedelta = timedelta(days=90)


@dataclass(frozen=True)
class ContestEvent(Announcement):
    """A contest: the call post (as an announcement) and how the contest runs."""

    contest: ContestSettings | None = None


def parse_contest(fields: Fields, library: LibraryConfig) -> ContestEvent:
    """The call post and the contest's times and rules."""
    fields.refuse_unknown(CONTEST_KEYS, text("events.in_contest"))
    if "repeat" in fields.data:
        raise fields.fail("repeat", text("events.contest_once"))
    base = on_able_networks(
        fields,
        announcement(fields, library),
        lambda n: n.capabilities.contests,
        text("events.a_contest"),
    )
    times = {}
    before, before_key = base.at, "at"
    for key in ("entries_until", "gallery_at", "voting_until", "results_at"):
        moment = local_time(fields, key, library)
        strict = key in ("entries_until", "voting_until")
        if moment < before or (strict and moment == before):
            if strict:
                raise fields.fail(key, text("events.after", key=before_key))
            raise fields.fail(key, text("events.at_or_after", key=before_key))
        times[key] = moment
        before, before_key = moment, key
    if times["results_at"] - base.at > LONGEST:
        raise fields.fail("results_at", text("events.contest_days"))
    types = fields.data.get("entry_types", list(ENTRY_TYPES))
    if (
        not isinstance(types, list)
        or not types
        or any(t not in ENTRY_TYPES for t in types)
        or len(set(types)) != len(types)
    ):
        raise fields.fail("entry_types", text("events.entry_types"))
    voting = fields.data.get("voting", "likes")
    if voting not in VOTING:
        raise fields.fail("voting", text("events.voting", likes=_likes()))
    if voting == "poll" and times["voting_until"] - times["gallery_at"] > timedelta(
        days=MAX_POLL_DAYS
    ):
        raise fields.fail("voting_until", text("events.poll_days", days=MAX_POLL_DAYS))
    keep = fields.data.get("keep_entries", "90d")
    kept = parse_duration(keep) if isinstance(keep, str) else None
    if kept is None or not timedelta(days=1) <= kept <= LONGEST_KEEP:
        raise fields.fail("keep_entries", text("events.keep_entries"))
    settings = ContestSettings(
        **times,
        entry_types=tuple(t for t in ENTRY_TYPES if t in types),
        entries_per_person=fields.whole("entries_per_person", 1, 1, MAX_ENTRIES_PER_PERSON),
        winners=fields.whole("winners", 3, 1, 20),
        voting=voting,
        keep_entries=kept,
    )
    return ContestEvent(**{**_fields_of(base), "kind": "contest", "contest": settings})


def _fields_of(base: Announcement) -> dict:
    return {name: getattr(base, name) for name in base.__dataclass_fields__}


def _likes() -> str:
    """What "likes" are on each network: "likes on …, reactions on …" (by the word)."""
    pressed = sorted((net.likes, net.name) for net in registry().values() if net.likes)
    said = []
    for word, name in pressed:
        entry = catalogue().get(f"events.likes_on_{name}")  # the network's own word, if known
        said.append(entry[language()] if entry else f"{word} on {registry()[name].title('en')}")
    return ", ".join(said)


def settings_of(event: Announcement) -> ContestSettings:
    """The contest settings of a contest event (``replace`` keeps the subclass)."""
    settings = getattr(event, "contest", None)
    assert isinstance(settings, ContestSettings), event.id
    return settings
