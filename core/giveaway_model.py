"""What a giveaway's draw action carries: who may win, how many, and how they are told.

The planner (``scheduler.giveaway_plan``) makes it from the event file's settings; the
engine (``bot.giveaway``) draws by it. It travels as the action's JSON payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GiveawaySpec:
    """One network's draw of a giveaway."""

    title: str
    announce_key: str  # the key of the announcement whose readers take part
    winners: int = 1
    reserve: int = 0
    conditions: tuple[str, ...] = ("comment",)  # "comment", "like", "repost", "member"
    comment_word: str = ""  # a comment counts only with this word, if set
    answers: tuple[str, ...] = ()  # ... or only with one of these answers, if set
    exclude_staff: bool = True
    exclude_recent_days: float | None = None  # winners of the last days do not win again
    tell_winners: str = "reply"  # or "message": in private, where the network allows
    prizes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The payload of the draw action (its keys in the order plans have always had)."""
        return {
            "winners": self.winners,
            "reserve": self.reserve,
            "conditions": list(self.conditions),
            "comment_word": self.comment_word,
            "answers": list(self.answers),
            "exclude_staff": self.exclude_staff,
            "exclude_recent_days": self.exclude_recent_days,
            "tell_winners": self.tell_winners,
            "prizes": list(self.prizes),
            "title": self.title,
            "announce_key": self.announce_key,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GiveawaySpec:
        """The spec from a draw action's payload."""
        return cls(
            title=str(data["title"]),
            announce_key=str(data["announce_key"]),
            winners=int(data["winners"]),
            reserve=int(data["reserve"]),
            conditions=tuple(data["conditions"]),
            comment_word=str(data.get("comment_word") or ""),
            answers=tuple(data.get("answers") or ()),
            exclude_staff=bool(data.get("exclude_staff", True)),
            exclude_recent_days=data.get("exclude_recent_days"),
            tell_winners=str(data["tell_winners"]),
            prizes=tuple(data.get("prizes") or ()),
        )
