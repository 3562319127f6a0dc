"""Bots Long Poll: per community an event log numbered by ``ts``, and the a_check endpoint.

Each community has its own log, key and ``ts`` (``EventHub`` holds them by group id); its
server is ``/whp/<group_id>``, so one community's events never reach another's clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from typing import Any

from aiohttp import web

from sandbox.vk.render import API_VERSION

MAX_WAIT = 90


class EventLog:
    """Events of one community, numbered from a seeded ``ts``; waiters wake on each new one."""

    def __init__(self, group_id: int, seed: int, salt: str = "") -> None:
        self.group_id = group_id
        # The first community's log keeps the numbering it always had; others add a salt.
        self._rng = random.Random(f"{seed}:{salt}" if salt else seed * 7 + 1)
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._first_ts = self._rng.randint(1, 9_999)
        self._next_ts = self._first_ts
        self.key = self._new_key()
        # Keys handed out earlier, and the "failed" code a check with them gets.
        self._retired: dict[str, int] = {}
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def ts(self) -> int:
        """The number the next event will get."""
        return self._next_ts

    def add(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event and wake the long-poll requests waiting for it."""
        with self._lock:
            event = {
                "group_id": self.group_id,
                "type": kind,
                "event_id": f"{self._rng.getrandbits(160):040x}",
                "v": API_VERSION,
                "object": obj,
            }
            self._events.append(event)
            self._next_ts += 1
            waiters = list(self._waiters)
        for loop, ready in waiters:
            loop.call_soon_threadsafe(ready.set)
        return event

    def since(self, ts: int) -> list[dict[str, Any]]:
        """Events numbered ``ts`` and later."""
        with self._lock:
            start = ts - (self._next_ts - len(self._events))
            return list(self._events[max(start, 0) :])

    def all(self) -> list[dict[str, Any]]:
        """Every recorded event, oldest first."""
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        """Forget the events; numbering goes on, so clients keep a valid ts."""
        with self._lock:
            self._events.clear()

    def expire_key(self, failed: int = 2) -> None:
        """Retire the current key: checks with it get ``failed`` (2, or 3 = history lost)."""
        with self._lock:
            self._retired[self.key] = failed
            self.key = self._new_key()

    def check_failure(self, key: str, ts: int) -> dict[str, Any] | None:
        """The {"failed": N} answer a check with this key and ts gets, or None if it is fine."""
        with self._lock:
            if key != self.key:
                return {"failed": self._retired.get(key, 2)}
            oldest = self._next_ts - len(self._events)
            if ts < oldest or ts > self._next_ts:
                return {"failed": 1, "ts": str(self._next_ts)}
        return None

    async def handle(self, request: web.Request) -> web.Response:
        """GET/POST ?act=a_check&key=&ts=&wait= as VK's long-poll server answers it."""
        params = dict(request.query)
        if request.method == "POST":
            params.update(await request.post())  # type: ignore[arg-type]
        try:
            ts = int(params.get("ts", ""))
            wait = min(max(int(params.get("wait", "25")), 0), MAX_WAIT)
        except ValueError:
            return web.json_response({"failed": 1, "ts": str(self.ts)})
        failure = self.check_failure(str(params.get("key", "")), ts)
        if failure is not None:
            return web.json_response(failure)
        updates = await self._wait_for(ts, wait)
        return web.json_response(
            {"ts": str(ts + len(updates)), "updates": updates},
            dumps=_dumps,
        )

    async def _wait_for(self, ts: int, wait: int) -> list[dict[str, Any]]:
        ready = asyncio.Event()
        waiter = (asyncio.get_running_loop(), ready)
        with self._lock:
            self._waiters.add(waiter)
        try:
            updates = self.since(ts)
            if not updates and wait:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ready.wait(), timeout=wait)
                updates = self.since(ts)
            return updates
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _new_key(self) -> str:
        return f"{self._rng.getrandbits(160):040x}"


class EventHub:
    """The event logs of all communities, by group id, and the server routing checks to them."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.logs: dict[int, EventLog] = {}

    def open(self, group_id: int) -> EventLog:
        """The log of a community, created on first use (the first one unsalted)."""
        if group_id not in self.logs:
            salt = f"events:{group_id}" if self.logs else ""
            self.logs[group_id] = EventLog(group_id, self.seed, salt)
        return self.logs[group_id]

    def log(self, group_id: int) -> EventLog:
        """The log of a known community; KeyError otherwise."""
        return self.logs[group_id]

    def add(self, group_id: int, kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Record an event of a community; events of other walls (a user's) go nowhere."""
        log = self.logs.get(group_id)
        return log.add(kind, obj) if log is not None else None

    def all(self, group_id: int | None = None) -> list[dict[str, Any]]:
        """One community's events, or every community's (community by community)."""
        if group_id is not None:
            return self.log(group_id).all()
        return [event for log in list(self.logs.values()) for event in log.all()]

    def clear(self) -> None:
        """Forget every community's events (numbering goes on)."""
        for log in list(self.logs.values()):
            log.clear()

    async def handle(self, request: web.Request) -> web.Response:
        """/whp/<group_id>: the a_check of that community; unknown servers answer failed 2."""
        raw = request.match_info.get("group_id", "")
        log = self.logs.get(int(raw)) if raw.isdigit() else None
        if log is None:
            return web.json_response({"failed": 2})
        return await log.handle(request)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
