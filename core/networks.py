"""The registry of networks: what each can do and its limits, as data.

The scheduler, the planner and the reports decide from these entries, never from a
network's name; the adapters (``bot/platforms``) register their class under the same
name. Adding a network is one entry here, one adapter, one stand-in and its templates.
Sources: the Telegram Bot API and VK API descriptions kept in ``specs/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Limits:
    """What one message or request may hold on the network."""

    text: int  # characters of a post without an image
    caption: int  # characters of a post under an image
    inline_buttons: int  # answer buttons a question keyboard may carry
    poll_options: int  # options of a native poll
    button_label: int  # characters of one button's label
    requests_per_second: float  # what one token may send; the adapter's limiter enforces it


@dataclass(frozen=True)
class Capabilities:
    """What the network lets a bot do or see."""

    # A repeat of a post with the same key cannot make a second post (an idempotency key),
    # so a post whose outcome is unknown is sent again instead of being marked uncertain.
    idempotent_posts: bool
    # The API reads a post's counters (views, likes, reposts) and a community's members;
    # where it does not, figures come from the updates the bot saw.
    metrics_from_api: bool
    views_readable: bool
    native_polls: bool
    # Native quiz polls that name the player (a poll with the right option marked).
    quiz_polls: bool
    # A quiz can run on the channel itself (answers as anonymous poll totals).
    channel_quizzes: bool
    # Formatting of rendered post texts: "html" or "text" (templates end .html.j2 / .txt.j2).
    markup: str
    # Admins are told of problems in a private chat with the bot (their ids in the config).
    admin_notices: bool
    # Whom a bot can list as a giveaway's entrants: those who "like", "repost", "comment"
    # (a "member" condition is checked of an entrant, but members cannot be listed).
    giveaway_entries: tuple[str, ...]
    # A poll in the channel (on the wall) names who voted, so a quiz there can be a poll;
    # where it cannot, a daily quiz goes to the quiz chat, if set (players known there).
    feed_polls_name_voters: bool = False
    # What the reports count and show of it: reaction totals whose readers a bot is never
    # told of (named reactions come as acts), whether a post's reposts can be read, and
    # the ER and ERR of its channel posts, the rates its librarians know.
    anonymous_reactions: bool = False
    reposts_readable: bool = True
    channel_rates: bool = False
    # Creative contests (entries, a gallery, voting by likes or a poll) can run here.
    contests: bool = True
    # A post's likes are read from the API (a contest's votes are its entry posts' likes);
    # where not, the votes are the anonymous reaction totals the updates brought.
    likes_readable: bool = False
    # A giveaway's entrants are listed by the API at the draw (comments, likes, reposts) and
    # winners named by it; else they are the comments the update intake kept, each with
    # where it was written (a winner not told in private is answered there).
    entrants_from_api: bool = False
    # Admins decide on contest entries in a private chat with the bot, with buttons.
    moderation_buttons: bool = False


@dataclass(frozen=True)
class Network:
    """One network as the rest of the code sees it."""

    name: str  # as written in config and event files
    titles: Mapping[str, str]  # how a person calls it, per language
    limits: Limits
    capabilities: Capabilities
    # Why a giveaway condition cannot be checked here (shown in an event-file error).
    unseen_entries: Mapping[str, str] = field(default_factory=dict)
    # Words of event-file errors and of a quiz question's stored spec ("where" it is asked):
    audience: str = "a community"  # whose members a bot cannot list ("a channel")
    post_noun: str = "a post"  # what a post without an image is ("a message", "a wall post")
    likes: str = "likes"  # what readers press under a post ("reactions"); "" if nothing
    chat_place: str = "chat"  # the quiz chat, as a question's "where"
    feed_place: str = "wall"  # the channel or the wall, as a question's "where"
    live_quiz_needs: str = ""  # why a live quiz needs the quiz chat (before ": set quiz_chat")
    # Words of reports: "on the network" in a sentence, per language (where missing, the
    # title: "Telegram reactions"), and where its column stands (lower first).
    titles_on: Mapping[str, str] = field(default_factory=dict)
    report_order: int = 0
    # Targets from this id on are chats (a community chat's peer id), not a channel or wall:
    # a report keeps them out of the rates per follower, whatever was asked there.
    chat_targets_from: int | None = None
    # A name marked up as a mention in the standings (group 1: the name shown), if any.
    mention: str = ""
    # A link to a reader's file by the network's reference of it (``{ref}``); "" where a
    # file cannot be linked (a bot's file id), so an admin elsewhere sees the text only.
    media_url: str = ""
    # How people write it besides its name and titles, one word each, in lower case (a
    # content plan's «Сети» cell: "вк, тг").
    words: tuple[str, ...] = ()

    def title(self, language: str = "ru") -> str:
        """The network's name for a reader of ``language``."""
        return self.titles.get(language) or self.titles["en"]

    def title_on(self, language: str = "ru") -> str:
        """How a sentence of ``language`` says "on the network" ("в Telegram")."""
        return self.titles_on.get(language) or self.title(language)


_REGISTRY: dict[str, Network] = {}


