"""The one small interface every network adapter implements, and what crosses it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class PollSpec:
    """A poll to attach: the question and options as the librarian wrote them."""

    question: str
    options: tuple[str, ...]
    multiple: bool = False
    closes_at: int | None = None  # unix time the poll closes by itself, if set


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
class Published:
    """Where a post landed."""

    remote_id: str
    url: str
    poll_id: str | None = None


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


class Platform(Protocol):
    """One network for one library. Errors raised are those of ``bot.errors``."""

    network: str

    async def publish(self, post: Post) -> Published:
        """Publish ``post``; return its id and link."""
        ...

    async def post_metrics(self, target: str, remote_ids: list[str]) -> list[PostMetrics]:
        """Current counters of many publications in ``target``, batched as the API allows."""
        ...

    async def audience_size(self, target: str) -> int:
        """Members / subscribers of ``target`` now."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
