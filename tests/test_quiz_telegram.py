"""A live quiz in a Telegram group, end to end on the stand-in, with 50 simulated players.

Players answer right, wrong, late, twice, by edit and with forged buttons; the final
standings must equal the independent account kept by the test (``Expected``).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

from bot.intake.telegram import TelegramIntake
from bot.quiz import store
from core.config import ReportRules
from reports.figures import build_report
from reports.period import date_range
from sandbox.server import Sandbox
from tests.images import png
from tests.quiz_helpers import Expected, QuizWorld, local, shift, start_time

PLAYERS = 50
QUIZ = """kind = "quiz"
library = "central"
title = "Знатоки Пушкина"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["telegram"]
interval = "2m"
answer_time = "60s"
speed_bonus = 2
winners = 3

[[questions]]
text = "Кто написал «Евгения Онегина»?"
options = ["Пушкин", "Лермонтов", "Гоголь"]
correct = 1

[[questions]]
text = "Какой это портрет?"
options = ["Пушкина", "Гоголя"]
correct = 1
image = "portrait.png"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["Арина Родионовна"]
points = 2
"""


async def test_live_quiz_in_a_telegram_group(tmp_path: Path) -> None:
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=5, clock=lambda: now["now"]) as box:
        box.vk.set_rate_limits(enabled=False)
        box.telegram.set_rate_limits(enabled=False)
        group = box.info()["telegram"]["group_id"]
        staff = box.telegram.add_user("Сотрудник")["id"]  # library staff do not play
        extra = f"quiz_chat = {group}\nstaff = [{staff}]"
        world = QuizWorld(box, tmp_path, start, telegram_extra=extra)
        world.stand_in_time = now
        (tmp_path / "events" / "portrait.png").write_bytes(png(40, 40))
        at = shift(start, 60)
        (tmp_path / "events" / "pushkin.toml").write_text(
            QUIZ.format(at=local(at)), encoding="utf-8"
        )
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()

        tick = world.tick

        async def drain() -> None:
            while await intake.poll_once():
                pass

        rng = random.Random(7)
        users = [box.telegram.add_user(f"Игрок{n}", "<b>Х</b>")["id"] for n in range(PLAYERS)]
        names = {u: f"Игрок{n} <b>Х</b>" for n, u in enumerate(users)}
        expected = Expected(window=60, bonus=2)

        # Intro, then question 1: a native quiz poll, non-anonymous in the group.
        fired = await world.fire_due(shift(at, 120))
        assert [r["state"] for r in fired] == ["sent", "sent"]
        q1 = world.question("telegram", 1)
        opened = world.clock.current
        late_players = []
        for user in users:
            tick()
            if rng.random() < 0.1:
                late_players.append(user)
                continue
            choice = rng.choice([0, 0, 1, 2])
            box.telegram.vote_as_user(user, group, int(q1["remote_id"]), [choice])
            await drain()
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(1, names[user], elapsed, choice == 0, stamped=False)
        # Close (stopPoll): late votes are refused by Telegram itself.
        await world.fire_due(shift(at, 120 + 62))
        for user in late_players:
            with contextlib.suppress(ValueError):  # Telegram refuses votes in a closed poll
                box.telegram.vote_as_user(user, group, int(q1["remote_id"]), [0])
        await drain()

        # Question 2: a photo with answer buttons (a poll cannot carry an image).
        await world.fire_due(shift(at, 240))
        q2 = world.question("telegram", 2)
        opened = world.clock.current
        message = next(
            m for m in box.telegram.messages(group) if m["message_id"] == int(q2["remote_id"])
        )
        rows = message["reply_markup"]["inline_keyboard"]
        data = [row[0]["callback_data"] for row in rows]
        forged = data[0][:-3] + "abc"
        for user in users:
            tick()
            roll = rng.random()
            if roll < 0.1:
                box.telegram.forge_callback(user, group, int(q2["remote_id"]), forged)
                await drain()
                continue  # a forged press counts for nothing
            choice = rng.choice([0, 1])
            box.telegram.press_as_user(user, group, int(q2["remote_id"]), data[choice])
            await drain()
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(2, names[user], elapsed, choice == 0, stamped=False)
            if roll > 0.8:  # presses again, the other button: only the first counts
                tick()
                box.telegram.press_as_user(user, group, int(q2["remote_id"]), data[1 - choice])
                await drain()
        await world.fire_due(shift(at, 240 + 62))
        # After the close the buttons are gone; an old client may still send the data.
        box.telegram.forge_callback(users[0], group, int(q2["remote_id"]), data[0])
        await drain()
        replies = [a for a in box.telegram.callback_answers() if a.get("answer")]
        texts = [a["answer"].get("text") for a in replies]
        assert "Кнопка недействительна." in texts
        assert "Засчитывается только первый ответ." in texts
        assert texts[-1] == "Вопрос уже закрыт."

        # Question 3: typed answers in the group; typos forgiven, edits count as first written.
        await world.fire_due(shift(at, 360))
        opened = world.clock.current
        variants = {
            "арина родионовна": True,
            "Арина Радионовна!": True,
            "  АРИНА   РОДИОНОВНА ": True,
            "Марина": False,
            "не знаю": False,
        }
        written: dict[int, int] = {}
        for user in users:
            tick()
            if rng.random() < 0.1:
                late_players.append(user)
                continue
            text = rng.choice(list(variants))
            sent = box.telegram.post_as_user(user, group, text)
            written[user] = sent["message_id"]
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(3, names[user], elapsed, variants[text], points=2)
            if rng.random() < 0.2:  # a second message: ignored
                tick()
                box.telegram.post_as_user(user, group, "Арина Родионовна")
        await drain()
        # An edit into the right answer does not change the first answer.
        wrong = [u for u in written if not expected.answered.get((3, names[u]), (0, 1))[1]]
        box.telegram.edit_as_user(wrong[0], group, written[wrong[0]], "Арина Родионовна")
        box.telegram.post_as_user(staff, group, "Арина Родионовна")  # staff: not counted
        await drain()
        await world.fire_due(shift(at, 360 + 62))
        for user in late_players[-3:]:
            box.telegram.post_as_user(user, group, "Арина Родионовна")  # after the close
        await drain()

        # The results.
        fired = await world.fire_due(shift(at, 600))
        assert fired and fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        await world.close()

    table = store.standings(world.db, world.db["events"].get("central/pushkin")["id"], "telegram")
    got = [(s.name, round(s.points, 2), s.correct) for s in table]
    assert set(got) == set(expected.table()), set(got) ^ set(expected.table())
    assert got == expected.table()
    assert len(got) == len({p for (_, p) in expected.answered})
    results = list(world.db["quiz_results"].rows_where(order_by="place"))
    assert [r["winner"] for r in results[:4]] == [1, 1, 1, 0]
    final = box.telegram.messages(group)[-1]["text"]
    assert "итоги" in final and expected.table()[0][0] in final
    # Names are escaped: the players' "<b>" shows as text, not as markup.
    assert "<b>Х</b>" in final
    # One standings message, edited in place after question 1 and 2 (not a new one each time).
    standings = [
        m for m in box.telegram.messages(group) if "после вопроса" in (m.get("text") or "")
    ]
    assert len(standings) == 1 and "после вопроса 2" in standings[0]["text"]
    stored = {r["name"] for r in world.db["quiz_answers"].rows_where("number = 3")}
    missing = [p for (q, p) in expected.answered if q == 3 and p not in stored]
    assert not missing, (missing, [expected.answered[(3, p)] for p in missing])
    figures = store.question_figures(world.db, "central/pushkin")
    assert [f["answers"] for f in figures] == [
        sum(1 for (q, _) in expected.answered if q == n) for n in (1, 2, 3)
    ]
    # What the close and the results kept is what the answers say: a report read from
    # the kept counts equals one counted from every answer.
    questions = list(world.db["quiz_questions"].rows_where(order_by="number"))
    assert [q["answers"] for q in questions] == [f["answers"] for f in figures]
    assert [q["correct"] for q in questions] == [f["correct"] for f in figures]
    assert all(r["answers"] for r in results)
    kept = _report(world.db)
    world.db.execute("update quiz_questions set answers = null, correct = null")
    world.db.execute("update quiz_results set answers = null")
    world.db.conn.commit()
    counted = _report(world.db)
    assert kept.rows[0].participations == sum(1 for _ in expected.answered) > 0
    assert [asdict(r) for r in kept.rows] == [asdict(r) for r in counted.rows]
    assert kept.libraries[0].questions == counted.libraries[0].questions
    assert asdict(kept.libraries[0].summary) == asdict(counted.libraries[0].summary)


def _report(db):
    period = date_range(date(2000, 1, 1), date(2100, 1, 1))
    return build_report(db, period, ReportRules(), now=datetime(2100, 1, 1, tzinfo=UTC))
