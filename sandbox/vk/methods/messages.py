"""messages.*: community messages to readers and answers to callback buttons."""

from __future__ import annotations

import json
from typing import Any

from sandbox.vk import audience
from sandbox.vk.api import ApiFailure, Call, invalid
from sandbox.vk.methods.registry import (
    method,
    parse_user_id,
)
from sandbox.vk.world import Message


@method("messages.send")
def messages_send(call: Call) -> Any:
    """Send a community message to readers who allowed it (those who wrote first)."""
    if call.token.kind != "group":
        raise ApiFailure(15, "this sandbox sends messages only with a community token")
    random_id = call.integer("random_id")
    if random_id is None:
        raise invalid("random_id is undefined")
    keyboard = _keyboard(call.text("keyboard"))
    if not call.text("message") and not call.text("attachment"):
        raise invalid("message is empty or invalid")
    if call.items("peer_ids"):
        peers = [parse_user_id(raw) for raw in call.items("peer_ids")]
        sent = [_send_one(call, peer, random_id, keyboard) for peer in peers]
        return [
            {
                "peer_id": m.peer_id,
                "message_id": m.id,
                "conversation_message_id": m.conversation_message_id,
            }
            for m in sent
        ]
    peer = call.integer("peer_id") or call.integer("user_id")
    if not peer:
        raise invalid("peer_id is undefined")
    return _send_one(call, peer, random_id, keyboard).id


@method("messages.sendMessageEventAnswer")
def messages_send_message_event_answer(call: Call) -> int:
    """Answer a callback-button press (show a snackbar, open a link or an app)."""
    event_id = call.text("event_id")
    press = call.world.button_presses.get(event_id)
    if press is None or press["user_id"] != call.integer("user_id"):
        raise invalid("event_id is invalid")
    if call.token.kind == "group" and press["group_id"] != call.token.owner:
        raise invalid("event_id is invalid")
    if call.text("event_data"):
        press["answer"] = _event_data(call.text("event_data"))
    press["answered"] = True
    return 1


# -- helpers ----------------------------------------------------------------------


def _send_one(call: Call, peer: int, random_id: int, keyboard: dict | None) -> Message:
    """One message from the token's community; a repeated random_id returns the first one."""
    world = call.world
    group_id = call.token.owner
    if random_id:
        for sent in world.messages:
            same_dialog = sent.group_id == group_id and sent.peer_id == peer
            if sent.out and same_dialog and sent.random_id == random_id:
                return sent
    if (group_id, peer) not in world.messaging_allowed:
        raise ApiFailure(901)
    return audience.record_message(
        world,
        group_id=group_id,
        peer_id=peer,
        from_id=-group_id,
        text=call.text("message"),
        out=True,
        keyboard=keyboard,
        random_id=random_id,
    )


def _keyboard(raw: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        keyboard = json.loads(raw)
        rows = keyboard["buttons"]
        inline = bool(keyboard.get("inline"))
    except (ValueError, KeyError, TypeError):
        raise ApiFailure(911) from None
    max_rows, max_buttons = (6, 10) if inline else (10, 40)
    if len(rows) > max_rows or sum(len(row) for row in rows) > max_buttons:
        raise ApiFailure(911)
    if any(len(row) > 5 for row in rows):
        raise ApiFailure(911)
    return keyboard


def _event_data(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise invalid("event_data is invalid") from None
    if not isinstance(data, dict) or data.get("type") not in (
        "show_snackbar",
        "open_link",
        "open_app",
    ):
        raise invalid("event_data is invalid")
    if data["type"] == "show_snackbar" and not 1 <= len(str(data.get("text", ""))) <= 90:
        raise invalid("event_data is invalid")
    return data
