"""Group chats (conversations) a community's bot is in: readers write and press buttons there.

VK numbers a community's chats from 1 (peer_id = 2000000000 + chat_id), each community on its
own, and numbers messages per conversation (``conversation_message_id``). A bot that is a
member of a chat it does not own sees messages there with ``id`` 0 (``render.message``), so
it edits and answers by ``conversation_message_id``. The bot here has access to all messages
of its chats, as VK grants when the chat makes the bot an administrator. Callers hold the
stand-in's lock.
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.vk import render
from sandbox.vk.events import EventHub
from sandbox.vk.world import CHAT_PEER_BASE, Chat, Message, World

CLIENT_INFO = {
    "button_actions": ["text", "vkpay", "open_app", "location", "open_link", "callback"],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}


def is_chat(peer_id: int) -> bool:
    """Whether a peer_id names a group chat rather than a person or a community."""
    return peer_id > CHAT_PEER_BASE


def add_chat(world: World, group_id: int, title: str, members: list[int]) -> Chat:
    """A new chat with the community's bot and ``members`` (the first one created it)."""
    if not str(title).strip():
        raise ValueError("a chat needs a title")
    taken = [peer for group, peer in world.chats if group == group_id]
    peer_id = CHAT_PEER_BASE + len(taken) + 1
    people = [world.user(int(uid)).id for uid in dict.fromkeys(members)]
    owner = people[0] if people else world.communities[group_id].admin_id
    chat = Chat(group_id, peer_id, str(title), owner, [])
    for user_id in [owner, *people]:
        _admit(world, chat, user_id)
    world.chats[(group_id, peer_id)] = chat
    return chat


def chat_of(world: World, group_id: int, peer_id: int) -> Chat:
    """The community's chat with this peer_id; KeyError if the bot is in no such chat."""
    chat = world.chats.get((group_id, int(peer_id)))
    if chat is None:
        raise KeyError(f"community {group_id} is in no chat {peer_id}")
    return chat


def write_in_chat(
    world: World,
    events: EventHub,
    group_id: int,
    user_id: int,
    peer_id: int,
    text: str,
    reply_to: int | None = None,
) -> Message:
    """A reader writes in a chat (message_new); writing makes them a member, as joining
    by the chat's invite link would."""
    chat = chat_of(world, group_id, peer_id)
    if not str(text):
        raise ValueError("a message needs some text")
    _admit(world, chat, user_id)
    replied = None
    if reply_to is not None:
        replied = find_message(world, group_id, peer_id, conversation_message_id=reply_to)
    sent = record_message(
        world,
        group_id=group_id,
        peer_id=chat.peer_id,
        from_id=user_id,
        text=str(text),
        out=False,
        reply_to=replied,
    )
    events.add(
        group_id, "message_new", {"message": render.message(sent), "client_info": CLIENT_INFO}
    )
    return sent


def record_message(
    world: World,
    *,
    group_id: int,
    peer_id: int,
    from_id: int,
    text: str,
    out: bool,
    keyboard: dict[str, Any] | None = None,
    payload: str | None = None,
    random_id: int = 0,
    reply_to: Message | None = None,
) -> Message:
    """Store a message of a community's conversation with ``peer_id`` (a reader or a chat)."""
    key = (group_id, peer_id)
    world.last_cmid[key] = world.last_cmid.get(key, 0) + 1
    created = Message(
        id=world.new_message_id(),
        peer_id=peer_id,
        from_id=from_id,
        date=world.now(),
        text=text,
        conversation_message_id=world.last_cmid[key],
        out=out,
        payload=payload,
        keyboard=keyboard,
        random_id=random_id,
        group_id=group_id,
        reply_to=reply_to,
    )
    world.messages.append(created)
    return created


def find_message(
    world: World,
    group_id: int,
    peer_id: int,
    message_id: int | None = None,
    conversation_message_id: int | None = None,
) -> Message:
    """A message of a conversation by its id or its conversation_message_id; KeyError if none."""
    for message in world.messages:
        if message.group_id != group_id or message.peer_id != peer_id:
            continue
        if message_id is not None and message.id == message_id:
            return message
        if conversation_message_id == message.conversation_message_id:
            return message
    wanted = (
        f"message {message_id}" if message_id is not None else f"cmid {conversation_message_id}"
    )
    raise KeyError(f"no {wanted} in the conversation {peer_id} of community {group_id}")


def has_callback_button(message: Message) -> bool:
    """Whether the message carries an inline keyboard with a callback button."""
    keyboard = message.keyboard or {}
    rows = keyboard.get("buttons", []) if keyboard.get("inline") else []
    return any(button.get("action", {}).get("type") == "callback" for row in rows for button in row)


def keyboard_message(
    world: World,
    group_id: int,
    peer_id: int,
    message_id: int | None,
    conversation_message_id: int | None,
) -> Message:
    """The community's message a press lands on: the one named, or its last one with callback
    buttons. VK checks only that the message exists and carries them, never the payload:
    a client can send any payload, so a forged one goes through."""
    if message_id is None and conversation_message_id is None:
        sent = [
            m
            for m in world.messages
            if m.out and m.group_id == group_id and m.peer_id == peer_id and has_callback_button(m)
        ]
        if not sent:
            raise ValueError(f"the community sent no callback buttons to {peer_id}")
        return sent[-1]
    found = find_message(world, group_id, peer_id, message_id, conversation_message_id)
    if not found.out or not has_callback_button(found):
        raise ValueError(f"message {found.conversation_message_id} has no callback buttons")
    return found


def press(
    world: World,
    events: EventHub,
    group_id: int,
    user_id: int,
    peer_id: int,
    payload: Any,
    anchor: Message | None,
) -> str:
    """Record a press on ``anchor`` and send message_event; returns the event_id."""
    event_id = f"{random.Random(world.seed + len(world.button_presses)).getrandbits(48):012x}"
    world.button_presses[event_id] = {
        "group_id": group_id,
        "user_id": user_id,
        "peer_id": peer_id,
        "payload": payload,
        "conversation_message_id": anchor.conversation_message_id if anchor else None,
        "answered": False,
        "answer": None,
    }
    obj: dict[str, Any] = {
        "user_id": user_id,
        "peer_id": peer_id,
        "event_id": event_id,
        "payload": payload,
    }
    if anchor is not None:
        obj["conversation_message_id"] = anchor.conversation_message_id
    events.add(group_id, "message_event", obj)
    return event_id


def members_state(world: World, chat: Chat) -> dict[str, Any]:
    """A chat as state() and chats() show it."""
    return {
        "group_id": chat.group_id,
        "peer_id": chat.peer_id,
        "chat_id": chat.peer_id - CHAT_PEER_BASE,
        "title": chat.title,
        "owner_id": chat.owner_id,
        "members": list(chat.members),
        "messages": sum(
            m.group_id == chat.group_id and m.peer_id == chat.peer_id for m in world.messages
        ),
    }


def _admit(world: World, chat: Chat, user_id: int) -> None:
    if user_id not in chat.members:
        chat.members.append(world.user(user_id).id)
        chat.joined[user_id] = world.now()
