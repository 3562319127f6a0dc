"""Waiting in the intakes: blocking calls off the event loop, work and pauses cut short by a stop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any


async def in_daemon(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call in a daemon thread: a shutdown need not wait out a long poll."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def work() -> None:
        try:
            outcome = (function(*args), None)
        except BaseException as exc:  # handed to the awaiting coroutine
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, future, *outcome)

    threading.Thread(target=work, name="vk-long-poll", daemon=True).start()
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
