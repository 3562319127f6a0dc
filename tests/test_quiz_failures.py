"""Quizzes when the platform fails for good: a question that never left, a close refused.

A question whose send fails is never open (after a restart nothing points the chat at
it), and a question is closed in the database whatever the platform says about the
close: the standings follow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.intake.telegram import TelegramIntake
from bot.quiz import store
from tests.quiz_helpers import QuizWorld, local, quiz_world, shift
from tests.test_quiz_vk import vk_intake

LIVE = """kind = "quiz"
library = "central"
title = "Викторина о реках"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["{network}"]
interval = "2m"
answer_time = "60s"

[[questions]]
text = "Какая река самая длинная в Европе?"
answers = ["Волга"]

[[questions]]
text = "На какой реке стоит Москва?"
answers = ["Москва"]
"""


def _group(box) -> dict[str, str]:
    return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}


def _restart(world: QuizWorld) -> None:
    """The bot restarts: a new engine (and answer book) and runner over the same database."""
    world.build(world.platforms)
    world.runner.recover()


def _telegram_intake(world: QuizWorld) -> TelegramIntake:
    bot = world.platforms[("central", "telegram")].bot
    libraries = list(world.config.libraries)
    return TelegramIntake(world.db, bot, libraries, world.clock, 0, quiz=world.engine.book)


async def _drain(intake: TelegramIntake) -> None:
    while await intake.poll_once():
        pass


async def test_a_question_that_never_left_does_not_swallow_the_chat(tmp_path: Path) -> None:
    with quiz_world(tmp_path, 61, _group) as (box, world):
        group = world.tg["group_id"]
        at = shift(world.clock.now(), 60)
        text = LIVE.format(at=local(at), network="telegram")
        (tmp_path / "events" / "rivers.toml").write_text(text, "utf-8")
        world.plan()
        await world.fire_due(at)  # the intro
        # The bot was removed from the group just before question 1: Telegram refuses it.
        box.telegram.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the group")
        fired = await world.fire_due(shift(at, 120))
        assert [r["state"] for r in fired if r["kind"] == "question"] == ["failed"]
        assert world.question("telegram", 1)["closed_at"] is not None  # never open

        _restart(world)
        intake = _telegram_intake(world)
        await intake.start()
        player = box.telegram.add_user("Читатель")["id"]
        # Between the questions the chat is just a chat: its messages are recorded.
        box.telegram.post_as_user(player, group, "Когда следующий вопрос?")
        await _drain(intake)
        assert world.db["interactions"].count_where("kind = 'message'") == 1

        await world.fire_due(shift(at, 240))  # question 2, asked after the restart
        box.telegram.post_as_user(player, group, "Москва")
        await _drain(intake)
        await world.fire_due(shift(at, 600))
        await world.close()
    [answer] = world.db["quiz_answers"].rows
    assert (answer["number"], answer["correct"]) == (2, 1)
    assert [s.correct for s in store.standings(world.db, "central/rivers", "telegram")] == [1]


async def test_a_vk_question_that_never_left_is_not_open_after_a_restart(tmp_path: Path) -> None:
    people: list[int] = []

    def chat(box) -> dict[str, str]:
        people.append(box.vk.add_reader("Читатель", "Т"))
        return {"vk_extra": f"quiz_chat = {box.vk.add_chat(members=people)}"}

    with quiz_world(tmp_path, 62, chat) as (box, world):
        peer = int(world.config.libraries[0].vk.quiz_chat)  # type: ignore[union-attr]
        at = shift(world.clock.now(), 60)
        text = LIVE.format(at=local(at), network="vk")
        (tmp_path / "events" / "rivers.toml").write_text(text, "utf-8")
        world.plan()
        await world.fire_due(at)
        box.vk.fail_next("messages.send", 917)  # the community lost access to the chat
        fired = await world.fire_due(shift(at, 120))
        assert [r["state"] for r in fired if r["kind"] == "question"] == ["failed"]

        _restart(world)
        assert not world.engine.book.waiting("vk")  # nothing open: nothing to wait for
        intake = vk_intake(world)
        await intake.poll_once()
        [reader] = people
        box.vk.write_in_chat(reader, peer, "Когда следующий вопрос?")
        await intake.poll_once()
        assert world.db["interactions"].count_where("kind = 'message'") == 1
        await world.fire_due(shift(at, 240))
        box.vk.write_in_chat(reader, peer, "москва")
        await intake.poll_once()
        await world.fire_due(shift(at, 600))
        await world.close()
    [answer] = world.db["quiz_answers"].rows
    assert (answer["number"], answer["correct"]) == (2, 1)


OPTIONS = """kind = "quiz"
library = "central"
title = "Викторина о реках"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["{network}"]
interval = "2m"
answer_time = "60s"

[[questions]]
text = "Какая река самая длинная в Европе?"
options = ["Волга", "Дунай", "Урал"]
correct = 1

[[questions]]
text = "На какой реке стоит Москва?"
options = ["Ока", "Москва"]
correct = 2
"""


def _both(box) -> dict[str, str]:
    box.vk_player = box.vk.add_reader("Читатель", "Т")
    return {
        "telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}",
        "vk_extra": f"quiz_chat = {box.vk.add_chat(members=[box.vk_player])}",
    }


@pytest.mark.parametrize("network", ["telegram", "vk"])
async def test_a_close_refused_by_the_platform_still_closes_the_question(
    tmp_path: Path, network: str
) -> None:
    with quiz_world(tmp_path, 63, _both) as (box, world):
        at = shift(world.clock.now(), 60)
        text = OPTIONS.format(at=local(at), network=network)
        (tmp_path / "events" / "rivers.toml").write_text(text, "utf-8")
        world.plan()
        await world.fire_due(shift(at, 120))
        question = world.question(network, 1)
        secret = world.engine.book.secret("central")
        if network == "telegram":
            group = world.tg["group_id"]
            player = box.telegram.add_user("Читатель")["id"]
            box.telegram.vote_as_user(player, group, int(question["remote_id"]), [0])
            intake = _telegram_intake(world)
            await intake.start()
            await _drain(intake)
            # The poll's message was deleted by an admin: stopPoll cannot find it.
            box.telegram.fail_next("stopPoll", 400, "Bad Request: message to stop not found")
            target = group
        else:
            from bot.quiz import buttons

            peer = int(world.config.libraries[0].vk.quiz_chat)  # type: ignore[union-attr]
            player = box.vk_player
            intake = vk_intake(world)
            await intake.poll_once()
            data = buttons.make_data(secret, question["id"], 0)
            box.vk.press_button(
                player,
                f'{{"a": "{data}"}}',
                peer_id=peer,
                conversation_message_id=int(question["remote_id"]),
            )
            await intake.poll_once()
            # VK refuses to edit the message (e.g. deleted): the keyboard cannot go.
            box.vk.fail_next("messages.edit", 909)
            target = peer
        fired = await world.fire_due(shift(at, 120 + 62))
        [close] = [r for r in fired if r["kind"] == "close"]
        assert close["state"] == "sent", close["error"]
        assert world.question(network, 1)["closed_at"] is not None
        assert not world.engine.book.waiting(network)
        if network == "telegram":
            texts = [m.get("text") or "" for m in box.telegram.messages(target)]
        else:
            texts = [m.get("text") or "" for m in box.vk.chat_messages(target)]
        assert any("после вопроса 1" in t for t in texts), texts
        await world.close()
    assert world.db["quiz_questions"].get(question["id"])["answers"] == 1
