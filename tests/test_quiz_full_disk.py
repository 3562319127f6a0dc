"""Quiz answers given while the disk is full are counted once it has room again.

The intake writes a batch of updates in one transaction and, when it fails, reads the
same updates again; the quiz must not take them then for repeats of answers it never
stored. The disk is full the way SQLite sees it (``tests.diskfull``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from bot.quiz import buttons, store
from bot.quiz.answers import AnswerBook
from core.clock import ManualClock
from core.config_file import load_config
from core.quiz_model import QuestionSpec
from core.storage import open_db
from tests.conftest import write_config
from tests.diskfull import disk_full
from tests.quiz_helpers import QuizWorld, local, quiz_world, shift

PLAYERS = 16
QUIZ = """kind = "quiz"
library = "central"
title = "Знатоки Пушкина"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["{network}"]
interval = "2m"
answer_time = "60s"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["Арина Родионовна"]
"""


def _plan(world: QuizWorld, tmp_path: Path, network: str) -> None:
    at = shift(world.clock.current, 60)
    (tmp_path / "events" / "nanny.toml").write_text(
        QUIZ.format(at=local(at), network=network), "utf-8"
    )
    world.plan()


def _answers(world: QuizWorld) -> list[tuple[str, int]]:
    return [(r["name"], r["correct"]) for r in world.db["quiz_answers"].rows_where(order_by="id")]


@pytest.mark.parametrize("full_at", ["quiz_answers", "update_offsets"])
async def test_telegram_answers_refused_by_a_full_disk_count_when_they_come_again(
    tmp_path: Path, full_at: str
) -> None:
    def group_chat(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=21, config=group_chat) as (box, world):
        group = world.tg["group_id"]
        _plan(world, tmp_path, "telegram")
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        await world.fire_due(shift(world.clock.current, 180))
        assert world.question("telegram", 1)["remote_id"]
        players = [box.telegram.add_user(f"Игрок{n}")["id"] for n in range(PLAYERS)]
        for n, player in enumerate(players):
            world.tick()
            box.telegram.post_as_user(player, group, "Арина Родионовна" if n % 2 else "Марина")

        with disk_full(world.db, full_at), pytest.raises(sqlite3.OperationalError, match="full"):
            await intake.poll_once()
        assert _answers(world) == []

        assert await intake.poll_once() == PLAYERS  # the same updates, read again
        stored = _answers(world)
        assert len(stored) == PLAYERS
        assert sum(correct for _, correct in stored) == PLAYERS // 2
        # Once stored, a second answer is a repeat, as ever.
        box.telegram.post_as_user(players[0], group, "Арина Родионовна")
        await intake.poll_once()
        assert len(_answers(world)) == PLAYERS
        await world.close()


async def test_vk_answers_refused_by_a_full_disk_count_when_they_come_again(
    tmp_path: Path,
) -> None:
    readers: list[int] = []

    def community_chat(box) -> dict[str, str]:
        readers.extend(box.vk.add_reader(f"Игрок{n}", "Тестов") for n in range(PLAYERS))
        return {"vk_extra": f"quiz_chat = {box.vk.add_chat(members=readers)}"}

    with quiz_world(tmp_path, seed=22, config=community_chat) as (box, world):
        peer = int(world.config.libraries[0].vk.quiz_chat)
        _plan(world, tmp_path, "vk")
        intake = VkIntake(
            world.db,
            "central",
            world.vk["group_id"],
            world.vk["community_token"],
            world.vk["api_url"],
            world.clock,
            wait=0,
            quiz=world.engine.book,
        )
        await intake.poll_once()  # the long poll starts from now
        await world.fire_due(shift(world.clock.current, 180))
        assert world.question("vk", 1)["remote_id"]
        for n, reader in enumerate(readers):
            world.tick()
            box.vk.write_in_chat(reader, peer, "Арина Родионовна" if n % 2 else "Марина")

        # The answers are written, then the offset is not: the transaction fails whole.
        full = disk_full(world.db, "update_offsets")
        with full, pytest.raises(sqlite3.OperationalError, match="full"):
            await intake.poll_once()
        assert _answers(world) == []

        assert await intake.poll_once() == PLAYERS
        stored = _answers(world)
        assert len(stored) == PLAYERS
        assert sum(correct for _, correct in stored) == PLAYERS // 2
        await world.close()


def test_a_failed_batch_leaves_the_marked_buttons_as_they_were(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    db = open_db(config.storage)
    db["libraries"].insert({"id": "central", "name": "Ц", "timezone": "Europe/Moscow", "paused": 0})
    db["events"].insert({"id": "central/q", "library_id": "central", "kind": "quiz", "title": "Q"})
    opened = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    spec = QuestionSpec(options=("А", "Б", "В"), correct=(0, 2), style="buttons", where="group")
    question = store.open_question(
        db,
        event_id="central/q",
        library_id="central",
        network="telegram",
        target="-100",
        number=1,
        mode="live",
        remote_id="11",
        poll_id=None,
        spec=spec,
        opened_at=opened,
        closes_at=opened + timedelta(seconds=60),
    )
    book = AnswerBook(db, config, ManualClock(opened + timedelta(seconds=5)))
    secret = book.secret("central")

    def press(option: int) -> store.Verdict:
        data = buttons.make_data(secret, question.id, option)
        return book.on_button("telegram", "central", 5, "Анна", data)[0]

    with book.batch(), db.atomic():
        press(0)
    with pytest.raises(sqlite3.OperationalError), book.batch(), db.atomic():
        press(2)
        assert press(buttons.SEND).counted
        book.flush()
        raise sqlite3.OperationalError("database or disk is full")  # e.g. at the commit
    assert db["quiz_answers"].count == 0
    with book.batch(), db.atomic():  # the batch comes again
        press(2)
        verdict = press(buttons.SEND)
        book.flush()
    assert verdict.counted and verdict.correct
    assert [r["answer"] for r in db["quiz_answers"].rows] == ["1,3"]
