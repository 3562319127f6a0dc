"""A clock for the stand-ins that moves only when a test moves it."""

from __future__ import annotations


class FrozenClock:
    """The stand-in's clock (seconds since the epoch); tests set ``now``."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
