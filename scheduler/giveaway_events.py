"""Giveaway event files (``kind = "giveaway"``): the announcement, the conditions, the draw.

``parse_giveaway`` reads it (see ``scheduler.events.PARSERS``). What a network does not
let a bot check is refused here, one line naming the condition and the network, never
skipped at the draw: the registry (``core.networks``) says whom a bot can list as entrants
there (``giveaway_entries``) and which conditions it cannot see (``unseen_entries``); a
bot can list no network's members, so "member" is checked of entrants found otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.config import LibraryConfig, parse_duration
from core.giveaway_model import GiveawaySpec
from core.matching import normalize
from core.messages import catalogue, language, text
from core.networks import network as network_of
from core.tomlfile import or_join
from scheduler.fields import Announcement, Fields, announcement, local_time, on_able_networks

CONDITIONS = ("member", "like", "repost", "comment")
TELLS = ("reply", "message")  # winners told in a reply under the results, or privately
GIVEAWAY_KEYS = (
    *("kind", "library", "title", "text", "at", "networks", "image", "text_by_network"),
    *("draw_at", "winners", "reserve", "conditions", "comment_word"),
    *("answers", "exclude_staff", "exclude_recent_winners", "prizes", "organiser"),
    "tell_winners",
)
MAX_WINNERS, MAX_RESERVE = 100, 100
LONGEST = timedelta(days=90)


@dataclass(frozen=True)
class GiveawaySettings:
    """How a giveaway is drawn; the same for every network it runs on."""

    draw_at: datetime
    winners: int = 1
    reserve: int = 0
    conditions: tuple[str, ...] = ("comment",)
    comment_word: str = ""
    answers: tuple[str, ...] = ()
    exclude_staff: bool = True
    exclude_recent_winners: timedelta | None = None
    prizes: tuple[str, ...] = ()
    organiser: str = ""
    tell_winners: str = "reply"

    def spec(self, title: str, announce_key: str) -> GiveawaySpec:
        """What the draw of the announcement ``announce_key`` carries."""
        recent = self.exclude_recent_winners
        return GiveawaySpec(
            title=title,
            announce_key=announce_key,
            winners=self.winners,
            reserve=self.reserve,
            conditions=self.conditions,
            comment_word=self.comment_word,
            answers=self.answers,
            exclude_staff=self.exclude_staff,
            exclude_recent_days=recent.total_seconds() / 86400 if recent else None,
            tell_winners=self.tell_winners,
            prizes=self.prizes,
        )


@dataclass(frozen=True)
class Giveaway(Announcement):
    """A giveaway: its announcement, and how the draw goes."""

    giveaway: GiveawaySettings | None = None


def parse_giveaway(fields: Fields, library: LibraryConfig) -> Giveaway:
    """A giveaway: the announcement (rules, commitment), then the draw at ``draw_at``."""
    fields.refuse_unknown(GIVEAWAY_KEYS, text("events.in_giveaway"))
    base = on_able_networks(
        fields,
        announcement(fields, library),
        lambda n: bool(n.capabilities.giveaway_entries),
        text("events.a_giveaway"),
    )
    data = fields.data
    draw_at = local_time(fields, "draw_at", library)
    if not timedelta(seconds=5) <= draw_at - base.at <= LONGEST:
        raise fields.fail("draw_at", text("events.draw_at"))
    conditions = _conditions(fields, base.networks)
    word = fields.text_field("comment_word", required=False, limit=100) or ""
    answers = _texts(fields, "answers", 20, 200)
    if (word or answers) and "comment" not in conditions:
        key = "comment_word" if word else "answers"
        raise fields.fail(key, text("events.needs_comment"))
    if word and answers:
        raise fields.fail("answers", text("events.word_or_answers"))
    if word and not normalize(word):
        raise fields.fail("comment_word", text("events.no_letters"))
    recent = None
    if "exclude_recent_winners" in data:
        recent = parse_duration(data["exclude_recent_winners"])
        if recent is None or recent <= timedelta(0) or recent > timedelta(days=366):
            raise fields.fail("exclude_recent_winners", text("events.recent_winners"))
    tell = data.get("tell_winners", "reply")
    if tell not in TELLS:
        raise fields.fail("tell_winners", text("events.one_of", choices=", ".join(TELLS)))
    exclude_staff = data.get("exclude_staff", True)
    if not isinstance(exclude_staff, bool):
        raise fields.fail("exclude_staff", text("events.true_or_false"))
    settings = GiveawaySettings(
        draw_at=draw_at,
        winners=fields.whole("winners", 1, 1, MAX_WINNERS),
        reserve=fields.whole("reserve", 0, 0, MAX_RESERVE),
        conditions=conditions,
        comment_word=word,
        answers=answers,
        exclude_staff=exclude_staff,
        exclude_recent_winners=recent,
        prizes=_texts(fields, "prizes", 20, 200, required=True),
        organiser=fields.text_field("organiser", required=False, limit=300) or library.name,
        tell_winners=tell,
    )
    fields_base = {f: getattr(base, f) for f in base.__dataclass_fields__}
    return replace(Giveaway(**fields_base), kind="giveaway", giveaway=settings)


def _conditions(fields: Fields, networks: tuple[str, ...]) -> tuple[str, ...]:
    raw = fields.data.get("conditions")
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise fields.fail("conditions", text("events.conditions_form"))
    for condition in raw:
        if condition not in CONDITIONS:
            raise fields.fail(
                "conditions",
                text(
                    "events.unknown_condition", value=repr(condition), known=", ".join(CONDITIONS)
                ),
            )
    if len(set(raw)) != len(raw):
        raise fields.fail("conditions", text("events.condition_twice"))
    for name in networks:
        network = network_of(name)
        title = network.title(language())
        for condition in raw:
            if condition in network.unseen_entries:
                why = _words(f"events.unseen_{name}_{condition}", network.unseen_entries[condition])
                raise fields.fail(
                    "conditions",
                    text("events.unseen", condition=condition, network=title, why=why),
                )
        entries = network.capabilities.giveaway_entries
        if not set(raw) & set(entries):
            listed = or_join(f"`{c}`" for c in entries)
            audience = _words(f"events.members_of_{name}", f"{network.audience}'s members")
            raise fields.fail(
                "conditions",
                text("events.entrants_by", network=title, listed=listed, audience=audience),
            )
    return tuple(c for c in CONDITIONS if c in raw)


def _texts(
    fields: Fields, key: str, most: int, limit: int, required: bool = False
) -> tuple[str, ...]:
    raw = fields.data.get(key)
    if raw is None:
        if required:
            raise fields.fail(key, text("events.texts_required", key=key))
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not 1 <= len(raw) <= most:
        raise fields.fail(key, text("events.texts_count", most=most))
    items = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, str) or not item.strip():
            raise fields.fail(key, text("events.item_empty", number=number))
        if len(item.strip()) > limit:
            raise fields.fail(key, text("events.item_too_long", number=number, limit=limit))
        items.append(item.strip())
    return tuple(items)


def _words(key: str, english: str) -> str:
    """A network's own words (why a condition is unseen, whose members) from the catalogue;
    the registry's English words for a network the catalogue does not name yet."""
    entry = catalogue().get(key)
    return entry.get(language(), english) if entry else english
