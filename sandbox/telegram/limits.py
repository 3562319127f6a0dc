"""Flood limits like Telegram's: 429 "Too Many Requests: retry after N" past them.

Telegram publishes no exact rule, only working figures: about 30 messages a second for a
bot overall, 20 a minute in one group or channel, about one a second in one private chat
(short bursts allowed). Each limit here is a leaky bucket — a burst of ``capacity``
messages, then one more every ``period / capacity`` seconds — the same model as
python-telegram-bot's ``AIORateLimiter`` (aiolimiter), so a bot that paces itself with it
never sees a 429, and one that does not gets one with the right ``retry_after``.

What counts: each message a sending method creates (an album counts every item, an
assumption) and edits of messages. Other methods are free. A call refused with any other
error counts nothing. Time is the stand-in's clock, so tests advance it instead of sleeping.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.telegram.errors import ApiError
from sandbox.telegram.params import Params
from sandbox.telegram.world import World

SENDING = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendPhoto",
        "sendVideo",
        "sendDocument",
        "sendMediaGroup",
        "sendPoll",
    )
)
EDITING = frozenset(
    name.lower() for name in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")
)
# Network jitter forgiven (the client's limiter and ours time the same calls a little apart):
# up to 50 ms, and never as much as half the interval between two messages.
SLACK = 0.05


@dataclass
class RateLimits:
    """The configuration; ``enabled`` is on by default, as on the platform."""

    enabled: bool = True
    per_second: float = 30
    per_chat_per_minute: float = 20
    per_private_chat_per_second: float = 1
    private_burst: int = 3


@dataclass
class _Bucket:
    capacity: float
    period: float
    level: float = 0.0
    at: float = 0.0

    def drain(self, now: float) -> None:
        self.level = max(0.0, self.level - max(0.0, now - self.at) * self.capacity / self.period)
        self.at = now

    def wait_for(self, amount: float) -> float:
        """Seconds until amount more fits (0 when it fits now)."""
        excess = self.level + amount - self.capacity
        return max(0.0, excess * self.period / self.capacity)


@dataclass
class FloodControl:
    """Buckets per bot and per chat; ``admit`` before a call, ``charge`` after it succeeds."""

    config: RateLimits = field(default_factory=RateLimits)
    buckets: dict[tuple[str, int], _Bucket] = field(default_factory=dict)

    def configure(self, config: RateLimits) -> None:
        """Apply a new configuration and forget what was counted."""
        self.config = config
        self.buckets.clear()

    def clear(self) -> None:
        """Forget what was counted (a reset of the stand-in)."""
        self.buckets.clear()

    def state(self) -> dict[str, Any]:
        """The configuration, JSON-ready."""
        return asdict(self.config)

    def cost(self, world: World, method: str, p: Params) -> tuple[list[_Bucket], float]:
        """The buckets a call draws on and how many messages it counts (none: free)."""
        if not self.config.enabled or (method not in SENDING and method not in EDITING):
            return [], 0.0
        try:
            chat = world.chat(p.chat_id())
        except ApiError:
            return [], 0.0  # the call fails anyway, with its own error
        amount = 1.0
        if method == "sendmediagroup":
            media = p.json("media")
            amount = float(len(media)) if isinstance(media, list) and media else 1.0
        buckets = [self._bucket("bot", 0, self.config.per_second, 1.0)]
        if chat.type == "private":
            rate, burst = self.config.per_private_chat_per_second, self.config.private_burst
            buckets.append(self._bucket("chat", chat.id, burst, burst / rate if rate else 0))
        else:
            buckets.append(self._bucket("chat", chat.id, self.config.per_chat_per_minute, 60.0))
        return [b for b in buckets if b.capacity > 0 and b.period > 0], amount

    def admit(self, buckets: list[_Bucket], amount: float, now: float) -> None:
        """Raise Telegram's 429 when any bucket has no room for amount messages now."""
        wait = 0.0
        for bucket in buckets:
            bucket.drain(now)
            needed = bucket.wait_for(min(amount, bucket.capacity))
            if needed > min(SLACK, bucket.period / bucket.capacity / 2):
                wait = max(wait, needed)
        if wait:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @staticmethod
    def charge(buckets: list[_Bucket], amount: float) -> None:
        """Count a call that went through."""
        for bucket in buckets:
            bucket.level += amount

    def _bucket(self, kind: str, key: int, capacity: float, period: float) -> _Bucket:
        bucket = self.buckets.get((kind, key))
        if bucket is None or (bucket.capacity, bucket.period) != (capacity, period):
            bucket = self.buckets[(kind, key)] = _Bucket(capacity, period)
        return bucket
