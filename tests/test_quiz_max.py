"""Quizzes on MAX, end to end on the stand-in: a live quiz in the group chat with answer
buttons (one right option, and several marked and sent with «Готово») and typed answers,
scored like Telegram's; forged and late presses ignored; every answer counted once, also
when the database refuses a batch. And a comments quiz under a channel post."""

from __future__ import annotations

import copy
import random
import sqlite3
from pathlib import Path

import pytest

from bot.intake.max import MaxIntake
from bot.quiz import store
from sandbox.server import Sandbox
from tests.conftest import MAX_ENV, max_table
from tests.quiz_helpers import Expected, QuizWorld, local, shift, start_time

PLAYERS = 30
QUIZ = """kind = "quiz"
library = "central"
title = "Знатоки Пушкина"
text = "Начинаем!"
at = {at}
mode = "{mode}"
networks = ["max"]
interval = "2m"
answer_time = "60s"
speed_bonus = 2
winners = 3

[[questions]]
text = "Кто написал «Евгения Онегина»?"
options = ["Пушкин", "Лермонтов", "Гоголь"]
correct = 1

[[questions]]
text = "Какие из них — сказки Пушкина?"
options = ["О рыбаке и рыбке", "Морозко", "О золотом петушке"]
correct = [1, 3]

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["Арина Родионовна"]
points = 2
"""


class MaxQuizWorld(QuizWorld):
    """A QuizWorld whose library also has MAX, its token in the environment."""

    def build(self, platforms: dict | None = None) -> None:
        self.env[MAX_ENV] = self.box.info()["max"]["token"]
        super().build(platforms)


def max_world(box: Sandbox, tmp_path: Path, start, now: dict, **max_extra) -> QuizWorld:
    """The world with a MAX channel, quiz chat (and staff, if given)."""
    mx = box.info()["max"]
    extra = "\n".join(f"{k} = {v}" for k, v in max_extra.items())
    section = max_table(mx["api_url"], mx["channel_id"], mx["chat_id"], extra)
    world = MaxQuizWorld(box, tmp_path, start, max_section=section)
    world.stand_in_time = now
    return world


def reader_of(world: QuizWorld) -> MaxIntake:
    platform = world.platforms[("central", "max")]
    return MaxIntake(
        world.db,
        platform.client,
        list(world.config.libraries),
        world.clock,
        0,
        quiz=world.engine.book,
    )


def keyboard(box: Sandbox, chat: int, mid: str) -> list[str]:
    [message] = [m for m in box.max.messages(chat) if m["body"]["mid"] == mid]
    [board] = [a for a in message["body"]["attachments"] if a["type"] == "inline_keyboard"]
    return [row[0]["payload"] for row in board["payload"]["buttons"]]


