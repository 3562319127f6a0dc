"""Fault injection shared by both stand-ins: seeded, per method and per rate.

A rule says which method (or ``*``) fails how and how often. Kinds:

* ``5xx``       — HTTP 502 (Telegram) / HTTP 500 (VK), nothing done;
* ``429``       — flood answer, nothing done: Telegram 429 with ``retry_after`` 1,
  VK error 6 (too many requests per second);
* ``slow``      — the answer is held for ``delay`` seconds (past a client's timeout), then given;
* ``reset``     — the connection is closed without an answer, nothing done;
* ``ambiguous`` — the call **is carried out** (the post exists), then the
  connection is closed without an answer: the client cannot know.

The command line form is ``METHOD:KIND:RATE[:DELAY]`` joined by commas, e.g.
``sendMessage:5xx:0.1,wall.post:ambiguous:0.05,*:slow:0.01:15``.
Every fault that fires is logged, so tests can compare what the client saw
with what really happened.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

KINDS = ("5xx", "429", "slow", "reset", "ambiguous")


class FaultSpecError(ValueError):
    """A fault rule cannot be parsed."""


@dataclass(frozen=True)
class FaultRule:
    """``method`` ("*" for any) fails with ``kind`` at probability ``rate``."""

    method: str
    kind: str
    rate: float
    delay: float = 15.0

    def matches(self, method: str) -> bool:
        """True if this rule covers ``method`` (case-insensitive, as both APIs are)."""
        return self.method == "*" or self.method.lower() == method.lower()


def parse_rules(text: str) -> list[FaultRule]:
    """``"sendMessage:5xx:0.1,*:slow:0.01:15"`` → rules; FaultSpecError names the bad part."""
    rules = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        pieces = part.split(":")
        if len(pieces) not in (3, 4):
            raise FaultSpecError(f"fault {part!r}: expected METHOD:KIND:RATE[:DELAY]")
        method, kind, rate = pieces[:3]
        if kind not in KINDS:
            raise FaultSpecError(f"fault {part!r}: kind must be one of {', '.join(KINDS)}")
        try:
            probability = float(rate)
            delay = float(pieces[3]) if len(pieces) == 4 else 15.0
        except ValueError:
            raise FaultSpecError(f"fault {part!r}: rate and delay must be numbers") from None
        if not 0.0 <= probability <= 1.0 or delay < 0:
            raise FaultSpecError(f"fault {part!r}: rate must be within 0..1 and delay >= 0")
        rules.append(FaultRule(method, kind, probability, delay))
    return rules


@dataclass
class FaultInjector:
    """Decides, reproducibly under a seed, whether a call fails; logs what fired."""

    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    fired: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def set_rules(self, rules: list[FaultRule], seed: int | None = None) -> None:
        """Replace the rules (and optionally re-seed)."""
        with self._lock:
            self.rules = list(rules)
            if seed is not None:
                self._random = random.Random(seed)

    def pick(self, method: str) -> FaultRule | None:
        """The fault to apply to this call, if any; every call draws once per matching rule."""
        with self._lock:
            for rule in self.rules:
                if rule.matches(method) and self._random.random() < rule.rate:
                    self.fired.append({"method": method, "kind": rule.kind, "at": time.time()})
                    return rule
        return None

    def state(self) -> dict:
        """Rules and the faults that fired, JSON-ready."""
        with self._lock:
            return {
                "rules": [rule.__dict__ for rule in self.rules],
                "fired": list(self.fired),
            }

    def clear(self) -> None:
        """Forget the log of fired faults."""
        with self._lock:
            self.fired.clear()
