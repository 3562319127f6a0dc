"""The configuration: parsed and validated once into frozen dataclasses.

Secrets never live in the file: it names environment variables, and
``library_tokens`` reads them when the bot starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from core import networks as registry
from core.errors import MissingSecret

TELEGRAM_API_URL = "https://api.telegram.org/bot"
VK_API_URL = "https://api.vk.ru/method/"
MAX_API_URL = "https://platform-api2.max.ru"  # platform-api.max.ru is the old domain
MAX_UPDATES = ("poll", "webhook")  # how MAX updates reach the bot
LANGUAGES = ("ru", "en")
GRACE_KINDS = ("publish", "reminder", "question")
NO_GRACE = ("snapshot", "community", "close", "results", "draw")
LIBRARY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}  # seconds in each
FOREVER = timedelta(days=36_600)  # a century: what a too big duration reads as


@dataclass(frozen=True)
class TelegramConfig:
    """A library's Telegram bot and the chats it posts to."""

    token_env: str
    chats: tuple[str, ...]
    api_url: str = TELEGRAM_API_URL
    # Telegram has no idempotency key: re-sending after an unknown outcome may double a post.
    resend_uncertain: bool = False
    timeout: float = 10.0  # seconds to wait for an answer before the outcome is unknown
    quiz_chat: str | None = None  # the group where live quizzes run
    staff: tuple[int, ...] = ()  # user ids who do not play (besides the admins)

    @property
    def post_targets(self) -> tuple[str, ...]:
        """Where posts go: the channels."""
        return self.chats

    @property
    def quiz_target(self) -> str | None:
        """Where live quizzes run, as an action's target."""
        return self.quiz_chat


@dataclass(frozen=True)
class VkConfig:
    """A library's VK community and the variables holding its tokens."""

    group_id: int
    user_token_env: str | None
    community_token_env: str | None
    api_url: str = VK_API_URL
    requests_per_second: float = 3.0
    timeout: float = 10.0
    quiz_chat: int | None = None  # peer_id of the community chat where live quizzes run
    staff: tuple[int, ...] = ()  # VK user ids who do not play
    admins: tuple[int, ...] = ()  # VK user ids who run the library from the community's messages

    @property
    def post_targets(self) -> tuple[str, ...]:
        """Where posts go: the community's wall."""
        return (str(self.group_id),)

    @property
    def quiz_target(self) -> str | None:
        """Where live quizzes run, as an action's target."""
        return str(self.quiz_chat) if self.quiz_chat else None

    @property
    def resend_uncertain(self) -> bool:
        """Never set: a repeated send carries the same idempotency key (guid, random_id)."""
        return False


@dataclass(frozen=True)
class MaxConfig:
    """A library's MAX bot, the channels it posts to and how its updates arrive."""

    token_env: str
    channels: tuple[str, ...]  # chat ids of the channels (negative numbers)
    api_url: str = MAX_API_URL
    timeout: float = 10.0
    # MAX has no idempotency key: re-sending after an unknown outcome may double a post.
    resend_uncertain: bool = False
    quiz_chat: str | None = None  # the group chat where live quizzes run
    staff: tuple[int, ...] = ()  # MAX user ids who do not play
    # "poll" (GET /updates, for the demo and small setups) or "webhook" (MAX's production
    # way: MAX posts to webhook_url, HTTPS on port 443, with the secret sent back).
    updates: str = "poll"
    webhook_url: str | None = None
    webhook_secret_env: str | None = None
    admins: tuple[int, ...] = ()  # MAX user ids who run the library from a dialog with the bot

    @property
    def post_targets(self) -> tuple[str, ...]:
        """Where posts go: the channels."""
        return self.channels

    @property
    def quiz_target(self) -> str | None:
        """Where live quizzes run, as an action's target."""
        return self.quiz_chat


@dataclass(frozen=True)
class WebhookConfig:
    """bibliobot's own HTTP server for webhooks, behind the library's HTTPS reverse proxy."""

    listen: str = "127.0.0.1:8088"  # host:port
    path_prefix: str = "/max/"  # a library's endpoint is this + its id

    @property
    def host(self) -> str:
        """Where the server listens: the address part of ``listen``."""
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        """The port part of ``listen``."""
        return int(self.listen.rsplit(":", 1)[1])

    def path(self, library_id: str) -> str:
        """The endpoint path of a library (``/max/central``)."""
        return self.path_prefix + library_id


