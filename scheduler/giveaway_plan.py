"""A giveaway expanded into timed actions: its announcement, then its draw, per network.

The announcement is an action of its own kind (``giveaway``), not a plain post: when it
fires, the engine makes the secret seed and puts its commitment into the text, so the
commitment is fixed before anyone can enter. The draw (``draw``) comes at ``draw_at``
on each network, in the library's first channel or its community; each network draws its
own winners, since a reader's accounts on two networks cannot be linked.
"""

from __future__ import annotations

from core.config import Config, LibraryConfig
from core.errors import EventFileError
from core.model import ANNOUNCE, DRAW, MARK, PlannedAction, action_key
from core.texts import TextError, human_time, render_post
from scheduler.fields import Event
from scheduler.posting import check_length, targets

GIVEAWAY_KINDS = (ANNOUNCE, DRAW)
HEX_LENGTH = 64  # the commitment's length, which the text is checked with


def expand_giveaway(event: Event, config: Config, library: LibraryConfig) -> list:
    """The announcement and the draw of a giveaway on every network and target."""
    settings = event.giveaway  # type: ignore[attr-defined]
    context = {
        "title": event.title,
        "when": human_time(event.at, config.language),
        "library": library.name,
        "draw_when": human_time(settings.draw_at, config.language),
        "prizes": list(settings.prizes),
        "organiser": settings.organiser,
        "conditions": list(settings.conditions),
        "comment_word": settings.comment_word,
        "quiz": bool(settings.answers),
        "winners": settings.winners,
        "reserve": settings.reserve,
        "tell": settings.tell_winners,
        "exclude_staff": settings.exclude_staff,
        "recent_days": settings.exclude_recent_winners.days
        if settings.exclude_recent_winners
        else 0,
        "commitment": MARK,
    }
    actions = []
    for network in event.networks:
        try:
            text = render_post(ANNOUNCE, network, config.language, event.text_for(network), context)
        except TextError as exc:
            raise EventFileError(event.source, "text", str(exc)) from None
        check_length(event, network, text.replace(MARK, "0" * HEX_LENGTH))
        for target in targets(library, network)[:1]:  # one draw per network: the first channel
            announce_key = action_key(event.id, ANNOUNCE, network, target)
            payload = {"text": text, "image": str(event.image) if event.image else None}
            actions.append(
                PlannedAction(announce_key, ANNOUNCE, network, target, event.at, payload)
            )
            spec = settings.spec(event.title, announce_key).to_json()
            key = action_key(event.id, DRAW, network, target)
            actions.append(PlannedAction(key, DRAW, network, target, settings.draw_at, spec))
    return actions
