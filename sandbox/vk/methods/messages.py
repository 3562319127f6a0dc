"""messages.*: community messages to readers and chats, edits, and answers to callback buttons."""

from __future__ import annotations

import json
from typing import Any

from sandbox.vk import chats
from sandbox.vk.api import ApiFailure, Call, invalid
from sandbox.vk.methods import message_files
from sandbox.vk.methods.registry import method, parse_user_id, profiles_and_groups
from sandbox.vk.world import CHAT_PEER_BASE, Message

# VK lets a community edit its message for a day (error 909 after that).
EDIT_WINDOW = 24 * 3600
BUTTON_TYPES = ("text", "callback", "open_link", "open_app", "location", "vkpay")
LABEL_LIMIT = 40
PAYLOAD_LIMIT = 255


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
        # Each peer is answered on its own: a reader who never wrote gets an item with
        # VK's error (901) inside, and the others are sent all the same.
        return [
            _send_item(call, parse_user_id(raw), random_id, keyboard)
            for raw in call.items("peer_ids")
        ]
    peer = call.integer("peer_id") or call.integer("user_id")
    if not peer and call.integer("chat_id"):
        peer = CHAT_PEER_BASE + (call.integer("chat_id") or 0)
    if not peer:
        raise invalid("peer_id is undefined")
    sent = _send_one(call, peer, random_id, keyboard)
    # In a chat a community bot gets 0: it knows its message by conversation_message_id only
    # (peer_ids gives that), as render.message shows chat messages with id 0.
    return 0 if chats.is_chat(peer) else sent.id


@method("messages.edit")
def messages_edit(call: Call) -> int:
    """Edit one of the community's own messages, named by cmid (conversation_message_id) or,
    outside chats, by message_id; text and keyboard are replaced."""
    if call.token.kind != "group":
        raise ApiFailure(15, "this sandbox edits messages only with a community token")
    world, group_id, peer = call.world, call.token.owner, call.required_integer("peer_id")
    if chats.is_chat(peer) and (group_id, peer) not in world.chats:
        raise ApiFailure(917)
    cmid = call.integer("cmid") or call.integer("conversation_message_id")
    message_id = call.integer("message_id")
    if cmid is None and message_id is None:
        raise invalid("message_id is undefined")
    if chats.is_chat(peer) and cmid is None:
        raise ApiFailure(15, "use conversation_message_id for messages of a chat")
    try:
        found = chats.find_message(world, group_id, peer, message_id, cmid)
    except KeyError:
        raise invalid("message_id is invalid") from None
    if not found.out:
        raise ApiFailure(920)
    if world.now() - found.date > EDIT_WINDOW:
        raise ApiFailure(909)
    keyboard = _keyboard(call.text("keyboard"))
    text = call.text("message")
    if not text and not call.text("attachment"):
        raise invalid("message is empty or invalid")
    # Unconfirmed but widely reported: an edit without keyboard drops the message's keyboard,
    # so a bot must send it again; the stricter reading costs a correct bot nothing.
    found.text, found.keyboard = text, keyboard
    found.update_time = world.now()
    return 1


@method("messages.getConversationMembers")
def messages_get_conversation_members(call: Call) -> dict[str, Any]:
    """Members of a chat the community is in, with their profiles and the community."""
    if call.token.kind != "group":
        raise ApiFailure(15, "this sandbox lists chat members only with a community token")
    peer = call.required_integer("peer_id")
    chat = call.world.chats.get((call.token.owner, peer))
    if chat is None:
        raise ApiFailure(917)
    users = [
        {
            "member_id": uid,
            "join_date": chat.joined.get(uid, 0),
            "is_owner": uid == chat.owner_id,
            "is_admin": uid == chat.owner_id,
            "can_kick": True,
            "invited_by": chat.owner_id,
        }
        for uid in chat.members
    ]
    bot = {
        "member_id": -chat.group_id,
        "join_date": 0,
        "is_admin": True,
        "invited_by": chat.owner_id,
    }
    owners = {*chat.members, -chat.group_id}
    return {"count": len(users) + 1, "items": [*users, bot], **profiles_and_groups(call, owners)}


@method("messages.sendMessageEventAnswer")
def messages_send_message_event_answer(call: Call) -> int:
    """Answer a callback-button press (show a snackbar, open a link or an app)."""
    event_id = call.text("event_id")
    press = call.world.button_presses.get(event_id)
    if press is None or press["user_id"] != call.integer("user_id"):
        raise invalid("event_id is invalid")
    if press["peer_id"] != call.integer("peer_id"):
        raise invalid("peer_id is invalid")
    if call.token.kind == "group" and press["group_id"] != call.token.owner:
        raise invalid("event_id is invalid")
    if call.text("event_data"):
        press["answer"] = _event_data(call.text("event_data"))
    press["answered"] = True
    return 1


# -- helpers ----------------------------------------------------------------------


def _send_item(call: Call, peer: int, random_id: int, keyboard: dict | None) -> dict[str, Any]:
    """One item of a peer_ids answer: the message sent, or the error for this peer."""
    try:
        sent = _send_one(call, peer, random_id, keyboard)
    except ApiFailure as refused:
        error = {"code": refused.code, "description": refused.message}
        return {"peer_id": peer, "message_id": 0, "conversation_message_id": 0, "error": error}
    return {
        "peer_id": sent.peer_id,
        "message_id": 0 if chats.is_chat(sent.peer_id) else sent.id,
        "conversation_message_id": sent.conversation_message_id,
    }


def _send_one(call: Call, peer: int, random_id: int, keyboard: dict | None) -> Message:
    """One message from the token's community; a repeated random_id returns the first one.

    Readers must have written first (901); a chat must be one the community is in (917).
    """
    world = call.world
    group_id = call.token.owner
    if random_id:
        for sent in world.messages:
            same_dialog = sent.group_id == group_id and sent.peer_id == peer
            if sent.out and same_dialog and sent.random_id == random_id:
                return sent
    if chats.is_chat(peer):
        if (group_id, peer) not in world.chats:
            raise ApiFailure(917)
    elif (group_id, peer) not in world.messaging_allowed:
        raise ApiFailure(901)
    attachments = message_files.message_attachments(call)
    sent = chats.record_message(
        world,
        group_id=group_id,
        peer_id=peer,
        from_id=-group_id,
        text=call.text("message"),
        out=True,
        keyboard=keyboard,
        random_id=random_id,
    )
    sent.attachments = attachments
    return sent


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
    for button in (button for row in rows for button in row):
        _check_button(button)
    return keyboard


def _check_button(button: Any) -> None:
    """Error 911 for a button VK refuses: unknown action, or a label or payload too long."""
    action = button.get("action") if isinstance(button, dict) else None
    if not isinstance(action, dict) or action.get("type") not in BUTTON_TYPES:
        raise ApiFailure(911)
    label = action.get("label")
    needs_label = action["type"] in ("text", "callback", "open_link")
    if needs_label and (not isinstance(label, str) or not 1 <= len(label) <= LABEL_LIMIT):
        raise ApiFailure(911)
    if len(str(action.get("payload", ""))) > PAYLOAD_LIMIT:
        raise ApiFailure(911)


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
