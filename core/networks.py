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
    # Who a bot can list as a giveaway entrant: "member", "like", "repost", "comment".
    giveaway_entries: tuple[str, ...]


@dataclass(frozen=True)
class Network:
    """One network as the rest of the code sees it."""

    name: str  # as written in config and event files
    titles: Mapping[str, str]  # how a person calls it, per language
    limits: Limits
    capabilities: Capabilities
    # Why a giveaway condition cannot be checked here (shown in an event-file error).
    unseen_entries: Mapping[str, str] = field(default_factory=dict)

    def title(self, language: str = "ru") -> str:
        """The network's name for a reader of ``language``."""
        return self.titles.get(language) or self.titles["en"]


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
        ),
        unseen_entries={
            "like": "a bot does not see who reacted to a channel post",
            "repost": "a bot does not see who forwarded a channel post",
        },
    )
)

register(
    Network(
        name="vk",
        titles={"ru": "ВКонтакте", "en": "VK"},
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
            giveaway_entries=("member", "like", "repost", "comment"),
        ),
    )
)