@dataclass(frozen=True)
class LibraryConfig:
    """One library (or branch): its time zone, admins and networks."""

    id: str
    name: str
    timezone: ZoneInfo
    admins: tuple[int, ...] = ()  # Telegram user ids (VK's and MAX's are in their sections)
    telegram: TelegramConfig | None = None
    vk: VkConfig | None = None
    keep_names: timedelta = timedelta(days=30)  # players' names kept this long after a quiz
    short_name: str = ""  # for the report's sheet names; the reader defaults it to the id
    max: MaxConfig | None = None

    @property
    def networks(self) -> tuple[str, ...]:
        """Networks this library is connected to, in the registry's order."""
        return tuple(n for n in registry.names() if getattr(self, n, None) is not None)

    def settings(self, network: str) -> TelegramConfig | VkConfig | MaxConfig | None:
        """This library's section for ``network``; None if it is not connected there."""
        return getattr(self, network, None) if network in registry.names() else None


@dataclass(frozen=True)
class ScheduleConfig:
    """When late work still goes out, and when metrics are read."""

    misfire_grace: timedelta = timedelta(minutes=15)
    retry_deadline: timedelta = timedelta(hours=1)
    snapshot_after: tuple[timedelta, ...] = (
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(days=7),
    )
    grace_by_kind: tuple[tuple[str, timedelta], ...] = (("reminder", timedelta(minutes=5)),)
    refresh_every: timedelta = timedelta(seconds=30)
    community_snapshot_at: time | None = time(23, 50)  # daily members count; None: off

    def grace(self, kind: str) -> timedelta | None:
        """How late an action of ``kind`` may still go out; None: however late (metrics)."""
        if kind in NO_GRACE:  # metrics, closing and results are worth doing however late
            return None
        return dict(self.grace_by_kind).get(kind, self.misfire_grace)


PARTICIPATION_RULES = ("per_act", "per_person_per_event")


@dataclass(frozen=True)
class ReportRules:
    """How the 6-НК helper counts: settings, because practice differs between regions.

    Every report prints the values used, so a figure can be defended.
    """

    views_are_visits: bool = False  # add views (where a network shows them) to remote visits
    participation: str = "per_act"  # or "per_person_per_event": five answers of one reader = 1
    count_reminders_as_events: bool = False  # each reminder post is one more online event
    event_kinds: tuple[str, ...] = ()  # kinds that are online events for 6-НК; empty: every kind


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    path: Path
    storage: Path
    events_dir: Path
    language: str = "ru"
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    libraries: tuple[LibraryConfig, ...] = ()
    report: ReportRules = field(default_factory=ReportRules)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)

    def library(self, library_id: str) -> LibraryConfig | None:
        """The library with this id, or None."""
        return next((lib for lib in self.libraries if lib.id == library_id), None)


@dataclass(frozen=True)
class LibraryTokens:
    """The secrets of one library, read from the environment."""

    telegram: str | None = None
    vk_user: str | None = None
    vk_community: str | None = None
    max: str | None = None
    max_webhook_secret: str | None = None  # MAX sends it back in X-Max-Bot-Api-Secret


def library_tokens(library: LibraryConfig, env: Mapping[str, str] | None = None) -> LibraryTokens:
    """Read the tokens a library's config names; MissingSecret says which and what for."""
    env = os.environ if env is None else env

    def need(variable: str | None, purpose: str) -> str | None:
        if variable is None:
            return None
        value = env.get(variable, "").strip()
        if not value:
            raise MissingSecret(variable, purpose, library.id)
        return value

    tg, vk, mx = library.telegram, library.vk, library.max
    return LibraryTokens(
        telegram=need(tg and tg.token_env, "telegram"),
        vk_user=need(vk and vk.user_token_env, "vk_user"),
        vk_community=need(vk and vk.community_token_env, "vk_community"),
        max=need(mx and mx.token_env, "max"),
        max_webhook_secret=need(
            mx and mx.updates == "webhook" and mx.webhook_secret_env or None,
            "max_webhook",
        ),
    )


def parse_duration(value: object) -> timedelta | None:
    """'90s', '15m', '1h', '7d' (or whole seconds) → timedelta; anything else → None.

    A number too big for a timedelta ("99999999999d") reads as FOREVER, which is longer
    than the most any setting allows: each caller refuses it with its own bound.
    """
    found = _DURATION.match(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        seconds = value
    elif found and len(found.group(1)) <= 12:  # more digits: beyond any bound anyway
        seconds = int(found.group(1)) * _UNITS[found.group(2)]
    elif found:
        return FOREVER
    else:
        return None
    return timedelta(seconds=seconds) if seconds < FOREVER.total_seconds() else FOREVER


def say_duration(span: timedelta) -> str:
    """How a bound reads in a message, in the language in hand: "366 дней", "1 day"."""
    from core.tomlfile import say_span  # the words come from the message catalogue

    return say_span(span)
