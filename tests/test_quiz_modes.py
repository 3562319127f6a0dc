"""The other quiz modes end to end: comments (VK wall, Telegram discussion), daily (VK wall
polls), channel (Telegram anonymous quiz polls), and a poll closed with a results post."""

from __future__ import annotations

import random
from pathlib import Path

from bot.intake.telegram import TelegramIntake
from bot.quiz import store
from tests.quiz_helpers import Expected, local, quiz_world, shift
from tests.test_quiz_vk import vk_intake

PLAYERS = 50
COMMENTS = """kind = "quiz"
library = "central"
title = "Угадай автора"
text = "Кто написал эти строки? Ответы — в комментариях. Первые 5 правильных побеждают!"
at = {at}
mode = "comments"
networks = {networks}
answer_time = "1h"
winners = 5

[[questions]]
text = "«Мой дядя самых честных правил…»"
answers = ["Пушкин", "Александр Пушкин", "А. С. Пушкин"]
"""
VARIANTS = {
    "Пушкин": True,
    "пушкин!": True,
    "Пушкинн": True,
    "А.С. Пушкин": True,
    "Лермонтов": False,
    "не знаю": False,
}


async def test_comments_quiz_on_the_vk_wall(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 11) as (box, world):
        start = world.clock.now()
        at = shift(start, 60)
        text = COMMENTS.format(at=local(at), networks='["vk"]')
        (tmp_path / "events" / "who.toml").write_text(text, "utf-8")
        world.plan()
        intake = vk_intake(world)
        await intake.poll_once()
        await world.fire_due(at)
        post = world.question("vk", 1)["remote_id"]
        ref = f"-{world.vk['group_id']}_{post}"
        rng = random.Random(5)
        readers = [box.vk.add_reader(f"Читатель{n}", "Т") for n in range(PLAYERS)]
        expected = Expected(window=3600, bonus=0)
        comments = {}
        for reader in readers:
            world.tick(30)
            answer = rng.choice(list(VARIANTS))
            comments[reader] = box.vk.comment(reader, ref, answer)
            elapsed = (world.clock.current - at).total_seconds()
            name = f"[id{reader}|Читатель{readers.index(reader)} Т]"
            expected.answer(1, name, elapsed, VARIANTS[answer])
            if rng.random() < 0.15:
                box.vk.comment(reader, ref, "Пушкин")  # a second comment: ignored
        # Edits: a wrong comment edited into the right answer still counts as first written.
        wrong = [r for r in readers if not VARIANTS.get(_text_of(box, comments[r]), True)]
        assert len(wrong) >= 3
        for reader in wrong[:3]:
            box.vk.edit_comment(comments[reader], "Пушкин")
        await intake.poll_once()
        await world.fire_due(shift(at, 3600 + 2))  # the close (results follow a second later)
        late = box.vk.add_reader("Опоздавший", "Т")
        box.vk.comment(late, ref, "Пушкин")  # after the close: ignored
        await intake.poll_once()
        fired = await world.fire_due(shift(at, 3700))
        assert fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        results_post = box.vk.posts(world.vk["group_id"])[-1]["text"]
        await world.close()
    table = store.standings(world.db, "central/who", "vk")
    got = [(s.name, s.points, s.correct) for s in table]
    assert got == expected.table()
    first_five = [name for name, points, _ in expected.table()[:5] if points > 0]
    assert all(name in results_post for name in first_five)
    assert f"id{late}" not in {s.name for s in table}


def _text_of(box, comment_id: int) -> str:
    for post in box.state()["vk"]["posts"]:
        for comment in post.get("comments_list", post.get("comments", [])) or []:
            if isinstance(comment, dict) and comment.get("id") == comment_id:
                return comment.get("text", "")
    return ""


CHANNEL = """kind = "quiz"
library = "central"
title = "Викторина в канале"
text = "Три вопроса, по одному в день."
at = {at}
mode = "channel"
networks = ["telegram"]
interval = "1d"
answer_time = "20h"

[[questions]]
text = "Кто автор «Ревизора»?"
options = ["Гоголь", "Чехов", "Островский"]
correct = 1

[[questions]]
text = "Сколько томов в «Войне и мире»?"
options = ["Два", "Четыре", "Шесть"]
correct = 2
"""


