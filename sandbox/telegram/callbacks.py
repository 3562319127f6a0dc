"""Inline buttons: a reader presses one, or forges a press (callback_query), the bot answers it."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.params import Params
from sandbox.telegram.registry import api_method
from sandbox.telegram.world import World

ANSWER_TEXT_LIMIT = 200
ANSWER_DEADLINE = 15  # seconds Telegram waits for answerCallbackQuery
CALLBACK_DATA_LIMIT = 64  # bytes, as for InlineKeyboardButton.callback_data


def press_button(
    world: World, user_id: int, chat_id: int | str, message_id: int, callback_data: str
) -> dict[str, Any]:
    """A reader presses the button carrying callback_data; returns the CallbackQuery."""
    message = _message(world, chat_id, message_id)
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    if not any(button.get("callback_data") == callback_data for row in rows for button in row):
        raise ValueError(f"message {message_id} has no button with callback_data {callback_data!r}")
    return _query(world, user_id, message, callback_data)


def forge_callback(
    world: World, user_id: int, chat_id: int | str, message_id: int, data: str
) -> dict[str, Any]:
    """A modified client sends callback data no button carries (or a keyboard an edit has
    removed carried): Telegram passes it on, so the bot must judge it. The message must
    exist and be the bot's own."""
    message = _message(world, chat_id, message_id)
    if message.get("from", {}).get("id") != world.bot["id"] and "sender_chat" not in message:
        raise ValueError(f"message {message_id} was not sent by the bot")
    if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
        raise ValueError(f"callback data must be 1-{CALLBACK_DATA_LIMIT} bytes")
    return _query(world, user_id, message, data)


def _message(world: World, chat_id: int | str, message_id: int) -> dict[str, Any]:
    chat = world.chat(chat_id)
    message = chat.messages.get(message_id)
    if message is None:
        raise ValueError(f"no message {message_id} in chat {chat.id}")
    return message


def _query(world: World, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Record a press on ``message`` and queue its callback_query update."""
    user = world.user(user_id)
    chat_id = message["chat"]["id"]
    query_id = str(world.rng.randint(10**18, 10**19 - 1))
    chat_instance = str(
        int(hashlib.sha256(f"{chat_id}:{world.bot['id']}".encode()).hexdigest()[:15], 16)
    )
    query = {
        "id": query_id,
        "from": user,
        "message": message,
        "chat_instance": chat_instance,
        "data": data,
    }
    world.callback_queries[query_id] = {
        "id": query_id,
        "user_id": user_id,
        "chat_id": chat_id,
        "message_id": message["message_id"],
        "data": data,
        "pressed_at": world.exact_now(),
        "answer": None,
    }
    world.push_update("callback_query", query)
    return query


@api_method("answerCallbackQuery")
def answer_callback_query(world: World, p: Params) -> bool:
    """Answer a button press once, within Telegram's deadline."""
    query = world.callback_queries.get(p.required_text("callback_query_id", "QUERY_ID_INVALID"))
    expired = query is not None and world.exact_now() - query["pressed_at"] > ANSWER_DEADLINE
    if query is None or query["answer"] is not None or expired:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.text("text") or ""
    if len(text) > ANSWER_TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    query["answer"] = {"text": text, "show_alert": p.flag("show_alert"), "url": p.text("url")}
    return True
