"""The Telegram stand-in hosting live quizzes, driven by the real python-telegram-bot client.

Quiz polls in a supergroup and a channel, questions with inline buttons edited in place,
forged callback data, many players writing and editing, and the bulk path a benchmark uses
to push thousands of answers through getUpdates. The stand-in's clock is frozen: only the
tests move it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import telegram
from telegram.error import BadRequest

from sandbox.server import Sandbox
from tests.telegram_clients import TLS, make_request

PLAYERS = 5_000


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as sandbox:
        sandbox.telegram.set_rate_limits(enabled=False)
        yield sandbox


@pytest.fixture
def sb(running: Sandbox) -> Sandbox:
    running.reset()
    running.telegram.freeze_clock(True)
    return running


@pytest.fixture
def tg(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["telegram"]


@pytest.fixture
async def bot(tg: dict[str, Any]) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        tg["token"],
        base_url=tg["api_url"],
        request=make_request(),
        get_updates_request=make_request(),
    ) as client:
        yield client


async def drain(bot: telegram.Bot) -> list[telegram.Update]:
    """Every pending update, 100 at a time, confirming each batch as a polling bot does."""
    received: list[telegram.Update] = []
    offset = None
    while batch := await bot.get_updates(offset=offset, limit=100, timeout=0):
        received += batch
        offset = batch[-1].update_id + 1
    await bot.get_updates(offset=offset, timeout=0)
    return received


async def send_quiz(bot: telegram.Bot, chat_id: int, **extra: Any) -> telegram.Message:
    return await bot.send_poll(
        chat_id,
        "Кто написал «Евгения Онегина»?",
        ["Пушкин", "Лермонтов", "Гоголь"],
        type="quiz",
        correct_option_ids=[0],
        **extra,
    )


# -- quiz polls ------------------------------------------------------------------------


async def test_group_quiz_reports_each_player_and_closes_on_its_timer(bot, tg, sb):
    quiz = await send_quiz(
        bot, tg["group_id"], is_anonymous=False, open_period=30, explanation="Роман в стихах"
    )
    assert quiz.poll.correct_option_ids == (0,) and quiz.poll.explanation == "Роман в стихах"
    assert quiz.poll.close_date is not None and not quiz.poll.is_closed
    anna, lev, late = sb.telegram.add_users(3)
    sb.telegram.vote_as_user(anna["id"], tg["group_id"], quiz.message_id, [0])
    sb.telegram.vote_as_user(lev["id"], tg["group_id"], quiz.message_id, [2])
    with pytest.raises(ValueError, match="does not allow changing"):
        sb.telegram.vote_as_user(anna["id"], tg["group_id"], quiz.message_id, [1])

    sb.telegram.advance_clock(31)
    updates = await drain(bot)
    answers = [(u.poll_answer.user.id, u.poll_answer.option_ids) for u in updates if u.poll_answer]
    assert answers == [(anna["id"], (0,)), (lev["id"], (2,))]
    final = [u.poll for u in updates if u.poll][-1]
    assert final.is_closed and [o.voter_count for o in final.options] == [1, 0, 1]
    with pytest.raises(ValueError, match="closed"):
        sb.telegram.vote_as_user(late["id"], tg["group_id"], quiz.message_id, [0])
    with pytest.raises(BadRequest, match="(?i)already been closed"):
        await bot.stop_poll(tg["group_id"], quiz.message_id)


async def test_stop_poll_returns_the_final_quiz(bot, tg, sb):
    quiz = await send_quiz(bot, tg["group_id"], is_anonymous=False)
    players = sb.telegram.add_users(4)
    sb.telegram.vote_many(
        tg["group_id"], quiz.message_id, [(p["id"], [i % 2]) for i, p in enumerate(players)]
    )
    stopped = await bot.stop_poll(tg["group_id"], quiz.message_id)
    assert stopped.is_closed and stopped.total_voter_count == 4
    assert [o.voter_count for o in stopped.options] == [2, 2, 0]
    assert stopped.correct_option_ids == (0,)


async def test_the_old_correct_option_id_is_still_accepted(tg, sb):
    async with httpx.AsyncClient(verify=TLS, base_url=tg["api_url"] + tg["token"] + "/") as raw:
        common = {"chat_id": tg["group_id"], "question": "2+2?", "options": ["3", "4"]}
        old = await raw.post("sendPoll", json={**common, "type": "quiz", "correct_option_id": 1})
        assert old.json()["result"]["poll"]["correct_option_ids"] == [1]
        for explanation, ok in (("я" * 200, True), ("я" * 201, False)):
            answer = await raw.post(
                "sendPoll",
                json={
                    **common,
                    "type": "quiz",
                    "correct_option_ids": [1],
                    "explanation": explanation,
                },
            )
            assert answer.json()["ok"] is ok
            if not ok:
                assert "explanation is too long" in answer.json()["description"]


async def test_channel_quiz_is_anonymous_and_gives_totals_only(bot, tg, sb):
    with pytest.raises(BadRequest, match="(?i)non-anonymous"):
        await send_quiz(bot, tg["channel_id"], is_anonymous=False)
    quiz = await send_quiz(bot, tg["channel_id"])
    await drain(bot)  # the copy in the discussion group
    players = sb.telegram.add_users(50)
    sb.telegram.vote_many(
        tg["channel_id"],
        quiz.message_id,
        [(p["id"], [0 if i < 30 else 1]) for i, p in enumerate(players)],
    )
    (update,) = await drain(bot)
    assert update.poll is not None and update.poll_answer is None
    assert [o.voter_count for o in update.poll.options] == [30, 20, 0]


async def test_vote_many_checks_every_vote_before_counting_any(bot, tg, sb):
    quiz = await send_quiz(bot, tg["group_id"], is_anonymous=False)
    first, second = sb.telegram.add_users(2)
    sb.telegram.vote_as_user(first["id"], tg["group_id"], quiz.message_id, [1])
    for votes in (
        [(second["id"], [0]), (first["id"], [0])],  # first already answered the quiz
        [(second["id"], [0]), (second["id"], [1])],  # the same player twice
        [(second["id"], [7])],  # no such option
    ):
        with pytest.raises(ValueError):
            sb.telegram.vote_many(tg["group_id"], quiz.message_id, votes)
    poll = sb.telegram.state()["polls"][0]
    assert poll["total_voter_count"] == 1


async def test_five_thousand_answers_drain_through_get_updates(bot, tg, sb):
    quiz = await send_quiz(bot, tg["group_id"], is_anonymous=False, open_period=600)
    players = sb.telegram.add_users(PLAYERS)
    started = time.perf_counter()
    sb.telegram.vote_many(
        tg["group_id"], quiz.message_id, [(p["id"], [i % 3]) for i, p in enumerate(players)]
    )
    queued = time.perf_counter()
    updates = await drain(bot)
    drained = time.perf_counter()

    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [a.user.id for a in answers] == [p["id"] for p in players]
    assert len(updates) == PLAYERS + 1 and updates[-1].poll.total_voter_count == PLAYERS
    print(
        f"\nqueued {PLAYERS} answers in {queued - started:.2f}s; "
        f"drained {len(updates)} updates in {drained - queued:.2f}s "
        f"= {len(updates) / (drained - queued):.0f} updates/s"
    )


# -- questions with buttons ------------------------------------------------------------------


def _question(*answers: str) -> telegram.InlineKeyboardMarkup:
    return telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton(a, callback_data=f"q1:{i}") for i, a in enumerate(answers)]]
    )


async def test_buttons_presses_forgeries_and_an_edited_question(bot, tg, sb):
    question = await bot.send_message(
        tg["group_id"], "Вопрос 1: столица России?", reply_markup=_question("Москва", "Казань")
    )
    player = sb.telegram.add_user("Мария")
    sb.telegram.press_as_user(player["id"], tg["group_id"], question.message_id, "q1:0")
    sb.telegram.forge_callback(player["id"], tg["group_id"], question.message_id, "q1:0:x100")
    with pytest.raises(ValueError, match="no button"):
        sb.telegram.press_as_user(player["id"], tg["group_id"], question.message_id, "q1:9")

    honest, forged = [u.callback_query for u in await drain(bot)]
    assert (honest.data, forged.data) == ("q1:0", "q1:0:x100")
    assert forged.message.message_id == question.message_id
    assert await bot.answer_callback_query(honest.id, text="Ответ принят")
    assert await bot.answer_callback_query(forged.id, text="Подделка отклонена", show_alert=True)
    answers = {a["data"]: a["answer"] for a in sb.telegram.callback_answers()}
    assert answers["q1:0:x100"] == {"text": "Подделка отклонена", "show_alert": True, "url": None}

    closed = await bot.edit_message_text(
        "Вопрос 1 закрыт: Москва",
        tg["group_id"],
        question.message_id,
        reply_markup=_question("Итоги"),
    )
    assert closed.edit_date and closed.reply_markup.inline_keyboard[0][0].text == "Итоги"
    # A keyboard an edit replaced can still be "pressed" by a modified client: a replay.
    sb.telegram.forge_callback(player["id"], tg["group_id"], question.message_id, "q1:1")
    (replay,) = await drain(bot)
    assert replay.callback_query.data == "q1:1"


async def test_forgeries_need_a_message_of_the_bot(tg, sb):
    player = sb.telegram.add_user()
    said = sb.telegram.post_as_user(player["id"], tg["group_id"], "Привет")
    with pytest.raises(ValueError, match="not sent by the bot"):
        sb.telegram.forge_callback(player["id"], tg["group_id"], said["message_id"], "q1:0")
    with pytest.raises(ValueError, match="no message"):
        sb.telegram.forge_callback(player["id"], tg["group_id"], 1, "q1:0")
    base = sb.info()["control_url"] + "/telegram"
    async with httpx.AsyncClient(verify=TLS) as control:
        refused = await control.post(
            f"{base}/forge_callback",
            json={
                "user_id": player["id"],
                "chat_id": tg["group_id"],
                "message_id": said["message_id"],
                "data": "x",
            },
        )
        assert refused.status_code == 400
        crowd = (await control.post(f"{base}/crowd", json={"count": 3})).json()["result"]
        assert len(crowd) == 3


# -- answers written in the group ---------------------------------------------------------


async def test_players_write_edit_and_comment(bot, tg, sb):
    players = sb.telegram.add_users(20)
    for index, player in enumerate(players):
        sb.telegram.post_as_user(player["id"], tg["group_id"], f"Ответ {index}")
    said = sb.telegram.post_as_user(players[0]["id"], tg["group_id"], "Лермонтв")
    sb.telegram.advance_clock(15)
    sb.telegram.edit_as_user(players[0]["id"], tg["group_id"], said["message_id"], "Пушкин")
    post = await bot.send_message(tg["channel_id"], "Вопрос дня: автор «Онегина»?")
    sb.telegram.comment_on_post(players[1]["id"], post.message_id, "Пушкин")

    updates = await drain(bot)
    messages = [u.message for u in updates if u.message]
    assert [m.from_user.id for m in messages[:20]] == [p["id"] for p in players]
    (edited,) = [u.edited_message for u in updates if u.edited_message]
    assert edited.text == "Пушкин" and edited.date.timestamp() == said["date"]
    assert edited.edit_date.timestamp() == said["date"] + 15
    comment = messages[-1]
    assert comment.chat.id == tg["group_id"] and comment.text == "Пушкин"
    assert comment.reply_to_message.forward_origin.message_id == post.message_id
