"""Readers' reactions: named ones in groups and private chats, anonymous totals in channels.

Telegram sends ``message_reaction`` (who changed what) for reactions in chats where they
are not anonymous, and ``message_reaction_count`` (totals only) for channel posts, whose
reactions are anonymous. Both only reach a bot that administers the chat and lists the
type in ``allowed_updates`` (World.push_update enforces that). A reader's reaction is not
part of the Message object, so the stand-in keeps them beside the messages.
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram.world import ChatRecord, World

# The emoji ReactionTypeEmoji allows (Bot API description of ReactionTypeEmoji.emoji).
EMOJI = frozenset(
    [
        "❤",
        "👍",
        "👎",
        "🔥",
        "🥰",
        "👏",
        "😁",
        "🤔",
        "🤯",
        "😱",
        "🤬",
        "😢",
        "🎉",
        "🤩",
        "🤮",
        "💩",
        "🙏",
        "👌",
        "🕊",
        "🤡",
        "🥱",
        "🥴",
        "😍",
        "🐳",
        "❤\u200d🔥",
        "🌚",
        "🌭",
        "💯",
        "🤣",
        "⚡",
        "🍌",
        "🏆",
        "💔",
        "🤨",
        "😐",
        "🍓",
        "🍾",
        "💋",
        "🖕",
        "😈",
        "😴",
        "😭",
        "🤓",
        "👻",
        "👨\u200d💻",
        "👀",
        "🎃",
        "🙈",
        "😇",
        "😨",
        "🤝",
        "✍",
        "🤗",
        "🫡",
        "🎅",
        "🎄",
        "☃",
        "💅",
        "🤪",
        "🗿",
        "🆒",
        "💘",
        "🙉",
        "🦄",
        "😘",
        "💊",
        "🙊",
        "😎",
        "👾",
        "🤷\u200d♂",
        "🤷",
        "🤷\u200d♀",
        "😡",
    ]
)
MAX_PER_USER = 3  # Premium users may set up to three reactions, others one


def _emoji_list(emoji: str | list[str] | None) -> list[str]:
    given = [] if emoji is None else [emoji] if isinstance(emoji, str) else list(emoji)
    given = [e.removesuffix("\ufe0f") for e in given]  # "❤️" as keyboards type it is "❤"
    for item in given:
        if item not in EMOJI:
            raise ValueError(f"{item!r} is not a reaction Telegram offers")
    if len(set(given)) != len(given) or len(given) > MAX_PER_USER:
        raise ValueError(f"a reader sets up to {MAX_PER_USER} distinct reactions")
    return given


def _wire(emojis: list[str]) -> list[dict[str, str]]:
    return [{"type": "emoji", "emoji": e} for e in emojis]


def _message_chat(world: World, chat_id: int | str, message_id: int) -> ChatRecord:
    chat = world.chat(chat_id)
    if message_id not in chat.messages:
        raise ValueError(f"no message {message_id} in chat {chat.id}")
    return chat


def react(
    world: World,
    user_id: int,
    chat_id: int | str,
    message_id: int,
    emoji: str | list[str] | None,
) -> dict[str, Any]:
    """A reader sets (or with None / [] removes) reactions: a MessageReactionUpdated."""
    user = world.user(user_id)
    chat = world.private_chat(user_id) if chat_id == user_id else world.chat(chat_id)
    if chat.type == "channel":
        raise ValueError("reactions to channel posts are anonymous: use react_anonymously")
    if chat.members.get(user_id) == "kicked":
        raise ValueError(f"user {user_id} is banned in chat {chat.id}")
    if message_id not in chat.messages:
        raise ValueError(f"no message {message_id} in chat {chat.id}")
    new = _emoji_list(emoji)
    by_user = world.reactions.setdefault((chat.id, message_id), {})
    old = by_user.get(user_id, [])
    if old == new:
        raise ValueError("the reader's reactions would not change")
    if new:
        by_user[user_id] = new
    else:
        by_user.pop(user_id, None)
    update = {
        "chat": chat.wire(),
        "message_id": message_id,
        "user": user,
        "date": world.now(),
        "old_reaction": _wire(old),
        "new_reaction": _wire(new),
    }
    world.push_update("message_reaction", update)
    return update


def react_anonymously(
    world: World, chat_id: int | str, message_id: int, emoji: str, count: int = 1
) -> dict[str, Any]:
    """count subscribers add (negative: take back) emoji on a channel post: new totals."""
    chat = world.chat(chat_id)
    if chat.type != "channel":
        raise ValueError("anonymous reactions are for channel posts; in chats use react")
    _message_chat(world, chat.id, message_id)
    (item,) = _emoji_list(emoji)
    counts = world.reaction_counts.setdefault((chat.id, message_id), {})
    total = counts.get(item, 0) + count
    if total < 0:
        raise ValueError(f"only {counts.get(item, 0)} reactions {item} to take back")
    counts[item] = total
    if not total:
        del counts[item]
    ranked = sorted(counts.items(), key=lambda pair: -pair[1])
    update = {
        "chat": chat.wire(),
        "message_id": message_id,
        "date": world.now(),
        "reactions": [{"type": {"type": "emoji", "emoji": e}, "total_count": n} for e, n in ranked],
    }
    world.push_update("message_reaction_count", update)
    return update