def register(network: Network) -> Network:
    """Add ``network`` to the registry (a name is registered once)."""
    if network.name in _REGISTRY:
        raise ValueError(f"network {network.name!r} is registered twice")
    _REGISTRY[network.name] = network
    return network


def network(name: str) -> Network:
    """The registered network called ``name``; KeyError if there is none."""
    return _REGISTRY[name]


def registry() -> Mapping[str, Network]:
    """Every registered network by name, in registration order."""
    return MappingProxyType(_REGISTRY)


def names() -> tuple[str, ...]:
    """The registered networks' names, in registration order."""
    return tuple(_REGISTRY)


def title(name: str, language: str = "ru") -> str:
    """How a person calls the network ``name``."""
    return network(name).title(language)


# ---- the registry's data ---------------------------------------------------------------

register(
    Network(
        name="telegram",
        titles={"ru": "Telegram", "en": "Telegram"},
        words=("телеграм", "телеграмм", "тг", "tg", "телега"),
        limits=Limits(
            text=4096,
            caption=1024,
            inline_buttons=100,
            poll_options=12,
            button_label=64,
            requests_per_second=30.0,
        ),
        capabilities=Capabilities(
            idempotent_posts=False,
            metrics_from_api=False,  # a bot sees reactions and replies, never views
            views_readable=False,
            native_polls=True,
            quiz_polls=True,
            channel_quizzes=True,
            markup="html",
            admin_notices=True,
            giveaway_entries=("comment",),
            anonymous_reactions=True,  # a channel's reactions come as totals only
            reposts_readable=False,  # forwards are not counted for a bot
            channel_rates=True,
            moderation_buttons=True,  # the admins' Approve / Reject under each entry
        ),
        unseen_entries={
            "like": "a bot does not see who reacted to a channel post",
            "repost": "a bot does not see who forwarded a channel post",
        },
        audience="a channel",
        post_noun="a message",
        likes="reactions",
        chat_place="group",
        feed_place="channel",
        live_quiz_needs="a live quiz needs a Telegram group",
        titles_on={"ru": "в Telegram"},
        report_order=2,
    )
)

register(
    Network(
        name="vk",
        titles={"ru": "ВКонтакте", "en": "VK"},
        words=("вк", "vkontakte"),
        limits=Limits(
            text=16_000,
            caption=16_000,
            inline_buttons=10,  # an inline keyboard: 10 buttons in at most 6 rows
            poll_options=10,
            button_label=40,
            requests_per_second=20.0,
        ),
        capabilities=Capabilities(
            idempotent_posts=True,  # wall.post guid, messages.send random_id
            metrics_from_api=True,
            views_readable=True,
            native_polls=True,
            quiz_polls=False,
            channel_quizzes=False,
            markup="text",
            admin_notices=False,  # the config's admin ids are Telegram users
            giveaway_entries=("like", "repost", "comment"),
            feed_polls_name_voters=True,  # a wall poll made for a quiz is open
            likes_readable=True,  # wall.getById: likes.count
            entrants_from_api=True,  # wall.getComments, likes.getList, groups.isMember
        ),
        media_url="https://vk.com/{ref}",  # photo-1_2, video-1_3 (with access keys)
        audience="a community",
        post_noun="a wall post",
        likes="likes",
        chat_place="chat",
        feed_place="wall",
        live_quiz_needs="a live quiz on VK needs a community chat",
        titles_on={"ru": "ВКонтакте"},
        report_order=1,
        chat_targets_from=2_000_000_000,  # peer ids of community chats
        mention=r"\[(?:id|club|public)\d+\|([^\]]*)\]",  # [id5|Ольга Петрова]
    )
)

register(
    Network(
        name="max",
        titles={"ru": "MAX", "en": "MAX"},
        words=("макс",),
        limits=Limits(
            text=4000,  # NewMessageBody.text maxLength (specs/max)
            caption=4000,  # an image is an attachment of the same message: same text
            inline_buttons=30,  # no official figure found for a keyboard's buttons
            poll_options=30,  # polls are buttons: as many as a keyboard carries
            button_label=128,  # Button.text maxLength (specs/max)
            requests_per_second=30.0,
        ),
        capabilities=Capabilities(
            idempotent_posts=False,  # POST /messages takes no idempotency key
            metrics_from_api=True,  # members (participants_count) and channel views
            views_readable=True,  # Message.stat.views of channel posts, GET /messages
            native_polls=False,  # a poll is a keyboard of buttons; votes are the presses
            quiz_polls=False,
            channel_quizzes=False,
            markup="html",  # format=html: b, i, a, code, pre, blockquote...
            admin_notices=False,  # the config's admin ids are Telegram users
            giveaway_entries=(),  # no giveaways on MAX yet
            contests=False,  # nor contests: no likes to vote with, entries not wired
            anonymous_reactions=False,  # the API exposes no reactions
            reposts_readable=False,
            channel_rates=False,
        ),
        audience="a channel",
        post_noun="a message",
        likes="",  # the API shows no likes or reactions under a post
        chat_place="group",
        feed_place="channel",
        live_quiz_needs="a live quiz on MAX needs a group chat",
        titles_on={"ru": "в MAX"},
        report_order=3,
    )
)
