"""Inline buttons: a reader presses one (callback_query update), the bot answers it."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.params import Params
from sandbox.telegram.registry import api_method
from sandbox.telegram.world import World

ANSWER_TEXT_LIMIT = 200
ANSWER_DEADLINE = 15  # seconds Telegram waits for answerCallbackQuery


def press_button(
    world: World, user_id: int, chat_id: int | str, message_id: int, callback_data: str
) -> dict[str, Any]:
    """A reader presses the button carrying callback_data; returns the CallbackQuery."""
    user = world.user(user_id)
    chat = world.chat(chat_id)
    message = chat.messages.get(message_id)
    if message is None:
        raise ValueError(f"no message {message_id} in chat {chat.id}")
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    if not any(button.get("callback_data") == callback_data for row in rows for button in row):
        raise ValueError(f"message {message_id} has no button with callback_data {callback_data!r}")
    query_id = str(world.rng.randint(10**18, 10**19 - 1))
    chat_instance = str(
        int(hashlib.sha256(f"{chat.id}:{world.bot['id']}".encode()).hexdigest()[:15], 16)
    )
    query = {
        "id": query_id,
        "from": user,
        "message": message,
        "chat_instance": chat_instance,
        "data": callback_data,
    }
    world.callback_queries[query_id] = {
        "id": query_id,
        "user_id": user_id,
        "chat_id": chat.id,
        "message_id": message_id,
        "data": callback_data,
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