async def test_live_quiz_in_a_max_group(tmp_path: Path) -> None:
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=15, clock=lambda: now["now"]) as box:
        box.max.set_rate_limit(enabled=False)
        group = box.info()["max"]["chat_id"]
        staff = box.max.add_user(first_name="Сотрудник")["user_id"]
        box.max.join(staff, group)
        world = max_world(box, tmp_path, start, now, staff=f"[{staff}]")
        at = shift(start, 60)
        (tmp_path / "events" / "pushkin.toml").write_text(
            QUIZ.format(at=local(at), mode="live"), encoding="utf-8"
        )
        world.plan()
        reader = reader_of(world)
        await reader.poll_once()
        tick = world.tick

        async def drain() -> None:
            while await reader.poll_once():
                pass

        rng = random.Random(3)
        users = []
        for n in range(PLAYERS):
            user = box.max.add_user(first_name=f"Игрок{n}", last_name="<b>Х</b>")["user_id"]
            box.max.join(user, group)
            users.append(user)
        names = {u: f"Игрок{n} <b>Х</b>" for n, u in enumerate(users)}
        expected = Expected(window=60, bonus=2)

        # Intro, then question 1: answer buttons in the group (MAX has no quiz polls).
        fired = await world.fire_due(shift(at, 120))
        assert [r["state"] for r in fired] == ["sent", "sent"]
        q1 = world.question("max", 1)
        data = keyboard(box, group, q1["remote_id"])
        assert len(data) == 3
        opened = world.clock.current
        late = []
        for user in users:
            tick()
            if rng.random() < 0.1:
                late.append(user)
                continue
            choice = rng.choice([0, 0, 1, 2])
            pressed = box.max.press(user, q1["remote_id"], data[choice])
            await drain()
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(1, names[user], elapsed, choice == 0, stamped=False)
            if rng.random() < 0.2:  # presses again: only the first counts
                tick()
                box.max.press(user, q1["remote_id"], data[1 - min(choice, 1)])
                await drain()
        # A forged press (data not made by the bot) and a staff press count for nothing.
        forged = copy.deepcopy(pressed["update"])
        forged["callback"]["callback_id"] = "forged"
        forged["callback"]["payload"] = data[0][:-3] + "abc"
        assert reader.deliver(forged)
        box.max.press(staff, q1["remote_id"], data[0])
        await drain()
        await world.fire_due(shift(at, 120 + 62))
        # After the close the buttons are gone; an old client may still send the data.
        late_press = copy.deepcopy(pressed["update"])
        late_press["callback"]["callback_id"] = "late"
        late_press["callback"]["user"]["user_id"] = late[0]
        assert reader.deliver(late_press)
        assert not [a for a in box.max.messages(group) if a["body"]["mid"] == q1["remote_id"]][0][
            "body"
        ].get("attachments")
        notes = [n.get("notification") for c in box.max.callback_answers() for n in c["answers"]]
        assert "Засчитывается только первый ответ." in notes
        assert "Сотрудники библиотеки в викторине не участвуют." in notes

        # Question 2: several right options, marked and sent with «Готово».
        await world.fire_due(shift(at, 240))
        q2 = world.question("max", 2)
        data = keyboard(box, group, q2["remote_id"])
        assert len(data) == 4  # three options and «Готово»
        opened = world.clock.current
        for user in users:
            tick()
            marks = rng.choice([[0, 2], [0], [1, 2], [0, 1, 2]])
            for option in marks:
                box.max.press(user, q2["remote_id"], data[option])
            box.max.press(user, q2["remote_id"], data[3])
            await drain()
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(2, names[user], elapsed, marks == [0, 2], stamped=False)
        await world.fire_due(shift(at, 240 + 62))

        # Question 3: typed answers in the group; typos forgiven, edits count once.
        await world.fire_due(shift(at, 360))
        opened = world.clock.current
        variants = {"арина родионовна": True, "Арина Радионовна!": True, "Марина": False}
        written: dict[int, str] = {}
        for user in users:
            tick()
            if user in late:
                continue
            text = rng.choice(list(variants))
            sent = box.max.write(user, group, text)
            written[user] = sent["body"]["mid"]
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(3, names[user], elapsed, variants[text], points=2)
            if rng.random() < 0.2:
                tick()
                box.max.write(user, group, "Арина Родионовна")  # a second message: ignored
        # A batch the database refuses comes again and counts once, judged as first read.
        real = reader._count_votes

        def refuse() -> None:
            raise sqlite3.OperationalError("database or disk is full")

        reader._count_votes = refuse
        with pytest.raises(sqlite3.OperationalError):
            await reader.poll_once()
        reader._count_votes = real
        await drain()
        wrong = [u for u in written if not expected.answered.get((3, names[u]), (0, 1))[1]]
        box.max.edit_as_user(wrong[0], written[wrong[0]], "Арина Родионовна")
        box.max.write(staff, group, "Арина Родионовна")  # staff: not counted
        await drain()
        await world.fire_due(shift(at, 360 + 62))
        for user in late[:3]:
            box.max.write(user, group, "Арина Родионовна")  # after the close
        await drain()

        fired = await world.fire_due(shift(at, 600))
        assert fired and fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        await world.close()

    event_id = world.db["events"].get("central/pushkin")["id"]
    table = store.standings(world.db, event_id, "max")
    got = [(s.name, round(s.points, 2), s.correct) for s in table]
    assert set(got) == set(expected.table()), set(got) ^ set(expected.table())
    assert got == expected.table()
    figures = store.question_figures(world.db, "central/pushkin")
    assert [f["answers"] for f in figures] == [
        sum(1 for (q, _) in expected.answered if q == n) for n in (1, 2, 3)
    ]
    # Every answer once: one row per player and question, none of staff or after the close.
    rows = list(world.db["quiz_answers"].rows)
    assert len(rows) == len(expected.answered)
    assert len({(r["question_id"], r["person"]) for r in rows}) == len(rows)
    final = box.max.messages(group)[-1]["body"]["text"]
    assert "итоги" in final and expected.table()[0][0].split(" ")[0] in final


COMMENTS_QUIZ = """kind = "quiz"
library = "central"
title = "Загадка недели"
text = "Отвечайте в комментариях!"
at = {at}
mode = "comments"
networks = ["max"]
answer_time = "1h"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["Арина Родионовна"]
"""


async def test_a_comments_quiz_under_a_max_channel_post(tmp_path: Path) -> None:
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=16, clock=lambda: now["now"]) as box:
        box.max.set_rate_limit(enabled=False)
        channel = box.info()["max"]["channel_id"]
        world = max_world(box, tmp_path, start, now)
        at = shift(start, 60)
        quiz = COMMENTS_QUIZ.format(at=local(at))
        (tmp_path / "events" / "riddle.toml").write_text(quiz, encoding="utf-8")
        world.plan()
        reader = reader_of(world)
        await reader.poll_once()
        await world.fire_due(at)
        question = world.question("max", 1)
        assert question["target"] == str(channel) and question["remote_id"]
        players = []
        for n in range(3):
            user = box.max.add_user(first_name=f"Читатель{n}")["user_id"]
            box.max.join(user, channel)
            players.append(user)
        world.tick(5)
        box.max.comment(players[0], question["remote_id"], "Арина Родионовна")
        box.max.comment(players[1], question["remote_id"], "Не знаю")
        box.max.comment(players[0], question["remote_id"], "Арина Родионовна")  # again
        world.tick(5)
        box.max.comment(players[2], question["remote_id"], "арина радионовна")
        while await reader.poll_once():
            pass
        await world.fire_due(shift(at, 3 * 3600))
        await world.close()
    answers = sorted(r["correct"] for r in world.db["quiz_answers"].rows)
    assert answers == [0, 1, 1]  # one per player, the first
    # Answers are quiz answers, not also counted as comments.
    assert not list(world.db["interactions"].rows_where("network = 'max' and kind = 'comment'"))
    table = store.standings(world.db, world.db["events"].get("central/riddle")["id"], "max")
    assert [s.correct for s in table] == [1, 1, 0]
