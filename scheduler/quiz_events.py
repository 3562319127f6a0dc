"""Quiz event files (``kind = "quiz"``): the intro post, the questions and how the quiz runs.

``parse_quiz`` reads it (see ``scheduler.events.PARSERS``). Each question is checked by
``build_question``, which the spreadsheet importer shares, so a quiz typed in TOML and one
imported from Excel obey the same limits. A comments quiz has exactly one question: its
post is the question and the comments under it are the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.config import LibraryConfig, parse_duration
from core.errors import EventFileError
from core.matching import normalize
from core.messages import language, text
from core.networks import names, network
from core.quiz_model import MODES, Question, QuizSettings
from core.tomlfile import key_name, line_of, or_join, unknown_key
from scheduler.fields import (
    IMAGE_SUFFIXES,
    MAX_IMAGE_BYTES,
    Event,
    Fields,
    announcement,
    image_problem,
)

QUESTION_LIMIT = 300  # a native poll's question
FREE_TEXT_LIMIT = 1000  # a typed-answer question is a message, under an image ≤ 1024
OPTION_LIMIT = 100
EXPLANATION_LIMIT = 200
MAX_QUESTIONS = 50
OPEN_PERIOD = (timedelta(seconds=5), timedelta(seconds=600))  # live: a timer, not a day
LONGEST = timedelta(days=30)  # a poll's open period ends about a month after sending
QUESTION_KEYS = ("text", "options", "correct", "answers", "explanation", "points", "image")
QUIZ_KEYS = {
    *("kind", "library", "title", "text", "at", "networks", "image", "text_by_network"),
    *("remind_before", "mode", "interval", "answer_time", "speed_bonus", "winners"),
    *("fuzzy_threshold", "exclude_staff", "questions", "repeat"),  # repeat: refused below
}
DEFAULT_INTERVAL = {"live": timedelta(minutes=1), "daily": timedelta(days=1)}
DEFAULT_INTERVAL["channel"] = DEFAULT_INTERVAL["daily"]


class QuestionProblem(Exception):
    """A question breaks a rule; ``key`` is its field, ``option`` the 1-based option if any."""

    def __init__(self, key: str, message: str, option: int | None = None) -> None:
        super().__init__(message)
        self.key, self.message, self.option = key, message, option


@dataclass(frozen=True)
class QuestionRules:
    """What a question must fit, given the quiz's mode and networks."""

    mode: str = "live"
    networks: tuple[str, ...] = names()
    folder: Path | None = None  # where images are; None: images are not checked

    @property
    def max_options(self) -> int:
        """The most options every network of the quiz can show (as a poll or as buttons).

        A name that is no network limits nothing (the event file's check refuses it).
        """
        most = max(_options_shown(name) for name in names())
        return min((_options_shown(n) for n in self.networks if n in names()), default=most)

    def options_why(self) -> str:
        """Which network sets a bound lower than another network's, and why ("" if none)."""
        high = self.max_options
        if high >= max(_options_shown(name) for name in names()):
            return ""
        name = next(n for n in self.networks if n in names() and _options_shown(n) == high)
        return text("events.options_why", network=network(name).title(language()), high=high)


def _options_shown(name: str) -> int:
    """How many options a question can have on ``name``: as a native poll, or as buttons."""
    limits = network(name).limits
    return min(limits.poll_options, limits.inline_buttons)


def build_question(raw: Mapping[str, Any], number: int, rules: QuestionRules) -> Question:
    """One ``[[questions]]`` table as a Question, or QuestionProblem naming the bad key."""
    for key in raw:
        if key in QUIZ_KEYS and key not in QUESTION_KEYS:
            raise QuestionProblem(key, text("events.misplaced_in_question", key=key))
        if key not in QUESTION_KEYS:
            raise QuestionProblem(key, unknown_key(key, QUESTION_KEYS, text("events.in_question")))
    options = _options(raw.get("options"), rules)
    if options and "answers" in raw:
        raise QuestionProblem("answers", text("events.options_or_answers"))
    limit = QUESTION_LIMIT if options else FREE_TEXT_LIMIT
    wording = _text(raw.get("text"), "text", limit, required=True)
    if options:
        correct = _correct(raw.get("correct"), len(options))
        accepted: tuple[str, ...] = ()
    elif "answers" not in raw:
        raise QuestionProblem("options", text("events.needs_options"))
    elif "correct" in raw:
        raise QuestionProblem("correct", text("events.free_text_correct"))
    else:
        correct, accepted = (), _answers(raw["answers"])
    if rules.mode == "channel" and len(correct) != 1:
        what = text("events.one_correct") if options else text("events.options_word")
        raise QuestionProblem(
            "correct" if options else "options",
            text("events.channel_quiz_polls", networks=_channel_quiz_titles(), what=what),
        )
    points = raw.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 100:
        raise QuestionProblem("points", text("events.whole_from_to", low=1, high=100))
    return Question(
        number=number,
        text=wording,
        options=options,
        correct=correct,
        accepted=accepted,
        explanation=_text(raw.get("explanation"), "explanation", EXPLANATION_LIMIT) or "",
        points=points,
        image=_question_image(raw.get("image"), rules.folder),
    )


