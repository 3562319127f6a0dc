"""vk_api clients, one per token, paced by our own per-token limiter.

vk_api's built-in pacing sleeps between calls under a lock, one call at a time,
measured from the end of the previous answer. We pace by send time instead
(``SlidingWindowLimiter``), with publications ahead of metric reads, so a
token's whole allowance is used and posting is never held up by collection.
Every call of the client goes through it — including those VkUpload makes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import vk_api

from bot.platforms.ratelimit import POST, READ, SlidingWindowLimiter
from bot.platforms.vk_session import make_session

API_VERSION = "5.199"
_priority = threading.local()


class PacedVkApi(vk_api.VkApi):
    """A VkApi whose every call first waits for its token's limiter."""

    def __init__(
        self, token: str, api_url: str, limiter: SlidingWindowLimiter, timeout: float
    ) -> None:
        session = make_session(api_url, timeout)
        super().__init__(token=token, session=session, api_version=API_VERSION)
        self.RPS_DELAY = 0.0  # our limiter paces instead (by send time, with priorities)
        self.limiter = limiter
        # vk_api retries error 6 forever by itself; we want it as RetryLater instead.
        self.error_handlers.pop(6, None)

    def method(self, method: str, values: dict | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """Call ``method`` once the token may send (publications first)."""
        slot = self.limiter.acquire(getattr(_priority, "value", READ))
        try:
            return super().method(method, values, **kwargs)
        finally:
            self.limiter.release(slot)


def with_priority(priority: int, call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` run (in a worker thread) with its VK calls at ``priority``."""

    def run() -> Any:
        _priority.value = priority
        try:
            return call()
        finally:
            _priority.value = READ

    return run


class VkClients:
    """The clients of a process, shared by token: VK's limits are per token.

    Each token has a few lanes (clients) sharing one limiter: vk_api holds a lock for
    the whole of a call, so lanes let the requests of one rate window be in flight
    together instead of one after another.
    """

    LANES = 3

    def __init__(self) -> None:
        self._lanes: dict[tuple[str, str], list[PacedVkApi]] = {}

    def get(
        self, token: str | None, api_url: str, rate: float, timeout: float
    ) -> PacedVkApi | None:
        """The main client of ``token`` (created on first use), or None without a token."""
        lanes = self.lanes(token, api_url, rate, timeout)
        return lanes[0] if lanes else None

    def lanes(
        self, token: str | None, api_url: str, rate: float, timeout: float
    ) -> list[PacedVkApi]:
        """All clients of ``token``; they share its limiter."""
        if not token:
            return []
        key = (token, api_url)
        if key not in self._lanes:
            limiter = SlidingWindowLimiter(rate)
            lanes = [PacedVkApi(token, api_url, limiter, timeout) for _ in range(self.LANES)]
            self._lanes[key] = lanes
        return self._lanes[key]


__all__ = ["POST", "READ", "PacedVkApi", "VkClients", "with_priority"]
