"""MAX's request limit: about 30 requests a second per token (issue 15; the official sources
searched give no figure), counted over a sliding one-second window on the stand-in's clock,
so tests move time instead of sleeping. Requests refused with 429 are not counted.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

PER_SECOND = 30


@dataclass
class RateLimit:
    """Sliding one-second windows, one per token."""

    enabled: bool = True
    per_second: int = PER_SECOND
    recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def configure(self, enabled: bool = True, per_second: int = PER_SECOND) -> dict[str, Any]:
        """Switch the limit on or off and set it; returns settings()."""
        if isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1:
            raise ValueError("per_second must be a whole number of at least 1")
        self.enabled = bool(enabled)
        self.per_second = per_second
        self.recent.clear()
        return self.settings()

    def settings(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "per_second": self.per_second}

    def over(self, token: str, now: float) -> bool:
        """Whether a request with ``token`` at ``now`` exceeds the limit (if not, it counts)."""
        if not self.enabled:
            return False
        window = self.recent[token]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.per_second:
            return True
        window.append(now)
        return False

    def clear(self) -> None:
        self.recent.clear()