async def test_channel_quiz_records_totals_and_share_of_right_answers(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 13) as (box, world):
        start = world.clock.now()
        at = shift(start, 60)
        (tmp_path / "events" / "chan.toml").write_text(CHANNEL.format(at=local(at)), "utf-8")
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(world.db, bot, list(world.config.libraries), world.clock, 0)
        channel = world.tg["channel_id"]
        users = [u["id"] for u in box.telegram.add_users(PLAYERS)]
        rng = random.Random(2)
        votes = {1: [0, 0, 0], 2: [0, 0, 0]}
        for number in (1, 2):
            await world.fire_due(shift(at, 86400 * number))
            question = world.question("telegram", number)
            assert question["poll_id"]
            for user in users[: 30 + 10 * number]:
                choice = rng.choice([0, 1, 2])
                box.telegram.vote_as_user(user, channel, int(question["remote_id"]), [choice])
                votes[number][choice] += 1
            while await intake.poll_once():
                pass
            await world.fire_due(shift(at, 86400 * number + 20 * 3600 + 2))
        fired = await world.fire_due(shift(at, 86400 * 3 + 60))
        assert fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        text = box.telegram.messages(channel)[-1]["text"]
        await world.close()
    # Anonymous polls: no players, only totals per option.
    assert world.db["quiz_answers"].count == 0
    share_1 = round(100 * votes[1][0] / sum(votes[1]), 1)
    share_2 = round(100 * votes[2][1] / sum(votes[2]), 1)
    assert f"Вопрос 1: ответов {sum(votes[1])}, верных {share_1} %" in text
    assert f"Вопрос 2: ответов {sum(votes[2])}, верных {share_2} %" in text


async def test_comments_quiz_in_a_telegram_channel_discussion(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 17) as (box, world):
        start = world.clock.now()
        at = shift(start, 60)
        text = COMMENTS.format(at=local(at), networks='["telegram"]')
        (tmp_path / "events" / "who.toml").write_text(text, "utf-8")
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        await world.fire_due(at)
        post = int(world.question("telegram", 1)["remote_id"])
        users = [box.telegram.add_user(f"Игрок{n}")["id"] for n in range(PLAYERS)]
        rng = random.Random(4)
        expected = Expected(window=3600, bonus=0)
        names = {}
        for user in users:
            world.tick(20)
            answer = rng.choice(list(VARIANTS))
            sent = box.telegram.comment_on_post(user, post, answer)
            names[user] = " ".join(
                p for p in (sent["from"]["first_name"], sent["from"].get("last_name")) if p
            )
            elapsed = (world.clock.current - at).total_seconds()
            expected.answer(1, names[user], elapsed, VARIANTS[answer])
            if rng.random() < 0.2:
                world.tick()
                box.telegram.comment_on_post(user, post, "Пушкин")  # ignored: not the first
            while await intake.poll_once():
                pass
        await world.fire_due(shift(at, 3600 + 2))
        box.telegram.comment_on_post(users[0], post, "Пушкин")  # after the close
        while await intake.poll_once():
            pass
        fired = await world.fire_due(shift(at, 3700))
        assert fired[-1]["state"] == "sent"
        await world.close()
    table = store.standings(world.db, "central/who", "telegram")
    assert [(s.name, s.points, s.correct) for s in table] == expected.table()


DAILY = """kind = "quiz"
library = "central"
title = "Вопрос дня"
text = "Всю неделю — по вопросу в день. Голосуйте в опросе под постом!"
at = {at}
mode = "daily"
networks = ["vk"]

[[questions]]
text = "Кто написал «Муму»?"
options = ["Тургенев", "Толстой", "Гончаров"]
correct = 1

[[questions]]
text = "Где родился Есенин?"
options = ["Константиново", "Тарханы", "Ясная Поляна"]
correct = 1
"""


async def test_daily_quiz_on_the_vk_wall_with_polls(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 19) as (box, world):
        start = world.clock.now()
        at = shift(start, 60)
        (tmp_path / "events" / "day.toml").write_text(DAILY.format(at=local(at)), "utf-8")
        world.plan()
        intake = vk_intake(world)
        await intake.poll_once()
        readers = [box.vk.add_reader(f"Ч{n}", "Т") for n in range(PLAYERS)]
        rng = random.Random(8)
        expected = Expected(window=86400, bonus=0)
        for number in (1, 2):
            await world.fire_due(shift(at, 86400 * number))
            question = world.question("vk", number)
            poll = next(
                p for p in box.state()["vk"]["polls"] if str(p["id"]) == question["poll_id"]
            )
            answer_ids = [a["id"] for a in poll["answers"]]
            opened = world.clock.current
            for reader in readers:
                world.tick(60)
                if rng.random() < 0.2:
                    continue  # skips today's question
                choice = rng.choice([0, 1, 2])
                box.vk.vote(reader, int(question["poll_id"]), [answer_ids[choice]])
                await intake.poll_once()
                elapsed = (world.clock.current - opened).total_seconds()
                name = f"[id{reader}|Ч{readers.index(reader)} Т]"
                expected.answer(number, name, elapsed, choice == 0, stamped=False)
            await world.fire_due(shift(at, 86400 * (number + 1) - 1))
        await world.fire_due(shift(at, 86400 * 3 + 60))
        await world.close()
    table = store.standings(world.db, "central/day", "vk")
    assert [(s.name, s.points, s.correct) for s in table] == expected.table()
    winners = [r for r in world.db["quiz_results"].rows if r["winner"]]
    assert len(winners) == 3


