"""The one small interface every network adapter implements, and what crosses it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from core.errors import BadContent
from core.networks import network as registered

# What to call when a request of the action being carried out in this task leaves the
# machine (after any local rate-limit wait). Adapters whose repeats are not harmless
# (Telegram has no idempotency key) call it; a crash before it is known to have sent nothing.
dispatch_hook: ContextVar[Callable[[], None] | None] = ContextVar("dispatch_hook", default=None)


@contextmanager
def dispatching(hook: Callable[[], None] | None) -> Iterator[None]:
    """Within this block, requests that leave call ``hook`` first."""
    token = dispatch_hook.set(hook)
    try:
        yield
    finally:
        dispatch_hook.reset(token)


@dataclass(frozen=True)
class PollSpec:
    """A poll to attach: the question and options as the librarian wrote them."""

    question: str
    options: tuple[str, ...]
    multiple: bool = False
    closes_at: int | None = None  # unix time the poll closes by itself, if set
    anonymous: bool = True  # VK: a quiz poll is open, so votes name the player
    # Where the network has no native polls: the callback data of each option's button
    # (signed, one per option, in order); the votes come back as button presses.
    buttons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Post:
    """A post to publish: text (already rendered for the network), an optional image."""

    target: str  # chat id / @username for Telegram, community id for VK
    text: str
    image: Path | None = None
    guid: str = ""  # idempotency key derived from the action; VK honours it
    poll: PollSpec | None = None
    # Called just before the request leaves (after any local rate-limit wait), so a
    # crash before it is known to have sent nothing.
    on_dispatch: Callable[[], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Attachment:
    """A file sent to an admin with a notice: an image is shown, anything else is a file."""

    filename: str
    data: bytes = field(repr=False)
    is_image: bool = False


@dataclass(frozen=True)
class Published:
    """Where a post landed."""

    remote_id: str
    url: str
    poll_id: str | None = None
    poll_answers: tuple[str, ...] = ()  # VK: the ids of the poll's answers, in order


@dataclass(frozen=True)
class PostMetrics:
    """Counters of one publication; None means the platform does not show it."""

    remote_id: str
    views: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None
    deleted: bool = False
    reach: int | None = None
    poll_votes: tuple[int, ...] | None = None  # votes per option, in the options' order


@dataclass(frozen=True)
class Ask:
    """A quiz question put to readers, in the form the network and mode call for.

    style: "quiz_poll" (Telegram native quiz, players known), "anonymous_quiz_poll"
    (Telegram channel: totals only), "buttons" (inline / callback keyboard), "poll"
    (VK wall post with a poll), "text" (answers typed as messages or comments).
    """

    target: str
    text: str
    style: str = "text"
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()
    explanation: str = ""
    buttons: tuple[str, ...] = ()  # callback data of each option, for style "buttons"
    send: str = ""  # several right options: label of the button sending them (data: last)
    open_seconds: int | None = None  # Telegram open_period: the poll closes by itself
    image: Path | None = None
    guid: str = ""


@dataclass(frozen=True)
class PostRef:
    """One publication to measure: where it is and its id there (and its poll's, if any)."""

    target: str
    remote_id: str


@dataclass(frozen=True)
class PollRef:
    """One poll to count: where its post is and the poll's id."""

    target: str
    poll_id: str


@dataclass(frozen=True)
class FiguresPart:
    """Figures of one request, as its answer comes in.

    A publication or community the adapter cannot measure at all (a chat rather than a
    wall, say) is in none of the fields; one it tried and could not read is ``unread_*``.
    A community read whose answer has no members count is in ``members`` as None (stored
    as not available), in some part before the iterator ends.
    """

    counters: Mapping[PostRef, PostMetrics] = field(default_factory=dict)
    reach: Mapping[PostRef, int | None] = field(default_factory=dict)
    polls: Mapping[PollRef, tuple[int, ...] | None] = field(default_factory=dict)
    members: Mapping[str, int | None] = field(default_factory=dict)
    unread_posts: frozenset[PostRef] = frozenset()
    unread_polls: frozenset[PollRef] = frozenset()
    unread_communities: frozenset[str] = frozenset()


class Platform(Protocol):
    """One network for one library. Errors raised are those of ``core.errors``.

    What the network can do is in its registry entry (``core.networks``), looked up by
    ``network``; callers decide from those capabilities, never from the name.
    """

    network: str

    async def publish(self, post: Post) -> Published:
        """Publish ``post``; return its id and link."""
        ...

    def read_figures(
        self, posts: Sequence[PostRef], communities: Sequence[str], polls: Sequence[PollRef] = ()
    ) -> AsyncIterator[FiguresPart]:
        """Counters, poll votes and members, one part per request as answers come in.

        Only networks whose capabilities say ``metrics_from_api`` are asked; others yield
        members only (``audience_size``) and their counters come from the updates seen.
        """
        ...

    async def audience_size(self, target: str) -> int:
        """Members / subscribers of ``target`` now."""
        ...

    async def send_notice(
        self, user_id: int, text: str, attachment: Attachment | None = None
    ) -> None:
        """A private message to an admin (alerts, reports), with a file or image if given;
        Forbidden if the admin never wrote to the bot first."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class QuizPlatform(Platform, Protocol):
    """A network that can run quizzes and close polls (every adapter implements it)."""

    async def ask(self, ask: Ask) -> Published:
        """Put a question to readers; return where it is (and its poll id)."""
        ...

    async def stop_question(self, target: str, remote_id: str, style: str, text: str = "") -> None:
        """Stop taking answers on the platform's side (stop the poll, drop the buttons)."""
        ...

    async def say(self, target: str, text: str, guid: str = "") -> Published:
        """Post a plain message (standings, results) to ``target``."""
        ...

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the bot's own message (standings kept in place)."""
        ...

    async def stop_poll(self, target: str, remote_id: str, poll_id: str) -> tuple[int, ...] | None:
        """Close a poll; return its final votes per option when the platform tells them."""
        ...


# ---- what contests and giveaways hand the adapters ---------------------------------------


@dataclass(frozen=True)
class Media:
    """A reader's entry as their network keeps it: its kind and the file's reference."""

    kind: str | None  # "photo", "video", "text"; None: something else (a sticker, a file)
    ref: str = ""  # the network's own reference of the file ("" for a text)


@dataclass(frozen=True)
class ReplyTo:
    """Where a reader wrote, to answer them there: a chat (and the message in it to reply
    to), or their comment under a post. Stored as JSON with the entry it belongs to."""

    chat: int | str | None = None  # a private chat, or the chat of a comment
    message: int | None = None  # the message in ``chat`` answered, if any
    post: int | None = None  # the post a comment is under (with ``comment``)
    comment: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields set, as stored."""
        fields = {"chat": self.chat, "message": self.message}
        fields.update(post=self.post, comment=self.comment)
        return {key: value for key, value in fields.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ReplyTo:
        """As stored; rows written before this type named a VK private chat ``peer``."""
        data = data or {}

        def number(key: str) -> int | None:
            value = data.get(key)
            return int(value) if value is not None else None

        chat = data.get("chat", data.get("peer"))
        return cls(chat, number("message"), number("post"), number("comment"))


@dataclass(frozen=True)
class Choice:
    """One button under a message to an admin: its label and the data a press sends."""

    label: str
    data: str


@dataclass(frozen=True)
class Comment:
    """One comment under a post: its author (negative: a community), when, the text."""

    author: int
    date: int  # unix time
    text: str


@runtime_checkable
class ContestPlatform(QuizPlatform, Protocol):
    """A network that can run creative contests (capability ``contests``)."""

    async def post_entry(self, target: str, media: Media, text: str, guid: str) -> Published:
        """An entry as its own post: its file with ``text`` under it, or the text alone."""
        ...

    async def reply(self, where: ReplyTo, text: str, key: str, formatted: bool = False) -> None:
        """Answer a reader where they wrote; ``key`` makes a repeat harmless where the
        network allows; ``formatted``: ``text`` is in the network's markup."""
        ...

    async def chat_id(self, target: str) -> str:
        """``target`` as the updates name it (reaction totals are kept under it)."""
        ...


@runtime_checkable
class ModerationPlatform(Platform, Protocol):
    """A network whose admins decide with buttons (capability ``moderation_buttons``)."""

    async def ask_admin(
        self, admin: int, text: str, choices: Sequence[Choice], media: Media | None = None
    ) -> None:
        """A private message to an admin with a button per choice (and the entry's file)."""
        ...


@runtime_checkable
class GiveawayPlatform(QuizPlatform, Protocol):
    """A network that can hold giveaways (capability ``giveaway_entries``)."""

    async def reply(self, where: ReplyTo, text: str, key: str, formatted: bool = False) -> None:
        """Answer a reader where they wrote, or in private (``ReplyTo(chat=user id)``)."""
        ...

    async def members_among(self, target: str, user_ids: Iterable[int]) -> set[int]:
        """Which of ``user_ids`` are members of ``target`` now."""
        ...


@runtime_checkable
class EntrantsPlatform(GiveawayPlatform, Protocol):
    """A giveaway network whose API lists entrants (capability ``entrants_from_api``)."""

    async def comments(self, remote_id: str) -> list[Comment]:
        """Every comment under the library's post ``remote_id``."""
        ...

    async def likers(self, remote_id: str, reposts: bool = False) -> set[int]:
        """Who liked the post (or, with ``reposts``, reposted it)."""
        ...

    async def mentions(self, user_ids: Sequence[int]) -> dict[int, str]:
        """Each user as the network marks up a mention of them."""
        ...

    async def comment(self, target: str, remote_id: str, text: str) -> None:
        """A comment under the library's post, as the library."""
        ...


WAY = TypeVar("WAY")


def able(platform: Platform, way: type[WAY], what: str) -> WAY:
    """``platform`` as one that has ``way``; BadContent (naming ``what``) where it has not."""
    if not isinstance(platform, way):
        name = registered(platform.network).title("en")
        raise BadContent(f"{name}: {what} cannot be done here", platform.network)
    return platform
