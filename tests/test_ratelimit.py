"""The per-token limiter: never more than the rate in a window, posts before reads."""

from __future__ import annotations

import threading

from bot.platforms.ratelimit import LEAVE_WITHIN, POST, READ, SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_window_holds_at_most_the_rate_and_reopens_after_answers() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, clock=clock)
    slots = [limiter.acquire() for _ in range(3)]
    blocked = threading.Event()
    got = []

    def fourth() -> None:
        blocked.set()
        got.append(limiter.acquire())

    thread = threading.Thread(target=fourth)
    thread.start()
    blocked.wait()
    thread.join(timeout=0.2)
    assert thread.is_alive() and not got  # the fourth waits
    clock.now = 0.05
    for slot in slots:
        limiter.release(slot)  # answers back at 0.05: the window runs to 1.05
    clock.now = 1.06
    with limiter._cond:
        limiter._cond.notify_all()
    thread.join(timeout=2)
    assert got and not thread.is_alive()


def test_a_slow_answer_holds_the_window_only_for_a_while() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, clock=clock)
    limiter.acquire()  # never released: a hanging request
    clock.now = LEAVE_WITHIN + 1.0
    limiter.acquire()  # does not block: the hanging one surely arrived long ago


def test_a_waiting_post_goes_before_a_waiting_read() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, clock=clock)
    first = limiter.acquire()
    order: list[str] = []
    started = threading.Barrier(3)

    def wait_for(name: str, priority: int) -> None:
        started.wait()
        limiter.acquire(priority)
        order.append(name)

    reader = threading.Thread(target=wait_for, args=("read", READ))
    reader.start()
    poster = threading.Thread(target=wait_for, args=("post", POST))
    poster.start()
    started.wait()
    import time

    time.sleep(0.05)  # both are queued behind the first request (a thread hand-off, not a schedule)
    clock.now = 0.01
    limiter.release(first)
    clock.now = 1.02
    with limiter._cond:
        limiter._cond.notify_all()
    poster.join(timeout=2)
    assert order == ["post"]
    clock.now = 3.0
    with limiter._cond:
        limiter._cond.notify_all()
    reader.join(timeout=2)
    assert order == ["post", "read"]
