"""Where a library posts on a network, and whether a rendered post fits there.

Every planner (posts, quizzes, giveaways, contests) asks these, so a text too long for
a network fails when the event file is read, not when it is due.
"""

from __future__ import annotations

import html
import re

from core import messages
from core.config import LibraryConfig
from core.errors import EventFileError
from core.networks import network
from scheduler.fields import Event

_TAG = re.compile(r"<[^>]+>")


def targets(library: LibraryConfig, name: str) -> tuple[str, ...]:
    """Where a library posts on the network ``name`` (none if it is not connected there)."""
    settings = library.settings(name)
    return settings.post_targets if settings else ()


def check_length(event: Event, name: str, text: str) -> None:
    """EventFileError when ``text``, rendered for the network ``name``, is longer than it takes."""
    found = network(name)
    # Markup does not count: a reader sees the text between the tags.
    html_markup = found.capabilities.markup == "html"
    visible = len(html.unescape(_TAG.sub("", text))) if html_markup else len(text)
    limits = found.limits
    if event.image and limits.caption < limits.text:
        limit, what = limits.caption, messages.text("events.what_caption")
    else:
        noun = "events.what_" + found.post_noun.replace(" ", "_")  # "a wall post": what_a_wall_post
        said_noun = messages.text(noun) if noun in messages.catalogue() else found.post_noun
        limit, what = limits.text, said_noun
    if visible > limit:
        field_name = f"text_by_network.{name}" if name in dict(event.text_by_network) else "text"
        said = messages.text(
            "events.post_too_long",
            network=found.title(messages.language()), count=visible, what=what, limit=limit,
        )  # fmt: skip
        raise EventFileError(event.source, field_name, said)
