"""A per-token request limiter for synchronous clients (vk_api), with priorities.

VK allows about 3 requests per second per user token (20 per community token)
and answers error 6 beyond that, counting requests when they *arrive*. We cannot
see arrival, only when we let a request go and when its answer came back, and a
request may reach VK a little after we let it go (a new connection, a busy
interpreter). So a request's one-second window starts when its answer is back,
or ``LEAVE_WITHIN`` after we let it go, whichever is first: it has surely arrived
by then. A waiting publication always goes before a waiting metrics read:
collecting numbers never delays a post.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

POST, READ = 0, 1  # priorities: lower goes first
LEAVE_WITHIN = 0.25  # seconds; seen here: up to 55 ms for a first request on a new connection


class Slot:
    """One request's place in the window, timed from when it surely reached the platform."""

    __slots__ = ("arrived",)

    def __init__(self, started: float) -> None:
        self.arrived = started + LEAVE_WITHIN


class SlidingWindowLimiter:
    """At most ``rate`` requests in any ``window`` seconds, by priority then arrival."""

    def __init__(
        self, rate: float, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # A fractional rate (2.5/s) keeps its average: 2 requests per 0.8 s.
        self.capacity = max(1, int(rate * window))
        self.window = self.capacity / rate
        self._clock = clock
        self._slots: deque[Slot] = deque()
        self._waiting: list[tuple[int, int]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()

    def acquire(self, priority: int = READ) -> Slot:
        """Block until this caller may send; give the slot back with ``release``."""
        ticket = (priority, next(self._order))
        with self._cond:
            heapq.heappush(self._waiting, ticket)
            while True:
                now = self._clock()
                self._expire(now)
                if self._waiting[0] == ticket and len(self._slots) < self.capacity:
                    heapq.heappop(self._waiting)
                    slot = Slot(now)
                    self._slots.append(slot)
                    self._cond.notify_all()
                    return slot
                self._cond.wait(timeout=self._next_free(now))

    def release(self, slot: Slot) -> None:
        """The request's answer is back: it has arrived by now at the latest."""
        with self._cond:
            slot.arrived = min(slot.arrived, self._clock())
            self._cond.notify_all()

    def _expire(self, now: float) -> None:
        # Requests run in parallel and end in any order: drop every expired slot.
        kept = [s for s in self._slots if now - s.arrived < self.window]
        if len(kept) != len(self._slots):
            self._slots = deque(kept)

    def _next_free(self, now: float) -> float | None:
        if len(self._slots) < self.capacity:
            return None
        return max(0.0, min(s.arrived for s in self._slots) + self.window - now)
