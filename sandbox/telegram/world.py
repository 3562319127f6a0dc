"""Everything the Telegram stand-in knows: the bot, users, chats, messages and pending updates.

One World is built deterministically from a seed: the bot and its token, the librarian who
owns the library's public channel and its linked discussion group. Messages are stored per
chat as the wire dicts the API returns. Updates are queued only where Telegram would send
them to this bot: never for the bot's own messages.

The World is not thread-safe by itself; TelegramStandIn guards it with one lock.
"""

from __future__ import annotations

import copy
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram.errors import bad_request, chat_not_found, forbidden
from sandbox.telegram.media import FileStore

# Telegram's default when allowed_updates was never given: all but chat_member and reactions.
DEFAULT_UPDATE_TYPES = frozenset(
    [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "guest_message",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "managed_bot",
    ]
)

# Update types Telegram sends only to a bot that administers the chat.
ADMIN_ONLY_UPDATES = frozenset(["message_reaction", "message_reaction_count", "chat_member"])
PRESENT = ("creator", "administrator", "member")

# The service account Telegram uses as sender of channel posts copied into discussion groups.
TELEGRAM_SERVICE_USER = {"id": 777000, "is_bot": False, "first_name": "Telegram"}

_LIBRARIES = [
    ("Центральная библиотека Заречного", "zarechny"),
    ("Библиотека имени Пушкина, Озёрск", "ozersk_pushkin"),
    ("Районная библиотека Берёзовки", "berezovka"),
    ("Детская библиотека Светлогорска", "svetlogorsk_kids"),
]
_FIRST_NAMES = [
    "Анна",
    "Мария",
    "Ольга",
    "Иван",
    "Дмитрий",
    "Елена",
    "Sergey",
    "Alina",
    "Пётр",
    "Kate",
]
_LAST_NAMES = ["Смирнова", "Кузнецов", "Попова", "Соколов", "Lebedeva", None, "Волков", None]


