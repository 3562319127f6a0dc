"""Everything the MAX stand-in holds: the bot, users, chats and channels, messages, comments,
callbacks, uploads, webhook subscriptions and the queue of updates for long polling.

Objects are rendered in the shapes of specs/max/api.json (Message, Chat, ChatMember, User...).
Times in answers are milliseconds since the epoch (schema info.description, "Resources
format"). Identifiers look like the recorded answers of the official Go client: chats and
channels negative, dialogs and users positive, message ids ``mid.`` and 32 hex digits.
A World is not thread-safe; the stand-in guards it with one lock.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.max.errors import bad_request, denied, not_found

# What a bot admin may do in a channel or chat (ChatAdminPermission in the schema).
ALL_PERMISSIONS = [
    "read_all_messages",
    "add_remove_members",
    "add_admins",
    "change_chat_info",
    "pin_message",
    "edit_link",
    "write",
    "edit",
    "delete",
    "can_call",
    "view_stats",
]
_FIRST = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Илья", "Ксения", "Лев"]
_LAST = ["Иванова", "Петров", "Смирнова", "Кузнецов", "Попова", "Соколов", "Морозова", "Волков"]


@dataclass
class Member:
    user_id: int
    join_time: int
    is_owner: bool = False
    is_admin: bool = False
    permissions: list[str] | None = None


@dataclass
class Message:
    mid: str
    seq: int
    chat_id: int
    sender_id: int | None  # None: posted on behalf of a channel
    timestamp: int
    text: str | None
    markup: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    link: dict[str, Any] | None = None
    views: int = 0
    notify: bool = True
    disable_link_preview: bool = False
    format: str | None = None
    edited_at: int | None = None
    post_mid: str | None = None  # set on comments: the channel post they belong to
    comments: dict[str, Message] = field(default_factory=dict)


@dataclass
class Chat:
    chat_id: int
    type: str  # "channel", "chat" or "dialog"
    title: str | None
    is_public: bool = False
    link: str | None = None
    description: str | None = None
    owner_id: int | None = None
    status: str = "active"  # the bot's status: active, removed, left, closed, suspended
    members: dict[int, Member] = field(default_factory=dict)
    extra_members: int = 0  # members nobody lists (a crowd of subscribers)
    last_event_time: int = 0
    dialog_user_id: int | None = None
    messages: dict[str, Message] = field(default_factory=dict)


@dataclass
class Upload:
    kind: str  # image, video, audio, file
    token: str | None  # video and audio: given by POST /uploads already
    data: bytes | None = None
    filename: str | None = None


@dataclass
class Stored:
    """An uploaded file that attachments may name by token."""

    kind: str
    token: str
    ready_at: float  # stand-in clock: sending before this answers attachment.not.ready
    photo_id: int | None = None
    url: str = ""
    filename: str = "file"
    size: int = 0


class World:
    """The state of one MAX bot's world."""

    def __init__(self, seed: int, clock: Callable[[], float]):
        self.rng = random.Random(seed)
        self.clock = clock
        self.token = "".join(
            self.rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(64)
        )
        self.users: dict[int, dict[str, Any]] = {}
        self.locales: dict[int, str] = {}
        self.chats: dict[int, Chat] = {}
        self.seq = self.rng.randrange(10**17, 2 * 10**17)
        self.bot = self._new_user("Библиотека", None, "library_demo_bot", is_bot=True)
        self.bot_description = "Афиша и викторины библиотеки"
        self.owner = self._new_user("Мария", "Иванова", "librarian")
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, Upload] = {}
        self.stored: dict[str, Stored] = {}
        self.files: dict[str, bytes] = {}  # files readers sent, by the id in their link
        self.upload_delay = 0.0  # seconds before a video/audio/file upload can be attached
        self.subscriptions: list[dict[str, Any]] = []
        self.allow_insecure_webhooks = False
        self.queue: list[tuple[int, dict[str, Any]]] = []  # (marker number, update)
        self.next_marker = self.rng.randrange(10**6, 10**7)
        self.committed = self.next_marker
        self.on_update: Callable[[dict[str, Any]], None] | None = None
        self.channel = self.new_chat("channel", "Центральная библиотека", public=True, bot="admin")
        self.group = self.new_chat("chat", "Книжный клуб", public=False, bot="admin")

    # -- time and ids -----------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _mid(self) -> str:
        return f"mid.{self.rng.getrandbits(128):032x}"

    def _next_seq(self) -> int:
        self.seq += self.rng.randrange(1, 1000)
        return self.seq

    def random_token(self, length: int = 43) -> str:
        return "".join(
            self.rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(length)
        )

    # -- users --------------------------------------------------------------------------

    def _new_user(
        self, first: str, last: str | None, username: str | None, is_bot: bool = False
    ) -> dict[str, Any]:
        user_id = self.rng.randrange(10**8, 10**9)
        while user_id in self.users:
            user_id = self.rng.randrange(10**8, 10**9)
        user = {
            "user_id": user_id,
            "first_name": first,
            "last_name": last,
            "username": username,
            "is_bot": is_bot,
            "last_activity_time": self.now_ms(),
            "name": f"{first} {last}" if last else first,
        }
        self.users[user_id] = user
        return user

    def add_user(
        self,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        locale: str = "ru",
    ) -> dict[str, Any]:
        """A new reader; seeded names when none are given."""
        first = first_name or self.rng.choice(_FIRST)
        last = last_name if first_name else self.rng.choice(_LAST)
        user = self._new_user(first, last, username)
        self.locales[user["user_id"]] = locale
        return dict(user)

    def user(self, user_id: int) -> dict[str, Any]:
        if user_id not in self.users:
            raise not_found(f"user {user_id} not found")
        return self.users[user_id]

    def user_json(self, user_id: int) -> dict[str, Any]:
        user = dict(self.users[user_id])
        user["last_activity_time"] = self.now_ms() if user["is_bot"] else user["last_activity_time"]
        return {k: v for k, v in user.items() if v is not None or k in ("user_id",)}

    # -- chats --------------------------------------------------------------------------

    def new_chat(
        self, kind: str, title: str, public: bool = False, bot: str | None = "admin"
    ) -> Chat:
        """A channel or group chat owned by the librarian; ``bot``: "admin", "member" or None."""
        if kind not in ("channel", "chat"):
            raise ValueError("kind must be 'channel' or 'chat'")
        chat_id = -self.rng.randrange(7 * 10**13, 8 * 10**13)
        now = self.now_ms()
        slug = f"join/{self.random_token(12)}" if not public else f"lib{abs(chat_id) % 10**6}"
        chat = Chat(
            chat_id=chat_id,
            type=kind,
            title=title,
            is_public=public,
            link=f"https://max.ru/{slug}",
            owner_id=self.owner["user_id"],
            last_event_time=now,
            status="active" if bot else "removed",
        )
        chat.members[self.owner["user_id"]] = Member(
            self.owner["user_id"],
            now,
            is_owner=True,
            is_admin=True,
            permissions=list(ALL_PERMISSIONS),
        )
        if bot:
            self._seat_bot(chat, admin=bot == "admin")
        self.chats[chat_id] = chat
        return chat

    def _seat_bot(self, chat: Chat, admin: bool, permissions: list[str] | None = None) -> None:
        perms = (
            permissions
            if permissions is not None
            else [p for p in ALL_PERMISSIONS if p != "add_admins"]
        )
        chat.members[self.bot["user_id"]] = Member(
            self.bot["user_id"], self.now_ms(), is_admin=admin, permissions=perms if admin else None
        )
        chat.status = "active"

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise not_found(f"Chat {chat_id} not found")
        return chat

    def bot_member(self, chat: Chat) -> Member | None:
        return chat.members.get(self.bot["user_id"]) if chat.status == "active" else None

    def bot_may(self, chat: Chat, permission: str) -> bool:
        """Whether the bot is an admin of ``chat`` holding ``permission``."""
        member = self.bot_member(chat)
        return bool(member and member.is_admin and permission in (member.permissions or []))

    def bot_reads_all(self, chat: Chat) -> bool:
        """Whether message/member updates of ``chat`` reach the bot: in group chats and
        channels only as an admin with read_all_messages (schema, MessageCreatedUpdate,
        UserAddedToChatUpdate); dialogs always."""
        return chat.type == "dialog" or self.bot_may(chat, "read_all_messages")

    def dialog_with(self, user_id: int, create: bool = False) -> Chat | None:
        for chat in self.chats.values():
            if chat.type == "dialog" and chat.dialog_user_id == user_id:
                return chat
        if not create:
            return None
        chat_id = self.rng.randrange(10**8, 10**9)
        now = self.now_ms()
        chat = Chat(
            chat_id=chat_id, type="dialog", title=None, dialog_user_id=user_id, last_event_time=now
        )
        chat.members[user_id] = Member(user_id, now)
        chat.members[self.bot["user_id"]] = Member(self.bot["user_id"], now)
        self.chats[chat_id] = chat
        return chat

    def participants_count(self, chat: Chat) -> int:
        if chat.type == "dialog":
            return 2
        return len(chat.members) + chat.extra_members

    def chat_json(self, chat: Chat, single: bool = False) -> dict[str, Any]:
        """A Chat object; ``single``: as GET /chats/{chatId} gives it (with pinned_message)."""
        admin = self.bot_may(chat, "read_all_messages") or (
            (m := self.bot_member(chat)) is not None and m.is_admin
        )
        out: dict[str, Any] = {
            "chat_id": chat.chat_id,
            "type": chat.type,
            "status": chat.status,
            "title": chat.title,
            "icon": None,
            "last_event_time": chat.last_event_time,
            "participants_count": self.participants_count(chat),
            "is_public": chat.is_public if chat.type != "dialog" else False,
            "link": chat.link,
            "description": chat.description,
        }
        if chat.type != "dialog":
            out["owner_id"] = chat.owner_id if admin else None
            out["messages_count"] = len(chat.messages)
        else:
            out["dialog_with_user"] = self.user_json(chat.dialog_user_id or 0)
        if single:
            out["pinned_message"] = None
        return out

    def member_json(self, chat: Chat, member: Member) -> dict[str, Any]:
        out = self.user_json(member.user_id)
        if member.user_id == self.bot["user_id"]:
            out["description"] = self.bot_description
        out.update(
            {
                "last_access_time": member.join_time,
                "is_owner": member.is_owner,
                "is_admin": member.is_admin,
                "join_time": member.join_time,
                "permissions": list(member.permissions)
                if member.is_admin and member.permissions
                else None,
            }
        )
        return out

    # -- messages -----------------------------------------------------------------------

    def add_message(
        self, chat: Chat, sender_id: int | None, text: str | None, **extra: Any
    ) -> Message:
        message = Message(
            mid=self._mid(),
            seq=self._next_seq(),
            chat_id=chat.chat_id,
            sender_id=sender_id,
            timestamp=self.now_ms(),
            text=text,
            **extra,
        )
        chat.messages[message.mid] = message
        chat.last_event_time = message.timestamp
        return message

    def find_message(self, mid: str) -> tuple[Chat, Message]:
        for chat in self.chats.values():
            if mid in chat.messages:
                return chat, chat.messages[mid]
        raise not_found(f"Message {mid} not found")

    def recipient(self, chat: Chat) -> dict[str, Any]:
        out: dict[str, Any] = {"chat_id": chat.chat_id, "chat_type": chat.type}
        if chat.type == "dialog":
            out["user_id"] = chat.dialog_user_id
        return out

    def message_json(self, chat: Chat, message: Message, stat: bool = False) -> dict[str, Any]:
        """A Message object; ``stat``: with views, as GET /messages gives channel posts."""
        body: dict[str, Any] = {"mid": message.mid, "seq": message.seq, "text": message.text}
        if message.attachments:
            body["attachments"] = [dict(a) for a in message.attachments]
        if message.markup:
            body["markup"] = [dict(m) for m in message.markup]
        out: dict[str, Any] = {
            "recipient": self.recipient(chat),
            "timestamp": message.timestamp,
            "body": body,
        }
        if message.sender_id is not None:
            out["sender"] = self.user_json(message.sender_id)
        if message.link:
            out["link"] = message.link
        if stat and chat.type == "channel":
            out["stat"] = {"views": message.views}
        if chat.is_public and chat.type != "dialog":
            out["url"] = f"{chat.link}/{message.mid}"
        return out

    def comment_json(self, chat: Chat, comment: Message) -> dict[str, Any]:
        body: dict[str, Any] = {"mid": comment.mid, "seq": comment.seq, "text": comment.text}
        if comment.markup:
            body["markup"] = [dict(m) for m in comment.markup]
        out: dict[str, Any] = {
            "recipient": {
                "chat_id": chat.chat_id,
                "chat_type": "channel",
                "post_id": comment.post_mid,
            },
            "timestamp": comment.timestamp,
            "body": body,
        }
        if comment.sender_id is not None:
            out["sender"] = self.user_json(comment.sender_id)
        return out

    # -- uploads ------------------------------------------------------------------------

    def store(self, upload: Upload, data: bytes, filename: str) -> Stored:
        token = upload.token or self.random_token()
        stored = Stored(
            kind=upload.kind,
            token=token,
            ready_at=self.clock() + (self.upload_delay if upload.kind != "image" else 0.0),
            photo_id=self.rng.randrange(10**9, 10**10) if upload.kind == "image" else None,
            url=f"https://i.stand-in.max.invalid/{upload.kind}/{token[:16]}",
            filename=filename or "file",
            size=len(data),
        )
        self.stored[token] = stored
        return stored

    # -- updates ------------------------------------------------------------------------

    def emit(self, update_type: str, **fields: Any) -> dict[str, Any]:
        """Record an update (its timestamp now) and hand it to on_update (poll queue or
        webhooks, the stand-in decides)."""
        update = {"update_type": update_type, "timestamp": self.now_ms(), **fields}
        if self.on_update is not None:
            self.on_update(update)
        else:
            self.enqueue(update)
        return update

    def enqueue(self, update: dict[str, Any]) -> None:
        self.queue.append((self.next_marker, update))
        self.next_marker += 1

    def take_updates(
        self, marker: int | None, limit: int, types: set[str] | None
    ) -> tuple[list[dict[str, Any]], int]:
        """GET /updates as the schema says: passing ``marker`` commits every update before
        it; without one, the bot gets what followed the last commitment. The answer's marker
        points at the next upcoming update. Updates of types not asked for are passed over."""
        if marker is not None:
            self.committed = max(self.committed, min(marker, self.next_marker))
            self.queue = [(n, u) for n, u in self.queue if n >= self.committed]
        start = self.committed
        taken: list[dict[str, Any]] = []
        position = start
        for number, update in self.queue:
            if number < start:
                continue
            if len(taken) >= limit:
                break
            position = number + 1
            if types is None or update["update_type"] in types:
                taken.append(update)
        if not taken and not any(n >= start for n, _ in self.queue):
            position = self.next_marker
        return taken, position

    def has_updates(self, types: set[str] | None) -> bool:
        return any(
            n >= self.committed and (types is None or u["update_type"] in types)
            for n, u in self.queue
        )

    # -- checks shared by methods ---------------------------------------------------------

    def writable(self, chat: Chat) -> None:
        """Raise MAX's 403 unless the bot may post in ``chat``."""
        member = self.bot_member(chat)
        if member is None:
            raise denied(f"Bot is not a member of chat {chat.chat_id}")
        if chat.type == "channel" and not self.bot_may(chat, "write"):
            raise denied(f"Bot may not post to channel {chat.chat_id}")
        if chat.type == "dialog" and chat.status != "active":
            raise denied("User suspended the bot")

    def check_text(self, text: Any, limit: int) -> None:
        if text is not None and not isinstance(text, str):
            raise bad_request("text must be a string")
        if isinstance(text, str) and len(text) > limit:
            raise bad_request(f"text: size must be between 0 and {limit}")

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready dump for tests."""
        return {
            "now": self.clock(),
            "token": self.token,
            "bot": dict(self.bot),
            "users": [dict(u) for u in self.users.values()],
            "chats": [
                {
                    **self.chat_json(chat),
                    "members": [self.member_json(chat, m) for m in chat.members.values()],
                    "extra_members": chat.extra_members,
                    "messages": [
                        {
                            **self.message_json(chat, m, stat=True),
                            "views": m.views,
                            "notify": m.notify,
                            "disable_link_preview": m.disable_link_preview,
                            "format": m.format,
                            "edited_at": m.edited_at,
                            "comments": [self.comment_json(chat, c) for c in m.comments.values()],
                        }
                        for m in chat.messages.values()
                    ],
                }
                for chat in self.chats.values()
            ],
            "callbacks": [dict(c, callback_id=k) for k, c in self.callbacks.items()],
            "subscriptions": [dict(s) for s in self.subscriptions],
            "allow_insecure_webhooks": self.allow_insecure_webhooks,
            "queued_updates": [u for n, u in self.queue if n >= self.committed],
            "marker": self.committed,
            "uploads": [
                {"token": s.token, "type": s.kind, "size": s.size, "filename": s.filename}
                for s in self.stored.values()
            ],
        }
