"""The demo's quiz: a riddle under a VK post, answered in the comments by simulated readers.

The question goes out with the announcement; five readers comment (three right, one
of them with a typo; one wrong; one unsure); the answers are checked as they arrive
through the community's long poll, the question closes after five seconds and the
results post names the winners.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import sqlite_utils

from bot.intake.vk import VkIntake
from core import messages
from sandbox.server import Sandbox

QUIZ = """kind = "quiz"
library = "central"
title = "{title}"
at = {at}
mode = "comments"
networks = ["vk"]
answer_time = "5s"
winners = 3
text = "{text}"

[[questions]]
text = "{question}"
answers = ["{answer}"]
"""
# (first name, last name, the comment): right three times (the last with a typo), then
# wrong, then unsure.
READERS = {
    "ru": [
        ("Анна", "Смирнова", "Анна Каренина"),
        ("Борис", "Орлов", "анна каренина!"),
        ("Вера", "Ким", "Война и мир"),
        ("Глеб", "Лисицын", "«Анна Коренина»"),
        ("Дина", "Рой", "не знаю"),
    ],
    "en": [
        ("Ann", "Smith", "Anna Karenina"),
        ("Bob", "Orr", "anna karenina!"),
        ("Vera", "Kim", "War and Peace"),
        ("Glen", "Fox", "'Anna Karenena'"),
        ("Dina", "Roy", "no idea"),
    ],
}


def place_quiz(events_dir: Path, language: str, at: datetime) -> Path:
    """The demo quiz's event file, due at ``at`` (local time)."""
    target = events_dir / "quiz.toml"
    words = {
        "title": messages.text_in(language, "demo.quiz_title"),
        "text": messages.text_in(language, "demo.quiz_text"),
        "question": messages.text_in(language, "demo.quiz_question"),
        "answer": messages.text_in(language, "demo.quiz_answer"),
    }
    text = QUIZ.format(at=f"{at:%Y-%m-%dT%H:%M:%S}", **words)
    target.write_text(text, encoding="utf-8")
    return target


async def play(db: sqlite_utils.Database, sandbox: Sandbox, intake: VkIntake, language: str):
    """Once the question is on the wall, the readers answer in its comments."""
    for _ in range(400):
        asked = list(db["quiz_questions"].rows_where("remote_id is not null"))
        if asked:
            break
        await asyncio.sleep(0.05)
    else:
        return
    post = f"-{intake.group_id}_{asked[0]['remote_id']}"
    for first, last, text in READERS[language]:
        reader = sandbox.vk.add_reader(first, last)
        sandbox.vk.comment(reader, post, text)
        await intake.poll_once()


async def listen(intake: VkIntake, stop: asyncio.Event) -> None:
    """Read the community's long poll until ``stop`` (answers, then late comments)."""
    while not stop.is_set():
        await intake.poll_once()
        await asyncio.sleep(0.2)


def outcome(db: sqlite_utils.Database) -> tuple[int, int, list[str]]:
    """(answers, right answers, winners' names) of the demo quiz."""
    answers = db["quiz_answers"].count
    right = db["quiz_answers"].count_where("correct = 1")
    winners = [row["name"] for row in db["quiz_results"].rows_where("winner = 1", order_by="place")]
    return answers, right, [name.split("|", 1)[-1].rstrip("]") for name in winners]
