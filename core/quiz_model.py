"""What a quiz is, as parsed from its event file: questions and how the quiz is run.

The parser (``scheduler.quiz_events``) builds these; the planner turns them into
question / close / results actions, each question carrying its ``QuestionSpec``; the
engine (``bot.quiz``) scores answers against that spec, kept with the question as asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

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

    def spec(self, settings: QuizSettings, style: str, where: str = "") -> QuestionSpec:
        """What scoring needs, asked with ``style`` in ``where`` of a quiz run by ``settings``."""
        return QuestionSpec(
            text=self.text,
            options=self.options,
            correct=self.correct,
            accepted=self.accepted,
            explanation=self.explanation,
            points=self.points,
            speed_bonus=settings.speed_bonus,
            fuzzy=settings.fuzzy_threshold,
            exclude_staff=settings.exclude_staff,
            winners=settings.winners,
            style=style,
            where=where,
        )


@dataclass(frozen=True)
class QuestionSpec:
    """A question as the engine asks and scores it: carried by its question action and kept
    with the question as asked (``quiz_questions.spec``), both as ``to_json()``."""

    text: str = ""
    options: tuple[str, ...] = ()  # empty: a free-text question
    correct: tuple[int, ...] = ()  # 0-based indices into options
    accepted: tuple[str, ...] = ()  # free text: every answer that counts as right
    explanation: str = ""
    points: float = 1
    speed_bonus: int = 0  # up to this many extra points for a fast right answer
    fuzzy: int = 85  # the rapidfuzz ratio a typed answer must reach
    exclude_staff: bool = True
    winners: int = 3
    style: str = ""  # how it is answered: "quiz_poll", "buttons", "text", "poll", ...
    where: str = ""  # the network's word for where it is asked (its chat, its wall)
    answer_ids: tuple[str, ...] = ()  # a poll whose votes name answers by id: them, in order

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON (the same keys, in the same order, as stored since quizzes began)."""
        data: dict[str, Any] = {
            "text": self.text,
            "options": list(self.options),
            "correct": list(self.correct),
            "accepted": list(self.accepted),
            "explanation": self.explanation,
            "points": self.points,
            "speed_bonus": self.speed_bonus,
            "fuzzy": self.fuzzy,
            "exclude_staff": self.exclude_staff,
            "winners": self.winners,
            "style": self.style,
        }
        if self.where:
            data["where"] = self.where
        if self.answer_ids:
            data["answer_ids"] = list(self.answer_ids)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuestionSpec:
        """The spec from its JSON; keys a database of an earlier version lacks take defaults."""
        return cls(
            text=str(data.get("text", "")),
            options=tuple(str(o) for o in data.get("options") or ()),
            correct=tuple(int(n) for n in data.get("correct") or ()),
            accepted=tuple(str(a) for a in data.get("accepted") or ()),
            explanation=str(data.get("explanation") or ""),
            points=data.get("points", 1),
            speed_bonus=int(data.get("speed_bonus") or 0),
            fuzzy=int(data.get("fuzzy", 85)),
            exclude_staff=bool(data.get("exclude_staff", True)),
            winners=int(data.get("winners", 3)),
            style=str(data.get("style") or ""),
            where=str(data.get("where") or ""),
            answer_ids=tuple(str(a) for a in data.get("answer_ids") or ()),
        )


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
