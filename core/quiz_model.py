"""What a quiz is, as parsed from its event file: questions and how the quiz is run.

The parser (``scheduler.quiz_events``) builds these; the planner turns them into
question / close / results actions; the engine (``bot.quiz``) scores answers against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

MODES = ("live", "daily", "channel", "comments")


@dataclass(frozen=True)
class Question:
    """One question: with options (one or more correct) or with free-text accepted answers."""

    number: int  # 1-based, as in the file
    text: str
    options: tuple[str, ...] = ()  # empty: a free-text question
    correct: tuple[int, ...] = ()  # 0-based indices into options
    accepted: tuple[str, ...] = ()  # free text: every answer that counts as right
    explanation: str = ""
    points: int = 1
    image: Path | None = None

    @property
    def free_text(self) -> bool:
        """True when the answer is typed, not chosen."""
        return not self.options

    def spec(self) -> dict:
        """What scoring needs, as stored with the question (``quiz_questions.spec``)."""
        return {
            "text": self.text,
            "options": list(self.options),
            "correct": list(self.correct),
            "accepted": list(self.accepted),
            "explanation": self.explanation,
            "points": self.points,
        }


@dataclass(frozen=True)
class QuizSettings:
    """How a quiz runs.

    live: questions follow each other every ``interval`` in a group / community chat;
    daily: one question per post, every ``interval`` (a day by default), standings accumulate;
    channel: Telegram quiz polls in a channel (anonymous: totals only);
    comments: one post, answers as comments until ``answer_time`` has passed; the first
    ``winners`` correct commenters win.
    """

    mode: str = "live"
    interval: timedelta = timedelta(minutes=1)  # between question starts
    answer_time: timedelta = timedelta(seconds=45)  # how long each question stays open
    speed_bonus: int = 0  # up to this many extra points for a fast right answer
    winners: int = 3  # how many are named winners
    fuzzy_threshold: int = 85  # rapidfuzz ratio (0–100) a typed answer must reach
    exclude_staff: bool = True  # the library's admins do not play
