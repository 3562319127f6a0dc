"""Quiz event files: good files in every mode load; each mistake names its field and line."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from core.config_file import load_config
from core.errors import EventFileError
from scheduler.events import load_event
from tests.conftest import write_config
from tests.images import png

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

HEAD = """kind = "quiz"
library = "central"
title = "Литературная викторина"
text = "Начинаем!"
at = 2026-12-05T18:00:00
"""
OPTIONS_Q = """
[[questions]]
text = "Кто написал «Евгения Онегина»?"
options = ["Пушкин", "Лермонтов", "Гоголь"]
correct = 1
"""
FREE_Q = """
[[questions]]
text = "В каком году родился Пушкин?"
answers = ["1799"]
"""


def load(tmp_path: Path, body: str, name: str = "quiz"):
    config = load_config(write_config(tmp_path, language="en"))
    path = tmp_path / "events" / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return load_event(path, config)


def problem(tmp_path: Path, body: str) -> EventFileError:
    with pytest.raises(EventFileError) as caught:
        load(tmp_path, body)
    return caught.value


def test_a_live_quiz_loads_with_every_setting(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "q2.png").write_bytes(png(4, 4))
    body = HEAD + 'mode = "live"\ninterval = "2m"\nanswer_time = "60s"\nspeed_bonus = 2\n'
    body += "winners = 5\nfuzzy_threshold = 90\nexclude_staff = false\n" + OPTIONS_Q
    body += FREE_Q + 'explanation = "6 июня"\npoints = 3\nimage = "q2.png"\n'
    event = load(tmp_path, body)
    assert event.kind == "quiz" and event.id == "central/quiz"
    assert event.networks == ("telegram", "vk")
    quiz = event.quiz
    assert (quiz.mode, quiz.interval, quiz.answer_time) == (
        "live",
        timedelta(minutes=2),
        timedelta(seconds=60),
    )
    assert (quiz.speed_bonus, quiz.winners, quiz.fuzzy_threshold, quiz.exclude_staff) == (
        2,
        5,
        90,
        False,
    )
    first, second = event.questions
    assert (first.number, first.options, first.correct, first.accepted) == (
        1,
        ("Пушкин", "Лермонтов", "Гоголь"),
        (0,),
        (),
    )
    assert second.free_text and second.accepted == ("1799",) and second.points == 3
    assert second.explanation == "6 июня" and second.image.name == "q2.png"


def test_defaults_per_mode(tmp_path: Path) -> None:
    live = load(tmp_path, HEAD + 'mode = "live"\n' + OPTIONS_Q).quiz
    assert (live.interval, live.answer_time) == (timedelta(minutes=1), timedelta(seconds=45))
    short = load(tmp_path, HEAD + 'mode = "live"\ninterval = "30s"\n' + OPTIONS_Q).quiz
    assert short.answer_time == timedelta(seconds=30)  # never longer than the interval
    daily = load(tmp_path, HEAD + 'mode = "daily"\n' + OPTIONS_Q + FREE_Q).quiz
    assert (daily.interval, daily.answer_time) == (timedelta(days=1), timedelta(days=1))
    comments = load(tmp_path, HEAD + 'mode = "comments"\n' + FREE_Q).quiz
    assert comments.answer_time == timedelta(days=1)
    assert (comments.speed_bonus, comments.winners, comments.exclude_staff) == (0, 3, True)


def test_a_channel_quiz_is_telegram_only_by_default(tmp_path: Path) -> None:
    event = load(tmp_path, HEAD + 'mode = "channel"\n' + OPTIONS_Q)
    assert event.networks == ("telegram",)
    assert event.quiz.interval == timedelta(days=1)


def test_several_correct_options(tmp_path: Path) -> None:
    body = HEAD + 'mode = "live"\n' + OPTIONS_Q.replace("correct = 1", "correct = [1, 3]")
    assert load(tmp_path, body).questions[0].correct == (0, 2)


def test_every_ready_quiz_template_loads(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    modes = set()
    for template in sorted((TEMPLATES / "events" / "ru").glob("quiz-*.toml")):
        shutil.copy(template, tmp_path / "events" / template.name)
        event = load_event(tmp_path / "events" / template.name, config)
        assert event.kind == "quiz" and event.questions, template.name
        modes.add(event.quiz.mode)
    assert modes == {"live", "daily", "channel", "comments"}


LIVE = HEAD + 'mode = "live"\n'
# body, field named in the error, text of the message, the line it points at
CASES = {
    "unknown question key": (
        LIVE + OPTIONS_Q + FREE_Q.replace("answers", "optons"),
        "questions[2].optons",
        "unknown key",
        15,
    ),
    "question too long": (
        LIVE + OPTIONS_Q.replace("Кто написал «Евгения Онегина»?", "?" * 301),
        "questions[1].text",
        "is 301 characters long; the limit is 300",
        9,
    ),
    "no options left": (
        LIVE + OPTIONS_Q.replace('["Пушкин", "Лермонтов", "Гоголь"]', "[]"),
        "questions[1].options",
        "must list 1 to 10 options",
        10,
    ),
    "thirteen options": (
        LIVE.replace("at =", 'networks = ["telegram"]\nat =')
        + OPTIONS_Q.replace('"Гоголь"', ", ".join(f'"{n}"' for n in range(11))),
        "questions[1].options",
        "must list 1 to 12 options",
        11,
    ),
    "eleven options on VK": (
        LIVE + OPTIONS_Q.replace('"Гоголь"', ", ".join(f'"{n}"' for n in range(9))),
        "questions[1].options",
        "VK: an inline keyboard or a poll holds at most 10",
        10,
    ),
    "empty option": (
        LIVE + OPTIONS_Q.replace('"Гоголь"', '" "'),
        "questions[1].options",
        "option 3 must be non-empty text",
        10,
    ),
    "long option": (
        LIVE + OPTIONS_Q.replace('"Гоголь"', '"' + "я" * 101 + '"'),
        "questions[1].options",
        "option 3 is longer than 100 characters",
        10,
    ),
    "same options": (
        LIVE + OPTIONS_Q.replace('"Гоголь"', '"пушкин!"'),
        "questions[1].options",
        "options 1 and 3 are the same",
        10,
    ),
    "options as a string": (
        LIVE + OPTIONS_Q.replace('["Пушкин", "Лермонтов", "Гоголь"]', '"Пушкин, Гоголь"'),
        "questions[1].options",
        "must list 1 to 10 options",
        10,
    ),
    "explanation too long": (
        LIVE + OPTIONS_Q + 'explanation = "' + "я" * 201 + '"\n',
        "questions[1].explanation",
        "is 201 characters long; the limit is 200",
        12,
    ),
    "correct out of range": (
        LIVE + OPTIONS_Q.replace("correct = 1", "correct = 4"),
        "questions[1].correct",
        "option 4 does not exist (there are 3 options)",
        11,
    ),
    "correct zero in a list": (
        LIVE + OPTIONS_Q.replace("correct = 1", "correct = [1, 0]"),
        "questions[1].correct",
        "option 0 does not exist",
        11,
    ),
    "correct as text": (
        LIVE + OPTIONS_Q.replace("correct = 1", 'correct = "Пушкин"'),
        "questions[1].correct",
        "must be an option number like 2",
        11,
    ),
    "correct missing": (
        LIVE + OPTIONS_Q.replace("correct = 1\n", ""),
        "questions[1].correct",
        "is required",
        8,
    ),
    "free text with correct": (
        LIVE + FREE_Q + "correct = 1\n",
        "questions[1].correct",
        "a free-text question has no `correct`",
        11,
    ),
    "free text without answers": (
        LIVE + FREE_Q.replace('answers = ["1799"]', 'answers = [""]'),
        "questions[1].answers",
        "answer 1 must be non-empty text",
        10,
    ),
    "answers as a string": (
        LIVE + FREE_Q.replace('["1799"]', '"1799"'),
        "questions[1].answers",
        "must list the accepted answers",
        10,
    ),
    "answer with nothing to match": (
        LIVE + FREE_Q.replace('["1799"]', '["1799", "?!"]'),
        "questions[1].answers",
        "answer 2 has no letters or digits",
        10,
    ),
    "neither options nor answers": (
        LIVE + FREE_Q.replace('answers = ["1799"]\n', ""),
        "questions[1].options",
        "needs options (with `correct`) or accepted `answers`",
        8,
    ),
    "both options and answers": (
        LIVE + OPTIONS_Q + 'answers = ["Пушкин"]\n',
        "questions[1].answers",
        "either options or answers, not both",
        12,
    ),
    "points out of range": (
        LIVE + OPTIONS_Q + "points = 101\n",
        "questions[1].points",
        "must be a whole number from 1 to 100",
        12,
    ),
    "missing image": (
        LIVE + OPTIONS_Q + 'image = "nope.png"\n',
        "questions[1].image",
        "file 'nope.png' not found",
        12,
    ),
    "no questions": (LIVE, "questions", "add the questions as [[questions]] tables", None),
    "questions as a list of strings": (
        LIVE + 'questions = ["Кто?"]\n',
        "questions",
        "add the questions as [[questions]] tables",
        7,
    ),
    "too many questions": (
        LIVE + FREE_Q * 51,
        "questions",
        "51 questions; a quiz has at most 50",
        None,
    ),
    "channel with VK": (
        HEAD + 'mode = "channel"\nnetworks = ["telegram", "vk"]\n' + OPTIONS_Q,
        "networks",
        "a channel quiz is Telegram-only",
        7,
    ),
    "channel with free text": (
        HEAD + 'mode = "channel"\n' + OPTIONS_Q + FREE_Q,
        "questions[2].options",
        "each question needs options",
        13,
    ),
    "channel with two correct": (
        HEAD + 'mode = "channel"\n' + OPTIONS_Q.replace("correct = 1", "correct = [1, 2]"),
        "questions[1].correct",
        "exactly one correct option",
        11,
    ),
    "comments with two questions": (
        HEAD + 'mode = "comments"\n' + FREE_Q + FREE_Q,
        "questions",
        "a comments quiz has exactly one question",
        None,
    ),
    "comments with an interval": (
        HEAD + 'mode = "comments"\ninterval = "1h"\n' + FREE_Q,
        "interval",
        "no interval",
        7,
    ),
    "unknown mode": (HEAD + 'mode = "blitz"\n' + FREE_Q, "mode", "must be one of live", 6),
    "missing mode": (HEAD + FREE_Q, "mode", "must be one of live, daily, channel, comments", None),
    "answer time over the interval": (
        LIVE + 'interval = "1m"\nanswer_time = "90s"\n' + FREE_Q,
        "answer_time",
        "must not be longer than `interval`",
        8,
    ),
    "live answer time too short": (
        LIVE + 'answer_time = "3s"\n' + FREE_Q,
        "answer_time",
        "must be between 5s and 600s",
        7,
    ),
    "live answer time too long": (
        LIVE + 'interval = "1h"\nanswer_time = "11m"\n' + FREE_Q,
        "answer_time",
        "must be between 5s and 600s",
        8,
    ),
    "bad duration": (LIVE + 'interval = "две минуты"\n' + FREE_Q, "interval", "duration", 7),
    "speed bonus too high": (
        LIVE + "speed_bonus = 11\n" + FREE_Q,
        "speed_bonus",
        "from 0 to 10",
        7,
    ),
    "winners zero": (LIVE + "winners = 0\n" + FREE_Q, "winners", "from 1 to 50", 7),
    "threshold too low": (
        LIVE + "fuzzy_threshold = 40\n" + FREE_Q,
        "fuzzy_threshold",
        "from 50 to 100",
        7,
    ),
    "staff as text": (
        LIVE + 'exclude_staff = "да"\n' + FREE_Q,
        "exclude_staff",
        "must be true or false",
        7,
    ),
    "question key at the top": (
        LIVE + 'options = ["А"]\n' + FREE_Q,
        "options",
        "questions go in [[questions]] tables",
        7,
    ),
    "repeat": (LIVE + FREE_Q + "[repeat]\nevery = 'week'\n", "repeat", "a quiz runs once", 11),
}


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_names_its_field_and_line(tmp_path: Path, case: str) -> None:
    body, field, message, line = CASES[case]
    error = problem(tmp_path, body)
    assert error.field == field, str(error)
    assert message in error.message, str(error)
    if line is not None:
        assert error.line == line, str(error)
    assert str(error).startswith(str(tmp_path / "events" / "quiz.toml"))


def test_intro_text_is_required_as_in_announcements(tmp_path: Path) -> None:
    error = problem(tmp_path, LIVE.replace('text = "Начинаем!"\n', "") + FREE_Q)
    assert error.field == "text" and "is required" in error.message
