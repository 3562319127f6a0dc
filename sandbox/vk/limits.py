"""VK's per-token request limits (error 6) and its flood control on repeated posts (error 9).

Both run on the stand-in's clock, so tests move time with ``shift_clock`` instead of sleeping.
Figures follow VK's documentation: 3 requests a second with a user (or service) token, 20 with
a community token, counted over a sliding one-second window per token. Flood control refuses
the same text and attachments on the same wall within ``FLOOD_WINDOW`` seconds.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

USER_PER_SECOND = 3
COMMUNITY_PER_SECOND = 20
FLOOD_WINDOW = 60.0


@dataclass
class RateLimits:
    """Sliding one-second windows per token; calls refused with error 6 are not counted."""

    enabled: bool = True
    user_per_second: int = USER_PER_SECOND
    community_per_second: int = COMMUNITY_PER_SECOND
    recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def configure(
        self,
        enabled: bool = True,
        user_per_second: int = USER_PER_SECOND,
        community_per_second: int = COMMUNITY_PER_SECOND,
    ) -> dict[str, Any]:
        """Switch the limits on or off and set them; returns settings()."""
        for name, value in (
            ("user_per_second", user_per_second),
            ("community_per_second", community_per_second),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1")
        self.enabled = bool(enabled)
        self.user_per_second = user_per_second
        self.community_per_second = community_per_second
        self.recent.clear()
        return self.settings()

    def settings(self) -> dict[str, Any]:
        """The current limits, JSON-ready."""
        return {
            "enabled": self.enabled,
            "user_per_second": self.user_per_second,
            "community_per_second": self.community_per_second,
        }

    def limit(self, kind: str) -> int:
        """Requests a second allowed for a token kind ("user", "group", "service")."""
        return self.community_per_second if kind == "group" else self.user_per_second

    def over_limit(self, token: str, kind: str, now: float) -> bool:
        """Whether a call with ``token`` at ``now`` exceeds the limit (if not, it is counted)."""
        if not self.enabled:
            return False
        window = self.recent[token]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.limit(kind):
            return True
        window.append(now)
        return False

    def clear(self) -> None:
        """Forget the calls counted so far; keep the settings."""
        self.recent.clear()
