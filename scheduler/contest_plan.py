"""A contest expanded into timed actions.

Per network and target: the call post at ``at`` (a ``publish``, so it is measured like
any post); ``contest_gallery`` at ``gallery_at`` (a short intro post, then one
``contest_entry`` action per approved entry, created by the engine when it fires, since the
entries are not known when the plan is made); ``contest_tally`` at ``voting_until`` (the
votes of every entry post are read and stored); ``contest_results`` at ``results_at``.

The gallery's payload carries the contest's rules, so the update intakes learn from the
plan alone which contests take entries, until when, and of what kind.
"""

from __future__ import annotations

from collections.abc import Iterable

from core import messages
from core.config import Config, LibraryConfig
from core.errors import EventFileError
from core.model import (
    CONTEST_GALLERY,
    CONTEST_RESULTS,
    CONTEST_TALLY,
    PUBLISH,
    PlannedAction,
    action_key,
)
from core.texts import TextError, human_time, render_post
from scheduler.contest_events import ENTRY_TYPES, settings_of
from scheduler.fields import Event
from scheduler.posting import check_length, targets

# Planned from the file; entries (and the poll of them) come when the gallery is made.
CONTEST_KINDS = (CONTEST_GALLERY, CONTEST_TALLY, CONTEST_RESULTS)


def type_word(language: str, entry_type: str) -> str:
    """A kind of entry as the reader says it ("contest.type_<type>"); an unknown one as is."""
    if entry_type not in ENTRY_TYPES:
        return entry_type
    return messages.text_in(language, f"contest.type_{entry_type}")


def type_words(language: str, entry_types: Iterable[str]) -> str:
    """The kinds of entry a contest takes, as a list: "фото, текст"."""
    return ", ".join(type_word(language, t) for t in entry_types)


def rules_payload(event: Event) -> dict:
    """What the intake and the engine need to know of a contest, as stored in the plan."""
    settings = settings_of(event)
    return {
        "title": event.title,
        "opens_at": event.at.isoformat(),
        "entries_until": settings.entries_until.isoformat(),
        "gallery_at": settings.gallery_at.isoformat(),
        "voting_until": settings.voting_until.isoformat(),
        "results_at": settings.results_at.isoformat(),
        "types": list(settings.entry_types),
        "per_person": settings.entries_per_person,
        "winners": settings.winners,
        "keep_entries": int(settings.keep_entries.total_seconds()),
        "voting": settings.voting,
    }


def expand_contest(event: Event, config: Config, library: LibraryConfig) -> list:
    """The call post, the gallery, the tally and the results, for every network and target."""
    settings = settings_of(event)
    rules = rules_payload(event)
    language = config.language
    context = {
        "title": event.title,
        "when": human_time(event.at, language),
        "library": library.name,
        "until": human_time(settings.entries_until, language),
        "types": type_words(language, settings.entry_types),
        "per_person": settings.entries_per_person,
    }
    image = str(event.image) if event.image else None
    actions = []
    for network in event.networks:
        try:
            text = render_post("contest", network, language, event.text_for(network), context)
        except TextError as exc:
            raise EventFileError(event.source, "text", str(exc)) from None
        check_length(event, network, text)
        for target in targets(library, network):
            call = {"text": text, "image": image}
            key = action_key(event.id, PUBLISH, network, target)
            actions.append(PlannedAction(key, PUBLISH, network, target, event.at, call))
            for kind, due in (
                (CONTEST_GALLERY, settings.gallery_at),
                (CONTEST_TALLY, settings.voting_until),
                (CONTEST_RESULTS, settings.results_at),
            ):
                payload = dict(rules) if kind == CONTEST_GALLERY else {}
                key = action_key(event.id, kind, network, target)
                actions.append(PlannedAction(key, kind, network, target, due, payload))
    return actions