def _text(value: object, key: str, limit: int, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problem = text("config.required") if value is None else text("events.non_empty_text")
        raise QuestionProblem(key, problem)
    if len(value.strip()) > limit:
        length = len(value.strip())
        raise QuestionProblem(key, text("events.too_long", length=length, limit=limit))
    return value.strip()


def _options(value: object, rules: QuestionRules) -> tuple[str, ...]:
    if value is None:
        return ()
    high = rules.max_options
    if not isinstance(value, list) or not 1 <= len(value) <= high:
        why = rules.options_why() if isinstance(value, list) and len(value) > high else ""
        raise QuestionProblem("options", text("events.question_options", high=high, why=why))
    seen: dict[str, int] = {}
    options = []
    for number, option in enumerate(value, start=1):
        if not isinstance(option, str) or not option.strip():
            raise QuestionProblem("options", text("events.option_empty", number=number), number)
        if len(option.strip()) > OPTION_LIMIT:
            raise QuestionProblem(
                "options",
                text("events.option_too_long", number=number, limit=OPTION_LIMIT),
                number,
            )
        key = normalize(option) or option.strip()
        if key in seen:
            raise QuestionProblem(
                "options", text("events.options_same", first=seen[key], second=number), number
            )
        seen[key] = number
        options.append(option.strip())
    return tuple(options)


def _correct(value: object, count: int) -> tuple[int, ...]:
    """``correct = 2`` or ``[1, 3]`` (1-based in the file) → 0-based indices."""
    if value is None:
        raise QuestionProblem("correct", text("events.correct_required"))
    numbers = value if isinstance(value, list) else [value]
    if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise QuestionProblem("correct", text("events.correct_form"))
    for n in numbers:
        if not 1 <= n <= count:
            raise QuestionProblem("correct", text("events.no_option", number=n, count=count))
    if len(set(numbers)) != len(numbers):
        raise QuestionProblem("correct", text("events.option_twice"))
    return tuple(sorted(n - 1 for n in numbers))


def _answers(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise QuestionProblem("answers", text("events.answers_form"))
    answers = []
    for number, answer in enumerate(value, start=1):
        if not isinstance(answer, str) or not answer.strip():
            raise QuestionProblem("answers", text("events.answer_empty", number=number))
        if not normalize(answer):
            raise QuestionProblem("answers", text("events.answer_no_letters", number=number))
        answers.append(answer.strip())
    return tuple(answers)


def _question_image(value: object, folder: Path | None) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise QuestionProblem("image", text("events.file_name"))
    if Path(value).suffix.lower() not in IMAGE_SUFFIXES:
        raise QuestionProblem("image", text("events.png_or_jpeg", value=repr(value)))
    if folder is None:
        return Path(value)
    path = (folder / value).resolve()
    if not path.is_file():
        raise QuestionProblem("image", text("events.image_not_found_here", value=repr(value)))
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise QuestionProblem("image", text("events.image_too_big", value=repr(value)))
    if problem := image_problem(path):
        raise QuestionProblem(
            "image", text("events.image_problem", value=repr(value), problem=problem)
        )
    return path


def parse_quiz(fields: Fields, library: LibraryConfig) -> Event:
    """A quiz: the intro post as an announcement, then its questions in one of four modes."""
    for key in fields.data:
        if key not in QUIZ_KEYS and key in QUESTION_KEYS:
            raise fields.fail(key, text("events.question_key_in_quiz"))
    fields.refuse_unknown(QUIZ_KEYS, text("events.in_quiz"))
    mode = fields.data.get("mode")
    if mode not in MODES:
        raise fields.fail("mode", text("events.one_of", choices=", ".join(MODES)))
    if "repeat" in fields.data:
        raise fields.fail("repeat", text("events.quiz_once"))
    if mode == "channel":
        _channel_networks(fields, library)
    base = announcement(fields, library)
    settings = _settings(fields, mode)
    rules = QuestionRules(mode, base.networks, fields.path.parent)
    raw = fields.data.get("questions")
    if not isinstance(raw, list) or not raw or not all(isinstance(q, dict) for q in raw):
        raise fields.fail("questions", text("events.add_questions"))
    if len(raw) > MAX_QUESTIONS:
        raise fields.fail(
            "questions", text("events.too_many_questions", count=len(raw), most=MAX_QUESTIONS)
        )
    if mode == "comments" and len(raw) != 1:
        raise fields.fail("questions", text("events.comments_one_question"))
    questions = []
    for number, question in enumerate(raw, start=1):
        try:
            questions.append(build_question(question, number, rules))
        except QuestionProblem as problem:
            field = f"questions[{number}].{key_name(problem.key)}"
            line = (
                line_of(fields.text, ("questions", number - 1, problem.key))
                or line_of(fields.text, ("questions", number - 1))
                or line_of(fields.text, ("questions",))
            )
            raise EventFileError(fields.path, field, problem.message, line) from None
    return replace(base, kind="quiz", questions=tuple(questions), quiz=settings)


def _channel_quizzes() -> tuple[str, ...]:
    """The networks whose channels take quiz polls (answers as anonymous totals)."""
    return tuple(n for n in names() if network(n).capabilities.channel_quizzes)


def _channel_quiz_titles() -> str:
    return or_join(network(n).title(language()) for n in _channel_quizzes())


def _channel_networks(fields: Fields, library: LibraryConfig) -> None:
    """A channel quiz runs as quiz polls: its networks default to, and must be, of those
    whose channels take them."""
    able = _channel_quizzes()
    mine = [n for n in library.networks if n in able]
    if not mine:
        raise fields.fail(
            "mode",
            text("events.channel_quiz_needs", networks=_channel_quiz_titles(), library=library.id),
        )
    fields.data = {"networks": mine, **fields.data}
    chosen = fields.data["networks"]
    if (
        not isinstance(chosen, list)
        or not chosen
        or any(n not in able for n in chosen)
        or len(set(chosen)) != len(chosen)
    ):
        listed = ", ".join(f'"{n}"' for n in able)
        raise fields.fail(
            "networks",
            text("events.channel_quiz_only", networks=_channel_quiz_titles(), listed=listed),
        )


def _settings(fields: Fields, mode: str) -> QuizSettings:
    """Timing and scoring: defaults per mode, then the limits of each."""
    data = fields.data
    if mode == "comments":
        if "interval" in data:
            raise fields.fail("interval", text("events.comments_no_interval"))
        answer_time = _duration(fields, "answer_time", timedelta(days=1))
        interval = answer_time
    else:
        interval = _duration(fields, "interval", DEFAULT_INTERVAL[mode])
        default = min(timedelta(seconds=45), interval) if mode == "live" else interval
        answer_time = _duration(fields, "answer_time", default)
        if interval > LONGEST:
            raise fields.fail("interval", text("events.interval_most"))
        if answer_time > interval:
            raise fields.fail("answer_time", text("events.answer_time_interval"))
    low, high = OPEN_PERIOD if mode == "live" else (OPEN_PERIOD[0], LONGEST)
    if not low <= answer_time <= high:
        if mode == "live":
            raise fields.fail("answer_time", text("events.answer_time_live"))
        raise fields.fail("answer_time", text("events.answer_time_long", mode=mode))
    return QuizSettings(
        mode=mode,
        interval=interval,
        answer_time=answer_time,
        speed_bonus=fields.whole("speed_bonus", 0, 0, 10),
        winners=fields.whole("winners", 3, 1, 50),
        fuzzy_threshold=fields.whole("fuzzy_threshold", 85, 50, 100),
        exclude_staff=_flag(fields, "exclude_staff", True),
    )


def _duration(fields: Fields, key: str, default: timedelta) -> timedelta:
    if key not in fields.data:
        return default
    value = parse_duration(fields.data[key])
    if value is None or value <= timedelta(0):
        raise fields.fail(key, text("events.quiz_duration"))
    return value


def _flag(fields: Fields, key: str, default: bool) -> bool:
    value = fields.data.get(key, default)
    if not isinstance(value, bool):
        raise fields.fail(key, text("events.true_or_false"))
    return value
