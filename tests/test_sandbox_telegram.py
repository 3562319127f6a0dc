"""The Telegram stand-in, driven by the real python-telegram-bot client over real HTTP.

Raw HTTP calls (httpx) check the exact wire format: envelopes, error texts, and that every
result has the shape the official Bot API description gives (sandbox.telegram_spec).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import telegram
from telegram.error import BadRequest, InvalidToken, RetryAfter

from sandbox.server import Sandbox
from sandbox.telegram_spec import (
    assert_result,
    assert_value,
    call_errors,
    result_errors,
    value_errors,
)
from tests.images import png
from tests.telegram_clients import TLS, make_request


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=7) as sandbox:
        yield sandbox


@pytest.fixture
def sb(running: Sandbox) -> Sandbox:
    running.reset()
    return running


@pytest.fixture
def tg(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["telegram"]


@pytest.fixture
async def bot(tg: dict[str, Any]) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        tg["token"],
        base_url=tg["api_url"],
        base_file_url=tg["file_url"],
        request=make_request(),
        get_updates_request=make_request(),
    ) as client:
        yield client


@pytest.fixture
async def raw(tg: dict[str, Any]) -> AsyncIterator[Any]:
    """call(method, **params) -> (HTTP status, JSON envelope), posted as JSON."""
    async with httpx.AsyncClient(
        verify=TLS, base_url=tg["api_url"] + tg["token"] + "/", timeout=10
    ) as client:

        async def call(method: str, **params: Any) -> tuple[int, dict[str, Any]]:
            response = await client.post(method, json=params)
            return response.status_code, response.json()

        yield call


# -- identity and envelopes ------------------------------------------------------


async def test_get_me_describes_the_bot_named_in_the_token(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == tg["bot_username"] and me.username.endswith("bot")
    assert tg["token"].startswith(f"{me.id}:SANDBOX") and len(tg["token"].split(":")[1]) == 35


def test_same_seed_builds_the_same_world_and_another_seed_another() -> None:
    from sandbox.telegram import TelegramStandIn

    first, again, other = TelegramStandIn(seed=3), TelegramStandIn(seed=3), TelegramStandIn(seed=4)
    assert first.info("x") == again.info("x")
    assert first.info("x")["token"] != other.info("x")["token"]
    chats = {c["type"]: c for c in first.state()["chats"]}
    assert (
        chats["channel"]["id"] < -1_000_000_000_000
        and chats["channel"]["linked_chat_id"] == chats["supergroup"]["id"]
    )


async def test_wrong_token_is_unauthorized(tg: dict[str, Any]) -> None:
    wrong = tg["token"][:-1] + ("A" if tg["token"][-1] != "A" else "B")
    async with httpx.AsyncClient(verify=TLS) as client:
        response = await client.post(f"{tg['api_url']}{wrong}/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with telegram.Bot(wrong, base_url=tg["api_url"], request=make_request()) as client:
            await client.get_me()


async def test_unknown_method_is_not_found_and_names_ignore_case(raw: Any) -> None:
    assert await raw("sendTelepathy") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await raw("GETME")
    assert status == 200 and body["ok"] is True and body["result"]["is_bot"] is True


async def test_query_string_and_form_bodies_are_accepted(tg: dict[str, Any]) -> None:
    base = tg["api_url"] + tg["token"]
    async with httpx.AsyncClient(verify=TLS) as client:
        by_query = await client.get(
            f"{base}/getChatMemberCount", params={"chat_id": tg["channel_id"]}
        )
        by_form = await client.post(
            f"{base}/getChatMemberCount", data={"chat_id": "@" + tg["channel_username"]}
        )
    assert by_query.json()["result"] == by_form.json()["result"] > 0


# -- text messages and HTML ---------------------------------------------------------


async def test_html_message_comes_back_as_plain_text_with_utf16_entities(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    sent = await bot.send_message(
        tg["channel_id"],
        '📚 <b>Викторина</b> &amp; <i>приз</i> <a href="https://lib.example/quiz">правила</a> #книги',
        parse_mode="HTML",
    )
    assert sent.text == "📚 Викторина & приз правила #книги"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    # the emoji is two UTF-16 code units, so "Викторина" starts at 3
    assert kinds == [("bold", 3, 9), ("italic", 15, 4), ("text_link", 20, 7), ("hashtag", 28, 6)]
    assert sent.entities[2].url == "https://lib.example/quiz"
    assert sent.chat.id == tg["channel_id"] and sent.sender_chat.id == tg["channel_id"]


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        ("<b>жирный", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("до <br> после", 'Unsupported start tag "br" at byte offset 5'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_refused_with_telegrams_text(
    raw: Any, tg: dict[str, Any], markup: str, description: str
) -> None:
    status, body = await raw("sendMessage", chat_id=tg["group_id"], text=markup, parse_mode="HTML")
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": f"Bad Request: can't parse entities: {description}",
    }


async def test_bad_html_raises_bad_request_in_the_client(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(tg["group_id"], "<b>не закрыт", parse_mode="HTML")


async def test_unknown_html_entity_stays_literal_as_on_telegram(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    sent = await bot.send_message(tg["group_id"], "&foo; &lt;b&gt; &#1046;", parse_mode="HTML")
    assert sent.text == "&foo; <b> Ж"


async def test_spoiler_code_and_blockquote_entities(bot: telegram.Bot, tg: dict[str, Any]) -> None:
    sent = await bot.send_message(
        tg["group_id"],
        '<tg-spoiler>ответ</tg-spoiler> <pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>цитата</blockquote>",
        parse_mode="HTML",
    )
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("spoiler", 0, 5),
        ("pre", 6, 5),
        ("expandable_blockquote", 11, 6),
    ]
    assert sent.entities[1].language == "python"


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "message text is empty"),
        ("   ", "message text is empty"),
        ("я" * 4097, "message is too long"),
    ],
)
async def test_text_limits(raw: Any, tg: dict[str, Any], text: str, description: str) -> None:
    status, body = await raw("sendMessage", chat_id=tg["group_id"], text=text)
    assert (status, body["description"]) == (400, f"Bad Request: {description}")


async def test_text_of_exactly_4096_characters_is_accepted(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    sent = await bot.send_message(tg["group_id"], "я" * 4096)
    assert len(sent.text) == 4096


async def test_missing_and_unknown_chat(raw: Any, bot: telegram.Bot) -> None:
    status, body = await raw("sendMessage", text="привет")
    assert status == 400 and body["description"].startswith("Bad Request: ")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(-1009999999999, "привет")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message("@no_such_library", "привет")


async def test_message_ids_count_per_chat(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    first = await bot.send_message(tg["group_id"], "раз")
    second = await bot.send_message(tg["group_id"], "два")
    in_channel = await bot.send_message(tg["channel_id"], "канал")
    assert second.message_id == first.message_id + 1
    assert in_channel.message_id != second.message_id + 1
    assert abs(first.date.timestamp() - time.time()) < 5
    assert [m["text"] for m in sb.telegram.messages(tg["channel_id"])] == ["канал"]


# -- photos ----------------------------------------------------------------------------


async def test_uploaded_photo_gets_scaled_sizes_and_a_reusable_file_id(
    bot: telegram.Bot, tg: dict[str, Any]
) -> None:
    sent = await bot.send_photo(
        tg["channel_id"], png(1000, 800), caption="<b>Выставка</b> новых книг", parse_mode="HTML"
    )
    sizes = [(p.width, p.height) for p in sent.photo]
    assert sizes == [(90, 72), (320, 256), (800, 640), (1000, 800)]
    assert sent.caption == "Выставка новых книг" and sent.caption_entities[0].type == "bold"
    again = await bot.send_photo(tg["group_id"], sent.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id
    downloaded = await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == png(1000, 800)


async def test_photo_by_url_and_photo_errors(
    bot: telegram.Bot, raw: Any, tg: dict[str, Any]
) -> None:
    by_url = await bot.send_photo(tg["group_id"], "https://lib.example/poster.jpg")
    assert by_url.photo[-1].width == 1280
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(tg["group_id"], "AgACnot-a-real-id")
    with pytest.raises(BadRequest, match="(?i)image_process_failed"):
        await bot.send_photo(tg["group_id"], b"not an image at all")
    status, body = await raw(
        "sendPhoto", chat_id=tg["group_id"], photo="https://lib.example/p.jpg", caption="x" * 1025
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, body = await raw("sendPhoto", chat_id=tg["group_id"])
    assert (status, body["description"]) == (400, "Bad Request: there is no photo in the request")


# -- chats -------------------------------------------------------------------------------


async def test_get_chat_and_member_count_follow_the_control_api(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    channel = await bot.get_chat(tg["channel_id"])
    assert channel.type == "channel" and channel.username == tg["channel_username"]
    assert channel.linked_chat_id == tg["group_id"]
    group = await bot.get_chat("@" + tg["group_username"])
    assert group.type == "supergroup" and group.linked_chat_id == tg["channel_id"]
    async with httpx.AsyncClient(verify=TLS) as client:
        control = sb.info()["control_url"] + "/telegram"
        set_to = await client.post(
            f"{control}/members", json={"chat_id": tg["channel_id"], "count": 1234}
        )
        added = await client.post(
            f"{control}/members", json={"chat_id": tg["channel_id"], "add": 6}
        )
        state = (await client.get(f"{control}/state")).json()["result"]
    assert set_to.json() == {"ok": True, "result": 1234} and added.json()["result"] == 1240
    assert await bot.get_chat_member_count(tg["channel_id"]) == 1240
    assert sb.telegram.add_members(tg["group_id"], -1) == (
        await bot.get_chat_member_count(tg["group_id"])
    )
    assert {c["id"] for c in state["chats"]} >= {tg["channel_id"], tg["group_id"]}


# -- updates --------------------------------------------------------------------------------


async def test_get_updates_offset_confirms_older_updates(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    reader = sb.telegram.add_user("Ольга", "Петрова")
    for text in ("Первый ответ", "Второй ответ", "Третий ответ"):
        sb.telegram.post_as_user(reader["id"], tg["group_id"], text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["Первый ответ", "Второй ответ", "Третий ответ"]
    assert updates[0].message.from_user.first_name == "Ольга"
    ids = [u.update_id for u in updates]
    assert ids == list(range(ids[0], ids[0] + 3))
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[
        1:
    ]  # the first one is gone for good
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert sb.telegram.pending_updates() == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    reader = sb.telegram.add_user()

    def write_later() -> None:
        time.sleep(0.3)
        sb.telegram.post_as_user(reader["id"], tg["group_id"], "Ответ: Пушкин")

    started = time.monotonic()
    writer = asyncio.create_task(asyncio.to_thread(write_later))
    updates = await bot.get_updates(timeout=5)
    await writer
    assert 0.25 < time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["Ответ: Пушкин"]


async def test_long_poll_times_out_empty_and_a_second_poller_ends_the_first(
    bot: telegram.Bot, raw: Any
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3
    first = asyncio.create_task(raw("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    assert await bot.get_updates(timeout=0) == ()
    status, body = await first
    assert status == 409 and body["description"].startswith(
        "Conflict: terminated by other getUpdates request"
    )


async def test_allowed_updates_filters_what_is_queued(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    reader = sb.telegram.add_user()
    await bot.get_updates(allowed_updates=["channel_post"])
    sb.telegram.post_as_user(reader["id"], tg["group_id"], "не нужно")
    sb.telegram.post_as_admin(tg["channel_id"], "Анонс от библиотекаря")
    updates = await bot.get_updates()
    assert [u.channel_post.text for u in updates] == ["Анонс от библиотекаря"]


async def test_bot_gets_no_updates_for_its_own_messages(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    await bot.send_message(tg["group_id"], "Сообщение бота в группе")
    assert sb.telegram.pending_updates() == []
    post = await bot.send_message(tg["channel_id"], "Пост бота в канале")
    (update,) = await bot.get_updates()
    # no channel_post: only Telegram's automatic copy into the discussion group
    assert update.channel_post is None
    copy = update.message
    assert copy.chat.id == tg["group_id"] and copy.is_automatic_forward
    assert (
        copy.forward_origin.message_id == post.message_id
        and copy.sender_chat.id == tg["channel_id"]
    )


async def test_librarian_post_in_channel_reaches_the_bot(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.post_as_admin(tg["channel_id"], "Сегодня в 18:00 встреча клуба")
    kinds = [(u.channel_post or u.message).chat.type for u in await bot.get_updates()]
    assert kinds == ["channel", "supergroup"]


async def test_injected_flood_error_carries_retry_after(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.send_message(tg["channel_id"], "слишком часто")
    assert (await bot.send_message(tg["channel_id"], "теперь можно")).text == "теперь можно"


async def test_a_polling_application_answers_a_reader(tg: dict[str, Any], sb: Sandbox) -> None:
    from telegram.ext import Application, MessageHandler, filters

    async def echo(update: telegram.Update, context: Any) -> None:
        await update.message.reply_text(f"Принято: {update.message.text}")

    app = Application.builder().token(tg["token"]).base_url(tg["api_url"]).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    reader = sb.telegram.add_user()
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        sb.telegram.post_as_user(reader["id"], tg["group_id"], "Ответ: 1833")
        for _ in range(50):
            replies = [
                m
                for m in sb.telegram.messages(tg["group_id"])
                if m.get("from", {}).get("id") == tg["bot_id"]
            ]
            if replies:
                break
            await asyncio.sleep(0.05)
        await app.updater.stop()
        await app.stop()
    assert (
        replies[0]["text"] == "Принято: Ответ: 1833"
        and replies[0]["reply_to_message"]["text"] == "Ответ: 1833"
    )


# -- the shape of every result ---------------------------------------------------------------


def test_spec_check_catches_missing_fields_wrong_types_and_strangers() -> None:
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}
    assert result_errors("sendMessage", message) == []
    no_date = {k: v for k, v in message.items() if k != "date"}
    assert any("misses required field 'date'" in e for e in result_errors("sendMessage", no_date))
    assert any(
        "expected Integer" in e for e in value_errors({**message, "message_id": "1"}, "Message")
    )
    assert any("no field 'colour'" in e for e in value_errors({**message, "colour": 1}, "Message"))
    assert (
        value_errors(
            {"status": "left", "user": {"id": 1, "is_bot": False, "first_name": "A"}}, "ChatMember"
        )
        == []
    )


# -- polls and quizzes ---------------------------------------------------------------------


async def test_quiz_in_the_group_reports_totals_and_who_answered(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    quiz = await bot.send_poll(
        tg["group_id"],
        "Кто написал «Евгения Онегина»?",
        ["Пушкин", "Лермонтов", "Гоголь"],
        type="quiz",
        correct_option_ids=[0],
        explanation="Роман в стихах, 1833",
        is_anonymous=False,
    )
    assert quiz.poll.correct_option_ids == (0,) and quiz.poll.allows_revoting is False
    assert sb.telegram.pending_updates() == []
    readers = [sb.telegram.add_user("Мария"), sb.telegram.add_user("Ivan", username="ivan_reads")]
    sb.telegram.vote_as_user(readers[0]["id"], tg["group_id"], quiz.message_id, [0])
    sb.telegram.vote_as_user(readers[1]["id"], tg["group_id"], quiz.message_id, [2])
    updates = await bot.get_updates()
    answers = [
        (u.poll_answer.user.first_name, u.poll_answer.option_ids) for u in updates if u.poll_answer
    ]
    assert answers == [("Мария", (0,)), ("Ivan", (2,))]
    last_totals = [u.poll for u in updates if u.poll][-1]
    assert [o.voter_count for o in last_totals.options] == [
        1,
        0,
        1,
    ] and last_totals.total_voter_count == 2
    with pytest.raises(ValueError, match="does not allow changing"):
        sb.telegram.vote_as_user(readers[0]["id"], tg["group_id"], quiz.message_id, [1])
    stopped = await bot.stop_poll(tg["group_id"], quiz.message_id)
    assert stopped.is_closed and stopped.total_voter_count == 2
    with pytest.raises(BadRequest, match="(?i)already been closed"):
        await bot.stop_poll(tg["group_id"], quiz.message_id)


async def test_channel_polls_are_anonymous_and_give_totals_only(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    with pytest.raises(BadRequest, match="(?i)non-anonymous polls can't be sent to channel chats"):
        await bot.send_poll(tg["channel_id"], "Что читаем?", ["А", "Б"], is_anonymous=False)
    poll = await bot.send_poll(
        tg["channel_id"], "Что читаем в мае?", ["Чехова", "Булгакова"], allows_multiple_answers=True
    )
    await bot.get_updates(
        offset=(await bot.get_updates())[-1].update_id + 1
    )  # drop the discussion copy
    reader = sb.telegram.add_user()
    sb.telegram.vote_as_user(reader["id"], tg["channel_id"], poll.message_id, [0, 1])
    (update,) = await bot.get_updates()
    assert update.poll_answer is None and [o.voter_count for o in update.poll.options] == [1, 1]
    channel_copy = sb.telegram.messages(tg["channel_id"])[-1]["poll"]
    assert channel_copy["total_voter_count"] == 1


async def test_poll_with_open_period_closes_on_the_stand_in_clock(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    poll = await bot.send_poll(
        tg["group_id"], "Успеете за 30 секунд?", ["Да", "Нет"], open_period=30
    )
    assert (
        sb.telegram.messages(tg["group_id"])[-1]["poll"]["open_period"] == 30
        and not poll.poll.is_closed
    )
    sb.telegram.advance_clock(31)
    (update,) = await bot.get_updates()
    assert update.poll.id == poll.poll.id and update.poll.is_closed
    with pytest.raises(ValueError, match="closed"):
        sb.telegram.vote_as_user(sb.telegram.add_user()["id"], tg["group_id"], poll.message_id, [0])


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"question": "", "options": ["a", "b"]}, "poll question must be non-empty"),
        (
            {"question": "в" * 301, "options": ["a", "b"]},
            "poll question length must not exceed 300",
        ),
        (
            {"question": "q", "options": [str(i) for i in range(13)]},
            "poll can't have more than 12 options",
        ),
        ({"question": "q", "options": ["a", "б" * 101]}, "poll options length must not exceed 100"),
        (
            {"question": "q", "options": ["a", "b"], "type": "quiz"},
            "correct_option_ids must be specified for quiz polls",
        ),
        (
            {
                "question": "q",
                "options": ["a", "b"],
                "type": "quiz",
                "correct_option_ids": [0],
                "explanation": "e" * 201,
            },
            "poll explanation is too long",
        ),
        (
            {
                "question": "q",
                "options": ["a", "b"],
                "open_period": 60,
                "close_date": 2_000_000_000,
            },
            "open_period and close_date can't be used together",
        ),
        ({"question": "q", "options": ["a", "b"], "open_period": 4}, "wrong open_period specified"),
    ],
)
async def test_poll_limits(
    raw: Any, tg: dict[str, Any], params: dict[str, Any], description: str
) -> None:
    status, body = await raw("sendPoll", chat_id=tg["group_id"], **params)
    assert (status, body["description"]) == (400, f"Bad Request: {description}")


# -- buttons, edits, deletions -----------------------------------------------------------------


async def test_button_press_reaches_the_bot_and_is_answered_once(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    keyboard = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Участвую!", callback_data="join:42")]]
    )
    sent = await bot.send_message(tg["group_id"], "Розыгрыш книги", reply_markup=keyboard)
    reader = sb.telegram.add_user("Алина", username=None)
    sb.telegram.press_as_user(reader["id"], tg["group_id"], sent.message_id, "join:42")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert (
        query.data == "join:42"
        and query.from_user.id == reader["id"]
        and query.message.message_id == sent.message_id
    )
    assert await bot.answer_callback_query(query.id, text="Вы в списке участников")
    assert sb.telegram.callback_answers()[0]["answer"]["text"] == "Вы в списке участников"
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(ValueError, match="no button"):
        sb.telegram.press_as_user(reader["id"], tg["group_id"], sent.message_id, "other")


async def test_inline_keyboard_is_validated(raw: Any, tg: dict[str, Any]) -> None:
    long_data = {"inline_keyboard": [[{"text": "x", "callback_data": "я" * 33}]]}
    status, body = await raw(
        "sendMessage", chat_id=tg["group_id"], text="t", reply_markup=long_data
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    text_only = {"inline_keyboard": [[{"text": "x"}]]}
    status, body = await raw(
        "sendMessage", chat_id=tg["group_id"], text="t", reply_markup=text_only
    )
    assert status == 400 and "Text buttons are unallowed" in body["description"]


async def test_edit_text_markup_and_delete(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    keyboard = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Ответить", callback_data="a")]]
    )
    sent = await bot.send_message(tg["channel_id"], "Итоги скоро", reply_markup=keyboard)
    edited = await bot.edit_message_text(
        "<b>Итоги</b> подведены", tg["channel_id"], sent.message_id, parse_mode="HTML"
    )
    assert (
        edited.text == "Итоги подведены" and edited.entities[0].type == "bold" and edited.edit_date
    )
    assert edited.reply_markup is None  # an edit without reply_markup removes the keyboard
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>Итоги</b> подведены", tg["channel_id"], sent.message_id, parse_mode="HTML"
        )
    with_keyboard = await bot.edit_message_reply_markup(
        tg["channel_id"], sent.message_id, reply_markup=keyboard
    )
    assert with_keyboard.reply_markup.inline_keyboard[0][0].callback_data == "a"
    assert await bot.delete_message(tg["channel_id"], sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(tg["channel_id"], sent.message_id)
    assert sent.message_id not in [m["message_id"] for m in sb.telegram.messages(tg["channel_id"])]


# -- files, members, commands, private chats --------------------------------------------------------


async def test_document_and_album(bot: telegram.Bot, tg: dict[str, Any]) -> None:
    document = await bot.send_document(
        tg["group_id"], b"%PDF-1.4 diploma", filename="diploma.pdf", caption="Диплом"
    )
    assert document.document.file_name == "diploma.pdf" and document.document.file_size == 16
    album = await bot.send_media_group(
        tg["channel_id"],
        [
            telegram.InputMediaPhoto(png(400, 300), caption="Выставка"),
            telegram.InputMediaPhoto("https://lib.example/b.jpg"),
        ],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "Выставка" and album[0].photo[-1].width == 400
    with pytest.raises(BadRequest):
        await bot.send_media_group(
            tg["channel_id"], [telegram.InputMediaPhoto("https://lib.example/c.jpg")]
        )


async def test_members_administrators_and_pins(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    admins = await bot.get_chat_administrators(tg["channel_id"])
    statuses = {a.user.id: a.status for a in admins}
    assert statuses == {tg["owner_id"]: "creator", tg["bot_id"]: "administrator"}
    reader = sb.telegram.add_user()
    assert (await bot.get_chat_member(tg["group_id"], reader["id"])).status == "left"
    post = await bot.send_message(tg["channel_id"], "Правила конкурса")
    assert await bot.pin_chat_message(tg["channel_id"], post.message_id)
    assert (await bot.get_chat(tg["channel_id"])).pinned_message.message_id == post.message_id


async def test_commands_are_kept_per_scope(bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("quiz", "Викторина дня"), ("rules", "Правила")])
    assert [c.command for c in await bot.get_my_commands()] == ["quiz", "rules"]
    assert await bot.get_my_commands(scope=telegram.BotCommandScopeAllGroupChats()) == ()
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Викторина", "нельзя кириллицей")])


async def test_bot_writes_privately_only_after_the_reader_starts_it(
    bot: telegram.Bot, sb: Sandbox
) -> None:
    reader = sb.telegram.add_user("Пётр")
    with pytest.raises(telegram.error.Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(reader["id"], "Привет")
    sb.telegram.post_as_user(reader["id"], reader["id"], "/start")
    (update,) = await bot.get_updates()
    assert (
        update.message.chat.type == "private" and update.message.entities[0].type == "bot_command"
    )
    assert (await bot.send_message(reader["id"], "Добро пожаловать")).chat.id == reader["id"]


async def test_comment_on_a_channel_post_is_a_reply_in_the_group(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    post = await bot.send_message(tg["channel_id"], "Вопрос дня: любимая книга?")
    reader = sb.telegram.add_user()
    sb.telegram.comment_on_post(reader["id"], post.message_id, "Мастер и Маргарита")
    copy, comment = [u.message for u in await bot.get_updates()]
    assert (
        comment.reply_to_message.message_id == copy.message_id and comment.chat.id == tg["group_id"]
    )
    assert comment.reply_to_message.forward_origin.message_id == post.message_id


async def test_control_api_over_http_drives_the_audience(
    tg: dict[str, Any], sb: Sandbox, bot: telegram.Bot
) -> None:
    control = sb.info()["control_url"] + "/telegram"
    async with httpx.AsyncClient(verify=TLS) as client:
        user = (await client.post(f"{control}/users", json={"first_name": "Kate"})).json()["result"]
        said = await client.post(
            f"{control}/user_message",
            json={"user_id": user["id"], "chat_id": tg["group_id"], "text": "Привет!"},
        )
        refused = await client.post(
            f"{control}/user_message",
            json={"user_id": user["id"], "chat_id": tg["channel_id"], "text": "x"},
        )
        pending = (await client.get(f"{control}/updates")).json()["result"]
    assert said.json()["result"]["text"] == "Привет!" and refused.status_code == 400
    assert [u["message"]["from"]["first_name"] for u in pending] == ["Kate"]


# -- reactions, members, edits: each only where Telegram sends it ----------------------------

EVERYTHING = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "poll",
    "poll_answer",
    "message_reaction",
    "message_reaction_count",
    "my_chat_member",
    "chat_member",
]


async def _drain(bot: telegram.Bot, allowed: list[str] | None = None) -> None:
    """Confirm every pending update (and set allowed_updates when given)."""
    updates = await bot.get_updates(allowed_updates=allowed)
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


def _kinds(updates: list[dict[str, Any]]) -> list[str]:
    for update in updates:
        assert_value(update, "Update")
    return [next(k for k in update if k != "update_id") for update in updates]


async def test_reactions_in_the_group_need_an_admin_bot_that_asks_for_them(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sent = await bot.send_message(tg["group_id"], "Как вам книга?")
    reader = sb.telegram.add_user("Мария")
    sb.telegram.react(reader["id"], tg["group_id"], sent.message_id, "👍")
    assert sb.telegram.pending_updates() == []  # not in the default allowed_updates
    await bot.get_updates(allowed_updates=EVERYTHING)
    sb.telegram.react(reader["id"], tg["group_id"], sent.message_id, "🔥")
    sb.telegram.react(reader["id"], tg["group_id"], sent.message_id, None)
    assert _kinds(sb.telegram.pending_updates()) == ["message_reaction"] * 2
    first, second = [u.message_reaction for u in await bot.get_updates()]
    assert first.user.first_name == "Мария" and first.message_id == sent.message_id
    assert [r.emoji for r in first.old_reaction] == ["👍"]
    assert [r.emoji for r in first.new_reaction] == ["🔥"]
    assert second.new_reaction == () and first.chat.id == tg["group_id"]
    with pytest.raises(ValueError, match="anonymous"):
        sb.telegram.react(reader["id"], tg["channel_id"], 1, "👍")
    with pytest.raises(ValueError, match="not a reaction"):
        sb.telegram.react(reader["id"], tg["group_id"], sent.message_id, "🦖")
    sb.telegram.add_bot_to(tg["group_id"], admin=False)  # demoted: no reactions any more
    await _drain(bot)
    sb.telegram.react(reader["id"], tg["group_id"], sent.message_id, "👏")
    assert sb.telegram.pending_updates() == []


async def test_channel_reactions_arrive_as_anonymous_totals(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    post = await bot.send_message(tg["channel_id"], "Новые поступления")
    await _drain(bot, ["message_reaction_count"])
    sb.telegram.react_anonymously(tg["channel_id"], post.message_id, "❤️", 5)
    totals = sb.telegram.react_anonymously(tg["channel_id"], post.message_id, "👍", 7)
    assert _kinds(sb.telegram.pending_updates()) == ["message_reaction_count"] * 2
    assert [(r["type"]["emoji"], r["total_count"]) for r in totals["reactions"]] == [
        ("👍", 7),
        ("❤", 5),
    ]
    last = (await bot.get_updates())[-1].message_reaction_count
    assert last.chat.id == tg["channel_id"] and last.reactions[0].total_count == 7
    with pytest.raises(ValueError, match="channel posts"):
        sb.telegram.react_anonymously(tg["group_id"], post.message_id, "👍")


async def test_readers_join_and_leave(bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox) -> None:
    reader = sb.telegram.add_user("Ольга")
    before = await bot.get_chat_member_count(tg["group_id"])
    sb.telegram.join(reader["id"], tg["group_id"])
    # by default only the service message: chat_member must be asked for
    assert _kinds(sb.telegram.pending_updates()) == ["message"]
    await _drain(bot, EVERYTHING)
    sb.telegram.leave(reader["id"], tg["group_id"])
    sb.telegram.join(reader["id"], tg["channel_id"])
    assert _kinds(sb.telegram.pending_updates()) == ["chat_member", "message", "chat_member"]
    left, service, subscribed = await bot.get_updates()
    assert (left.chat_member.old_chat_member.status, left.chat_member.new_chat_member.status) == (
        "member",
        "left",
    )
    assert service.message.left_chat_member.id == reader["id"]
    assert subscribed.chat_member.chat.type == "channel"
    assert await bot.get_chat_member_count(tg["group_id"]) == before
    assert (await bot.get_chat_member(tg["channel_id"], reader["id"])).status == "member"
    with pytest.raises(ValueError, match="already"):
        sb.telegram.join(reader["id"], tg["channel_id"])


async def test_the_bot_is_removed_added_and_promoted(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    removed = sb.telegram.remove_bot(tg["group_id"])
    assert removed["new_chat_member"]["status"] == "left"
    with pytest.raises(telegram.error.Forbidden, match="bot is not a member of the supergroup"):
        await bot.send_message(tg["group_id"], "я ещё здесь?")
    reader = sb.telegram.add_user()
    sb.telegram.post_as_user(reader["id"], tg["group_id"], "бот не услышит")
    sb.telegram.add_bot_to(tg["group_id"], admin=False)
    sb.telegram.add_bot_to(tg["group_id"])  # promoted
    assert _kinds(sb.telegram.pending_updates()) == [
        "my_chat_member",
        "my_chat_member",
        "message",
        "my_chat_member",
    ]
    removal, added, service, promoted = await bot.get_updates()
    assert removal.my_chat_member.old_chat_member.status == "administrator"
    assert added.my_chat_member.new_chat_member.status == "member"
    assert service.message.new_chat_members[0].id == tg["bot_id"]
    assert promoted.my_chat_member.new_chat_member.status == "administrator"
    assert (await bot.send_message(tg["group_id"], "снова тут")).chat.id == tg["group_id"]
    new_chat = sb.telegram.create_chat("Клуб любителей фантастики", "channel")
    with pytest.raises(telegram.error.Forbidden):
        await bot.send_message(new_chat["id"], "привет")
    with pytest.raises(ValueError, match="only as an administrator"):
        sb.telegram.add_bot_to(new_chat["id"], admin=False)
    sb.telegram.add_bot_to(new_chat["id"])
    assert (await bot.send_message(new_chat["id"], "привет")).chat.title == new_chat["title"]


async def test_a_reader_edits_a_group_message(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    reader = sb.telegram.add_user()
    said = sb.telegram.post_as_user(reader["id"], tg["group_id"], "Ответ: Лермонтов")
    sb.telegram.edit_as_user(reader["id"], tg["group_id"], said["message_id"], "Ответ: Пушкин")
    assert _kinds(sb.telegram.pending_updates()) == ["message", "edited_message"]
    original, edited = await bot.get_updates()
    assert original.message.text == "Ответ: Лермонтов" and original.message.edit_date is None
    assert edited.edited_message.text == "Ответ: Пушкин" and edited.edited_message.edit_date
    assert edited.edited_message.message_id == said["message_id"]
    other = sb.telegram.add_user()
    with pytest.raises(ValueError, match="not a text message of user"):
        sb.telegram.edit_as_user(other["id"], tg["group_id"], said["message_id"], "чужое")


async def test_audience_actions_over_http(tg: dict[str, Any], sb: Sandbox) -> None:
    control = sb.info()["control_url"] + "/telegram"
    reader = sb.telegram.add_user()
    said = sb.telegram.post_as_user(reader["id"], tg["group_id"], "Привет")
    post = sb.telegram.post_as_admin(tg["channel_id"], "Анонс")
    who = {"user_id": reader["id"], "chat_id": tg["group_id"]}
    calls = [
        ("edit", {**who, "message_id": said["message_id"], "text": "Здравствуйте"}),
        ("react", {**who, "message_id": said["message_id"], "emoji": "🎉"}),
        ("react_anonymously", {"chat_id": tg["channel_id"], "message_id": post["message_id"], "emoji": "🔥", "count": 3}),
        ("leave", who),
        ("join", who),
        ("remove_bot", {"chat_id": tg["channel_id"]}),
        ("add_bot", {"chat_id": tg["channel_id"], "admin": True}),
        ("chats", {"title": "Новая группа"}),
    ]  # fmt: skip
    async with httpx.AsyncClient(verify=TLS) as client:
        for route, body in calls:
            answer = await client.post(f"{control}/{route}", json=body)
            assert answer.status_code == 200 and answer.json()["ok"], (route, answer.text)
        refused = await client.post(
            f"{control}/react", json={**who, "message_id": 1, "emoji": "🦖"}
        )
    assert refused.status_code == 400
    state = sb.telegram.state()
    assert state["reaction_counts"][0]["counts"] == {"🔥": 3}
    assert state["reactions"][0]["by_user"] == {str(reader["id"]): ["🎉"]}


# -- the contract: every implemented method, once, checked against the Bot API description -----


@dataclass
class Env:
    raw: Any
    tg: dict[str, Any]
    sb: Sandbox

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.raw(method, **params)
        assert status == 200, body
        return body["result"]

    async def sent(self, chat: str = "group_id", **params: Any) -> dict[str, Any]:
        return await self.ok("sendMessage", chat_id=self.tg[chat], text="контракт", **params)


KEYBOARD = {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}
Rows = Callable[[Env], Awaitable[list[dict[str, Any]]]]


async def _updates_of_every_kind(env: Env) -> list[dict[str, Any]]:
    tg, audience = env.tg, env.sb.telegram
    await env.ok("getUpdates", allowed_updates=EVERYTHING)
    reader = audience.add_user()
    said = audience.post_as_user(reader["id"], tg["group_id"], "Вопрос про /start и @someone")
    audience.edit_as_user(reader["id"], tg["group_id"], said["message_id"], "Вопрос")
    post = audience.post_as_admin(tg["channel_id"], "Анонс")
    audience.react(reader["id"], tg["group_id"], said["message_id"], "👍")
    audience.react_anonymously(tg["channel_id"], post["message_id"], "🔥", 2)
    audience.join(reader["id"], tg["channel_id"])
    audience.remove_bot(tg["group_id"])
    audience.add_bot_to(tg["group_id"])
    keyed = await env.sent(reply_markup=KEYBOARD)
    audience.press_as_user(reader["id"], tg["group_id"], keyed["message_id"], "yes")
    quiz = await env.ok(
        "sendPoll", chat_id=tg["group_id"], question="?", options=["a", "b"], is_anonymous=False
    )
    audience.vote_as_user(reader["id"], tg["group_id"], quiz["message_id"], [1])
    kinds = set(_kinds(audience.pending_updates()))
    assert kinds == set(EVERYTHING) - {"edited_channel_post"}, kinds
    return [{}]


async def _poll(env: Env) -> dict[str, Any]:
    return await env.ok(
        "sendPoll", chat_id=env.tg["group_id"], question="Q?", options=["a", "b"], type="quiz",
        correct_option_ids=[1], is_anonymous=False,
    )  # fmt: skip


async def _photo(env: Env) -> dict[str, Any]:
    return await env.ok("sendPhoto", chat_id=env.tg["group_id"], photo="https://lib.example/a.jpg")


async def _pinned(env: Env) -> list[dict[str, Any]]:
    message = await env.sent()
    await env.ok("pinChatMessage", chat_id=env.tg["group_id"], message_id=message["message_id"])
    return [{"chat_id": env.tg["group_id"], "message_id": message["message_id"]}]


async def _pressed(env: Env) -> list[dict[str, Any]]:
    message = await env.sent(reply_markup=KEYBOARD)
    reader = env.sb.telegram.add_user()
    query = env.sb.telegram.press_as_user(
        reader["id"], env.tg["group_id"], message["message_id"], "yes"
    )
    return [{"callback_query_id": query["id"], "text": "Принято"}]


def _static(*rows: Callable[[dict[str, Any]], dict[str, Any]]) -> Rows:
    async def build(env: Env) -> list[dict[str, Any]]:
        return [row(env.tg) for row in rows]

    return build


def _on_message(chat: str, **params: Any) -> Rows:
    async def build(env: Env) -> list[dict[str, Any]]:
        message = await env.sent(chat, reply_markup=KEYBOARD)
        return [{"chat_id": env.tg[chat], "message_id": message["message_id"], **params}]

    return build


async def _reply(env: Env) -> list[dict[str, Any]]:
    reader = env.sb.telegram.add_user()
    said = env.sb.telegram.post_as_user(reader["id"], env.tg["group_id"], "вопрос")
    return [
        {"chat_id": env.tg["channel_id"], "text": "<b>a</b> <a href='https://x.ru'>b</a> #тег", "parse_mode": "HTML", "reply_markup": KEYBOARD},
        {"chat_id": env.tg["group_id"], "text": "ответ", "reply_parameters": {"message_id": said["message_id"]}},
    ]  # fmt: skip


async def _caption(env: Env) -> list[dict[str, Any]]:
    photo = await _photo(env)
    return [{"chat_id": env.tg["group_id"], "message_id": photo["message_id"], "caption": "<i>c</i>", "parse_mode": "HTML"}]  # fmt: skip


async def _stop(env: Env) -> list[dict[str, Any]]:
    poll = await _poll(env)
    return [{"chat_id": env.tg["group_id"], "message_id": poll["message_id"]}]


async def _file(env: Env) -> list[dict[str, Any]]:
    return [{"file_id": (await _photo(env))["photo"][-1]["file_id"]}]


async def _commands_set(env: Env) -> list[dict[str, Any]]:
    await env.ok("setMyCommands", commands=[{"command": "quiz", "description": "Викторина"}])
    return [{}]


CONTRACT: dict[str, Rows] = {
    "getMe": _static(lambda tg: {}),
    "logOut": _static(lambda tg: {}),
    "close": _static(lambda tg: {}),
    "getUpdates": _updates_of_every_kind,
    "sendMessage": _reply,
    "sendPhoto": _static(lambda tg: {"chat_id": tg["group_id"], "photo": "https://lib.example/a.jpg", "caption": "<i>c</i>", "parse_mode": "HTML"}),
    "sendDocument": _static(lambda tg: {"chat_id": tg["group_id"], "document": "https://lib.example/rules.pdf", "caption": "Правила"}),
    "sendVideo": _static(lambda tg: {"chat_id": tg["group_id"], "video": "https://lib.example/reading.mp4", "caption": "Чтения"}),
    "sendMediaGroup": _static(lambda tg: {"chat_id": tg["channel_id"], "media": [{"type": "photo", "media": "https://lib.example/1.jpg", "caption": "1"}, {"type": "photo", "media": "https://lib.example/2.jpg"}]}),
    "sendPoll": _static(lambda tg: {"chat_id": tg["group_id"], "question": "Q?", "options": ["a", "b"], "type": "quiz", "correct_option_ids": [1], "is_anonymous": False, "explanation": "e", "open_period": 60}),
    "stopPoll": _stop,
    "editMessageText": _on_message("group_id", text="Нет?"),
    "editMessageCaption": _caption,
    "editMessageReplyMarkup": _on_message("channel_id", reply_markup={"inline_keyboard": [[{"text": "Нет", "callback_data": "no"}]]}),
    "deleteMessage": _on_message("group_id"),
    "pinChatMessage": _on_message("channel_id"),
    "unpinChatMessage": _pinned,
    "unpinAllChatMessages": _static(lambda tg: {"chat_id": tg["group_id"]}),
    "getChat": _static(lambda tg: {"chat_id": tg["channel_id"]}, lambda tg: {"chat_id": tg["group_id"]}),
    "getChatMemberCount": _static(lambda tg: {"chat_id": tg["group_id"]}),
    "getChatMember": _static(lambda tg: {"chat_id": tg["group_id"], "user_id": tg["bot_id"]}, lambda tg: {"chat_id": tg["channel_id"], "user_id": tg["owner_id"]}),
    "getChatAdministrators": _static(lambda tg: {"chat_id": tg["group_id"]}),
    "getFile": _file,
    "sendChatAction": _static(lambda tg: {"chat_id": tg["group_id"], "action": "typing"}),
    "setMyCommands": _static(lambda tg: {"commands": [{"command": "quiz", "description": "Викторина"}]}),
    "getMyCommands": _commands_set,
    "deleteMyCommands": _static(lambda tg: {}),
    "setWebhook": _static(lambda tg: {"url": "https://lib.example/hook"}),
    "deleteWebhook": _static(lambda tg: {"drop_pending_updates": True}),
    "getWebhookInfo": _static(lambda tg: {}),
    "answerCallbackQuery": _pressed,
}  # fmt: skip


def test_the_contract_table_covers_every_implemented_method() -> None:
    from sandbox.telegram.registry import METHODS

    assert {name.lower() for name in CONTRACT} == set(METHODS) | {"getupdates"}


@pytest.mark.parametrize("method", sorted(CONTRACT))
async def test_contract(method: str, raw: Any, tg: dict[str, Any], sb: Sandbox) -> None:
    env = Env(raw, tg, sb)
    for params in await CONTRACT[method](env):
        assert call_errors(method, params) == []
        result = await env.ok(method, **params)
        assert_result(method, result)


async def test_a_reader_s_video_reaches_the_bot_and_can_be_sent_again(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    await _drain(bot)
    reader = sb.telegram.add_user("Вера")
    sb.telegram.post_as_user(reader["id"], reader["id"], "/start")
    sb.telegram.video_as_user(reader["id"], reader["id"], b"\x00\x00\x00\x18ftypmp42", "Стихи")
    updates = await bot.get_updates()
    video = updates[-1].message.video
    assert updates[-1].message.caption == "Стихи" and video.duration > 0
    for update in updates:
        assert_value(update.to_dict(), "Update")
    again = await bot.send_video(tg["channel_id"], video.file_id, caption="Работа №1")
    assert again.video.file_id == video.file_id and again.caption == "Работа №1"
    with pytest.raises(telegram.error.BadRequest):  # a photo's file_id is not a video
        photo = await bot.send_photo(tg["group_id"], "https://lib.example/a.png")
        await bot.send_video(tg["group_id"], photo.photo[-1].file_id)
