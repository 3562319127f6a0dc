"""Who is in a chat: readers join and leave, the librarian adds, promotes and removes the bot.

Telegram reports a reader's change as ``chat_member`` (only to a bot that administers the
chat and lists the type in ``allowed_updates``), the bot's own change as ``my_chat_member``
(always, even when the bot is removed). In groups the change is also a service message
(``new_chat_members`` / ``left_chat_member``); channels have none.
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram.chats import member_wire
from sandbox.telegram.world import PRESENT, ChatRecord, World

_GROUP_TYPES = ("group", "supergroup")


def _member_update(
    world: World,
    chat: ChatRecord,
    actor: dict[str, Any],
    subject: dict[str, Any],
    status: str,
) -> dict[str, Any]:
    old = member_wire(world, chat, subject)
    chat.members[subject["id"]] = status
    return {
        "chat": chat.wire(),
        "from": actor,
        "date": world.now(),
        "old_chat_member": old,
        "new_chat_member": member_wire(world, chat, subject),
    }


def _service_message(world: World, chat: ChatRecord, sender: dict[str, Any], content: dict) -> None:
    if chat.type in _GROUP_TYPES:
        world.push_update("message", world.post(chat, sender, content))


def _public_chat(world: World, chat_id: int | str) -> ChatRecord:
    chat = world.chat(chat_id)
    if chat.type == "private":
        raise ValueError("nobody joins or leaves a private chat")
    return chat


def join(world: World, user_id: int, chat_id: int | str) -> dict[str, Any]:
    """A reader joins a group or subscribes to a channel: the ChatMemberUpdated."""
    user = world.user(user_id)
    chat = _public_chat(world, chat_id)
    status = chat.members.get(user_id, "left")
    if status in PRESENT:
        raise ValueError(f"user {user_id} is already in chat {chat.id}")
    if status == "kicked":
        raise ValueError(f"user {user_id} is banned in chat {chat.id}")
    update = _member_update(world, chat, user, user, "member")
    chat.member_count += 1
    world.push_update("chat_member", update)
    _service_message(world, chat, user, {"new_chat_members": [user]})
    return update


def leave(world: World, user_id: int, chat_id: int | str) -> dict[str, Any]:
    """A reader leaves a group or unsubscribes from a channel: the ChatMemberUpdated."""
    user = world.user(user_id)
    chat = _public_chat(world, chat_id)
    if chat.members.get(user_id) not in ("member", "administrator"):
        raise ValueError(f"user {user_id} is not a member of chat {chat.id} (or owns it)")
    update = _member_update(world, chat, user, user, "left")
    chat.member_count = max(0, chat.member_count - 1)
    world.push_update("chat_member", update)
    _service_message(world, chat, user, {"left_chat_member": user})
    return update


def add_bot_to(
    world: World, chat_id: int | str, admin: bool = True, by_user_id: int | None = None
) -> dict[str, Any]:
    """The librarian adds the bot (as an administrator, or a plain member of a group), or
    promotes / demotes it where it already is: the my_chat_member the bot receives."""
    chat = _public_chat(world, chat_id)
    actor = world.user(by_user_id) if by_user_id is not None else world.owner
    status = "administrator" if admin else "member"
    if chat.type == "channel" and not admin:
        raise ValueError("a bot can be added to a channel only as an administrator")
    before = world.bot_status(chat)
    if before == status:
        raise ValueError(f"the bot already is {status} in chat {chat.id}")
    if before != "administrator":  # made an administrator anew: the usual rights, none taken
        chat.rights.pop(world.bot["id"], None)
    update = _member_update(world, chat, actor, world.bot, status)
    world.push_update("my_chat_member", update)
    if before not in PRESENT:
        chat.member_count += 1
        _service_message(world, chat, actor, {"new_chat_members": [world.bot]})
    return update


def set_bot_rights(
    world: World, chat_id: int | str, rights: dict[str, bool], by_user_id: int | None = None
) -> dict[str, Any]:
    """The librarian changes the bot's administrator rights: the my_chat_member it receives."""
    chat = _public_chat(world, chat_id)
    actor = world.user(by_user_id) if by_user_id is not None else world.owner
    if world.bot_status(chat) != "administrator":
        raise ValueError(f"the bot is not an administrator of chat {chat.id}")
    known = member_wire(world, chat, world.bot)
    unknown = [name for name in rights if not name.startswith("can_") or name not in known]
    if unknown:
        raise ValueError(f"no such administrator right in a {chat.type}: {unknown}")
    old = member_wire(world, chat, world.bot)
    bot_id = world.bot["id"]
    chat.rights[bot_id] = {**chat.rights.get(bot_id, {}), **{k: bool(v) for k, v in rights.items()}}
    update = {
        "chat": chat.wire(),
        "from": actor,
        "date": world.now(),
        "old_chat_member": old,
        "new_chat_member": member_wire(world, chat, world.bot),
    }
    world.push_update("my_chat_member", update)
    return update


def remove_bot(world: World, chat_id: int | str, by_user_id: int | None = None) -> dict[str, Any]:
    """The librarian removes the bot from a chat: my_chat_member, then silence from there."""
    chat = _public_chat(world, chat_id)
    actor = world.user(by_user_id) if by_user_id is not None else world.owner
    if world.bot_status(chat) not in PRESENT:
        raise ValueError(f"the bot is not in chat {chat.id}")
    update = _member_update(world, chat, actor, world.bot, "left")
    chat.rights.pop(world.bot["id"], None)  # a bot that left keeps no administrator rights
    chat.member_count = max(0, chat.member_count - 1)
    world.push_update("my_chat_member", update)
    _service_message(world, chat, actor, {"left_chat_member": world.bot})  # the bot no longer sees
    return update


def create_chat(world: World, title: str, chat_type: str = "supergroup") -> dict[str, Any]:
    """A new group or channel the librarian owns; the bot is not in it until add_bot_to."""
    if chat_type not in ("group", "supergroup", "channel"):
        raise ValueError("a chat type is group, supergroup or channel")
    chat_id = -world.rng.randint(100_000_000, 999_999_999)
    if chat_type != "group":
        chat_id = int(f"-100{world.rng.randint(1_000_000_000, 2_999_999_999)}")
    while chat_id in world.chats:
        chat_id -= 1
    chat = ChatRecord(id=chat_id, type=chat_type, title=title, member_count=1)
    chat.members = {world.owner["id"]: "creator"}
    world.chats[chat.id] = chat
    return chat.wire()
