"""Webhook delivery: each update is POSTed as JSON to every subscription that wants its type.

As MAX describes it (schema info.description "Webhook"; dev.max.ru/help/events): only an
HTTP 200 counts as delivered; otherwise delivery is retried at growing intervals, and after
8 hours without success the bot is unsubscribed. With a ``secret`` every request carries it
in ``X-Max-Bot-Api-Secret`` (SubscriptionRequestBody). Updates go out one at a time, in order,
per subscription. Retries wait real (short, configurable) seconds; the 8 hours are measured
on the stand-in's clock, so a test moves the clock instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

SECRET_HEADER = "X-Max-Bot-Api-Secret"
GIVE_UP_AFTER = 8 * 3600.0


@dataclass
class Outbox:
    url: str
    secret: str | None
    pending: deque[tuple[float, dict[str, Any]]] = field(default_factory=deque)
    wake: asyncio.Event | None = None
    task: asyncio.Task | None = None


class Deliveries:
    """Outboxes per subscription URL and the log of every attempt."""

    def __init__(self, lock: threading.Lock, clock: Callable[[], float]):
        self._lock = lock
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self.boxes: dict[str, Outbox] = {}
        self.log: list[dict[str, Any]] = []
        self.retry_delay = 0.2  # seconds before the first retry; doubles, at most 30
        self.timeout = 10.0
        self.on_give_up: Callable[[str], None] | None = None

    # Called with the lock held, from any thread.
    def push(self, subscription: dict[str, Any], update: dict[str, Any]) -> None:
        box = self.boxes.get(subscription["url"])
        if box is None or box.secret != subscription.get("secret"):
            old = box
            box = Outbox(subscription["url"], subscription.get("secret"))
            if old is not None:
                box.pending = old.pending
                if old.task is not None and self._loop is not None:
                    self._loop.call_soon_threadsafe(old.task.cancel)
            self.boxes[box.url] = box
        box.pending.append((self._clock(), update))
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._kick, box)

    def forget(self, url: str) -> None:
        """Drop a subscription's outbox (with the lock held)."""
        box = self.boxes.pop(url, None)
        if box is not None and box.task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(box.task.cancel)

    def pending(self) -> dict[str, int]:
        return {url: len(box.pending) for url, box in self.boxes.items()}

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        with self._lock:
            boxes = list(self.boxes.values())
        for box in boxes:
            loop.call_soon(self._kick, box)

    async def stop(self) -> None:
        with self._lock:
            boxes = list(self.boxes.values())
        for box in boxes:
            if box.task is not None:
                box.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await box.task
                box.task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._loop = None

    def _kick(self, box: Outbox) -> None:
        if box.wake is None:
            box.wake = asyncio.Event()
        box.wake.set()
        if box.task is None or box.task.done():
            box.task = asyncio.get_running_loop().create_task(self._run(box))

    async def _run(self, box: Outbox) -> None:
        delay = self.retry_delay
        while True:
            with self._lock:
                if self.boxes.get(box.url) is not box:
                    return
                head = box.pending[0] if box.pending else None
            if head is None:
                assert box.wake is not None
                box.wake.clear()
                await box.wake.wait()
                continue
            happened, update = head
            status = await self._post(box, update)
            with self._lock:
                self.log.append(
                    {"url": box.url, "update_type": update["update_type"], "status": status}
                )
                if status == 200:
                    if box.pending and box.pending[0] is head:
                        box.pending.popleft()
                    delay = self.retry_delay
                    continue
                if self._clock() - happened >= GIVE_UP_AFTER:
                    self.boxes.pop(box.url, None)
                    if self.on_give_up is not None:
                        self.on_give_up(box.url)
                    return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _post(self, box: Outbox, update: dict[str, Any]) -> int | str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        headers = {"Content-Type": "application/json"}
        if box.secret:
            headers[SECRET_HEADER] = box.secret
        try:
            async with self._session.post(
                box.url, data=json.dumps(update, ensure_ascii=False).encode(), headers=headers
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return type(exc).__name__
