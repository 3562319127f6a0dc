"""Waiting in the intakes: blocking calls off the event loop, work and pauses cut short by a stop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

POOL_CAP = 2048  # the most worker threads; beyond it, calls wait for a free one


class DaemonPool:
    """Daemon worker threads, reused: a shutdown need not wait out a blocking API call
    (vk_api's), and the event loop does not start an OS thread for every call.

    The pool grows to as many threads as calls run at once, up to ``cap``. ``release``
    lets the threads go: idle ones end at once, busy ones when their call returns; later
    calls start new ones.
    """

    def __init__(self, cap: int = POOL_CAP) -> None:
        self.cap = cap
        self._jobs: deque[Callable[[], None]] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._threads = 0  # alive workers
        self._waiting = 0  # workers waiting for a job
        self._generation = 0  # bumped by release: older workers end when idle
        self._idle: set[threading.Thread] = set()  # workers waiting for a job

    def submit(self, job: Callable[[], None]) -> None:
        with self._ready:
            self._jobs.append(job)
            if self._waiting >= len(self._jobs):  # a waiting worker takes it
                self._ready.notify()
            elif self._threads < self.cap:
                self._threads += 1
                name = f"vk-long-poll-{self._threads}"
                worker = threading.Thread(
                    target=self._work, args=(self._generation,), name=name, daemon=True
                )
                try:
                    worker.start()
                except BaseException:
                    self._threads -= 1
                    self._jobs.remove(job)
                    raise

    def release(self, join: float = 1.0) -> None:
        """Let every thread go once it is idle (at shutdown: no thread left waiting); the
        idle ones are waited for up to ``join`` seconds each, so they are gone on return."""
        with self._ready:
            self._generation += 1
            self._ready.notify_all()
            idle = list(self._idle)
        for worker in idle:
            worker.join(join)

    def _work(self, generation: int) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    if generation != self._generation:
                        self._threads -= 1
                        return
                    self._waiting += 1
                    self._idle.add(threading.current_thread())
                    try:
                        self._ready.wait()
                    finally:
                        self._waiting -= 1
                        self._idle.discard(threading.current_thread())
                job = self._jobs.popleft()
            job()  # never raises: in_daemon's work catches everything


_POOL = DaemonPool()


def release_threads() -> None:
    """Let the shared pool's threads go (the bot stops; a later call starts new ones)."""
    _POOL.release()


async def in_daemon(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call in a daemon thread of the shared pool: a shutdown need not
    wait out a long poll."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def work() -> None:
        try:
            outcome = (function(*args), None)
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, future, *outcome)

    _POOL.submit(work)
    return await future


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # the waiter was cancelled (shutdown)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def until(stop: asyncio.Event, work: Coroutine[Any, Any, Any]) -> Any:
    """Run ``work`` unless ``stop`` comes first (a long poll is then cut short).

    Returns what ``work`` returned, or None when it was cut short.
    """
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