@dataclass
class ChatRecord:
    """One chat: its identity, audience size, members the stand-in knows, and its messages."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    description: str = ""
    member_count: int = 0
    linked_chat_id: int | None = None
    next_message_id: int = 1
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, str] = field(default_factory=dict)  # user id -> ChatMember status
    pinned: list[int] = field(default_factory=list)
    discussion_copies: dict[int, int] = field(default_factory=dict)  # channel post -> group copy
    # user id -> administrator rights changed from the usual ones (can_post_messages, ...)
    rights: dict[int, dict[str, bool]] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """The Chat object embedded in messages."""
        fields = ("title", "username", "first_name", "last_name")
        wire: dict[str, Any] = {"id": self.id, "type": self.type}
        wire.update({name: getattr(self, name) for name in fields if getattr(self, name)})
        return wire


class World:
    """All state of the stand-in, built from a seed."""

    def __init__(self, seed: int = 0, clock: Callable[[], float] = time.time):
        rng = random.Random(seed)
        self.seed = seed
        self.rng = rng
        self._clock = clock
        self.clock_offset = 0.0
        library, slug = rng.choice(_LIBRARIES)
        bot_id = 7_000_000_001 + seed
        secret = "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(28))
        self.token = f"{bot_id}:SANDBOX{secret}"
        self.bot: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Библиобот",
            "username": f"{slug}_library_bot",
        }
        self.users: dict[int, dict[str, Any]] = {bot_id: self.bot}
        self.owner = self.add_user("Анна", "Смирнова", f"{slug}_librarian")
        self.started_bot: set[int] = set()  # users who opened a private chat with the bot
        self.chats: dict[int, ChatRecord] = {}
        self.channel = self._add_chat(
            ChatRecord(
                id=int(f"-100{rng.randint(1_500_000_000, 2_499_999_999)}"),
                type="channel",
                title=library,
                username=f"{slug}_library",
                description=f"Новости, викторины и конкурсы: {library}",
                member_count=rng.randint(800, 3000),
                next_message_id=rng.randint(100, 900),
            )
        )
        self.group = self._add_chat(
            ChatRecord(
                id=int(f"-100{rng.randint(2_500_000_000, 2_999_999_999)}"),
                type="supergroup",
                title=f"{library}: обсуждение",
                username=f"{slug}_library_chat",
                description="Обсуждаем книги и отвечаем на викторины",
                member_count=rng.randint(100, 400),
                next_message_id=rng.randint(1000, 5000),
            )
        )
        self.channel.linked_chat_id, self.group.linked_chat_id = self.group.id, self.channel.id
        for chat in (self.channel, self.group):
            chat.members = {self.owner["id"]: "creator", bot_id: "administrator"}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = rng.randint(100_000_000, 900_000_000)
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.files = FileStore(seed)
        self.polls: dict[str, Any] = {}  # poll id -> polls.PollRecord
        self.callback_queries: dict[str, dict[str, Any]] = {}
        # (chat id, message id) -> user id -> emojis; and -> emoji -> anonymous total
        self.reactions: dict[tuple[int, int], dict[int, list[str]]] = {}
        self.reaction_counts: dict[tuple[int, int], dict[str, int]] = {}
        self.webhook_url = ""
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.on_update: Callable[[], None] | None = None

    # -- time ------------------------------------------------------------

    def exact_now(self) -> float:
        """Unix time on the stand-in's clock: real time plus any advance."""
        return self._clock() + self.clock_offset

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Read time from another clock (the stand-in freezes and thaws it)."""
        self._clock = clock

    def now(self) -> int:
        """Unix seconds on the stand-in's clock, as message dates carry them."""
        return int(self.exact_now())

    # -- users and chats ---------------------------------------------------

    def add_user(
        self,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "ru",
    ) -> dict[str, Any]:
        """Create a Telegram user; names are picked from the seed when not given."""
        user_id = self.rng.randint(100_000_000, 6_999_999_999)
        while user_id in self.users:
            user_id += 1
        if first_name is None:
            first_name = self.rng.choice(_FIRST_NAMES)
            last_name = self.rng.choice(_LAST_NAMES)
            if self.rng.random() < 0.7:  # about a third of real users have no username
                username = f"reader{user_id % 100_000}"
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> dict[str, Any]:
        """A known user, or the real error for an unknown one."""
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return user

    def _add_chat(self, chat: ChatRecord) -> ChatRecord:
        self.chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int | str) -> ChatRecord:
        """Resolve a chat id or @username as the API does; unknown chats are 'not found'."""
        if isinstance(chat_id, str):
            text = chat_id.strip()
            if text.startswith("@"):
                found = [
                    c
                    for c in self.chats.values()
                    if c.username and c.username.lower() == text[1:].lower()
                ]
                if found:
                    return found[0]
                raise chat_not_found()
            try:
                chat_id = int(text)
            except ValueError:
                raise chat_not_found() from None
        chat = self.chats.get(chat_id)
        if chat is not None:
            return chat
        if chat_id in self.users and chat_id in self.started_bot:
            return self.private_chat(chat_id)
        if chat_id in self.users and chat_id != self.bot["id"]:
            raise forbidden("bot can't initiate conversation with a user")
        raise chat_not_found()

    def private_chat(self, user_id: int) -> ChatRecord:
        """The private chat of a user with the bot, created when the user first writes."""
        if user_id not in self.chats:
            user = self.users[user_id]
            chat = ChatRecord(
                id=user_id,
                type="private",
                first_name=user["first_name"],
                last_name=user.get("last_name"),
                username=user.get("username"),
                member_count=2,
            )
            chat.members = {user_id: "member", self.bot["id"]: "member"}
            self._add_chat(chat)
            self.started_bot.add(user_id)
        return self.chats[user_id]

    # -- messages ----------------------------------------------------------

    def post(
        self, chat: ChatRecord, sender: dict[str, Any] | None, content: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a new message in chat; sender None means the channel itself posts."""
        message: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "date": self.now(),
            "chat": chat.wire(),
        }
        chat.next_message_id += 1
        if chat.type == "channel":
            message["sender_chat"] = chat.wire()
        elif sender is not None:
            message["from"] = sender
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def copy_to_discussion(self, post: dict[str, Any]) -> dict[str, Any] | None:
        """Telegram copies every channel post into the linked group; the bot sees the copy there."""
        channel = self.chats[post["chat"]["id"]]
        if channel.type != "channel" or channel.linked_chat_id is None:
            return None
        group = self.chats[channel.linked_chat_id]
        content = {
            k: v
            for k, v in post.items()
            if k not in ("message_id", "date", "chat", "sender_chat", "reply_markup")
        }
        content.update(
            is_automatic_forward=True,
            forward_origin={
                "type": "channel",
                "chat": channel.wire(),
                "message_id": post["message_id"],
                "date": post["date"],
            },
        )
        copy_message = self.post(group, TELEGRAM_SERVICE_USER, content)
        copy_message["sender_chat"] = channel.wire()
        channel.discussion_copies[post["message_id"]] = copy_message["message_id"]
        self.push_update("message", copy_message)
        return copy_message

    # -- updates -----------------------------------------------------------

    def bot_status(self, chat: ChatRecord) -> str:
        """The bot's ChatMember status in a chat ("left" when it is not there)."""
        return chat.members.get(self.bot["id"], "left")

    def push_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update if the bot subscribed to its type and may see it in that chat."""
        if kind not in self.allowed_updates or not self._bot_sees(kind, payload):
            return
        self.updates.append({"update_id": self.next_update_id, kind: copy.deepcopy(payload)})
        self.next_update_id += 1
        if self.on_update is not None:
            self.on_update()

    def _bot_sees(self, kind: str, payload: dict[str, Any]) -> bool:
        if kind == "my_chat_member":  # the bot hears about its own removal
            return True
        chat_wire = payload.get("chat") or (payload.get("message") or {}).get("chat") or {}
        chat = self.chats.get(chat_wire.get("id", 0))
        if chat is None or chat.type == "private":
            return True
        status = self.bot_status(chat)
        if kind in ADMIN_ONLY_UPDATES:
            return status in ("creator", "administrator")
        return status in PRESENT

    def confirm_updates(self, offset: int | None) -> None:
        """Forget what getUpdates' offset confirms (negative: keep only the last -offset)."""
        if offset is None:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def pending_updates(self, limit: int) -> list[dict[str, Any]]:
        """The oldest unconfirmed updates, at most limit of them."""
        return copy.deepcopy(self.updates[:limit])

    # -- snapshot ----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "bot": self.bot,
            "token": self.token,
            "now": self.now(),
            "users": list(self.users.values()),
            "chats": [
                {
                    **chat.wire(),
                    "member_count": chat.member_count,
                    "linked_chat_id": chat.linked_chat_id,
                    "members": {str(k): v for k, v in chat.members.items()},
                    "pinned": chat.pinned,
                    "messages": list(chat.messages.values()),
                }
                for chat in self.chats.values()
            ],
            "updates_pending": copy.deepcopy(self.updates),
            "polls": [poll.snapshot() for poll in self.polls.values()],
            "callback_queries": list(self.callback_queries.values()),
            "reactions": [
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "by_user": {str(u): e for u, e in by.items()},
                }
                for (chat_id, message_id), by in self.reactions.items()
            ],
            "reaction_counts": [
                {"chat_id": chat_id, "message_id": message_id, "counts": counts}
                for (chat_id, message_id), counts in self.reaction_counts.items()
            ],
            "allowed_updates": sorted(self.allowed_updates),
            "webhook_url": self.webhook_url,
            "commands": self.commands,
        }