POLL = """kind = "poll"
library = "central"
question = "Какую книгу обсудим?"
options = ["Мастер и Маргарита", "Война и мир", "Тихий Дон"]
at = {at}
close_at = {close}
"""


async def test_poll_closes_and_posts_totals_per_network_and_combined(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 23) as (box, world):
        start = world.clock.now()
        at, close = shift(start, 60), shift(start, 3600)
        text = POLL.format(at=local(at), close=local(close))
        (tmp_path / "events" / "vote.toml").write_text(text, "utf-8")
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(world.db, bot, list(world.config.libraries), world.clock, 0)
        await world.fire_due(at)
        pubs = {p["network"]: p for p in world.db["publications"].rows}
        vk_poll = next(
            p for p in box.state()["vk"]["polls"] if str(p["id"]) == pubs["vk"]["poll_id"]
        )
        vk_answers = [a["id"] for a in vk_poll["answers"]]
        for n, choice in enumerate((0, 0, 1, 2, 0)):
            box.vk.vote(
                box.vk.add_reader(f"В{n}", "Т"), int(pubs["vk"]["poll_id"]), [vk_answers[choice]]
            )
        channel = world.tg["channel_id"]
        for n, choice in enumerate((1, 1, 2)):
            user = box.telegram.add_user(f"Г{n}")["id"]
            box.telegram.vote_as_user(user, channel, int(pubs["telegram"]["remote_id"]), [choice])
        # Telegram closes the poll itself at close_date; its last totals come as updates.
        fired = await world.fire_due(shift(close, 10))
        while await intake.poll_once():
            pass
        fired += await world.fire_due(shift(close, 120))
        assert [r["kind"] for r in fired].count("close") == 2
        assert all(r["state"] == "sent" for r in fired)
        tg_text = box.telegram.messages(channel)[-1]["text"]
        vk_text = box.vk.posts(world.vk["group_id"])[-1]["text"]
        await world.close()
    # Мастер и Маргарита: VK 3 + Telegram 0; Война и мир: 1 + 2; Тихий Дон: 1 + 1.
    for text in (tg_text, vk_text):
        assert "1. Мастер и Маргарита — 3 (Telegram: 0, " in text
        assert "2. Война и мир — 3 (Telegram: 2, " in text
        assert "3. Тихий Дон — 2 (Telegram: 1, " in text
        assert "Всего голосов: 8." in text


async def test_daily_quiz_in_a_telegram_group_accumulates_standings(tmp_path: Path) -> None:
    def chat(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, 29, chat) as (box, world):
        start = world.clock.now()
        group = world.tg["group_id"]
        at = shift(start, 60)
        text = DAILY.format(at=local(at)).replace('networks = ["vk"]', 'networks = ["telegram"]')
        (tmp_path / "events" / "day.toml").write_text(text, "utf-8")
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        users = [box.telegram.add_user(f"Читатель{n}")["id"] for n in range(PLAYERS)]
        rng = random.Random(12)
        expected = Expected(window=86400, bonus=0)
        for number in (1, 2):
            await world.fire_due(shift(at, 86400 * number))
            question = world.question("telegram", number)
            opened = world.clock.current
            for user in users:
                world.tick(60)
                if rng.random() < 0.2:
                    continue
                choice = rng.choice([0, 1, 2])
                box.telegram.vote_as_user(user, group, int(question["remote_id"]), [choice])
                while await intake.poll_once():
                    pass
                elapsed = (world.clock.current - opened).total_seconds()
                expected.answer(
                    number, f"Читатель{users.index(user)}", elapsed, choice == 0, stamped=False
                )
            await world.fire_due(shift(at, 86400 * (number + 1) - 1))
        await world.fire_due(shift(at, 86400 * 3 + 60))
        messages = box.telegram.messages(group)
        await world.close()
    table = store.standings(world.db, "central/day", "telegram")
    assert [(s.name, s.points, s.correct) for s in table] == expected.table()
    # Daily: the standings after question 1 are a message of their own (a day later a new
    # one would be needed anyway), then the final results.
    texts = [m.get("text") or "" for m in messages]
    assert sum("после вопроса 1" in t for t in texts) == 1
    assert "итоги" in texts[-1]
