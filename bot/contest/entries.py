"""Entries from the update intakes, and the admins' Approve / Reject buttons.

The intakes call ``ContestBook`` beside their usual recording (an entry is also a comment
or a message in the participation figures): a comment on a contest's call post, or a
private message to the bot (Telegram) or the community (VK) while a contest of the
library collects entries. Everything happens inside the intake's batch transaction, so a
batch read again counts once (``dedup``); what the contest has to say back is queued as a
notice and sent by ``ContestEngine.deliver``.

Stored per entry: a pseudonymous id (the library's HMAC, as for quiz players), the display
name and where to answer (kept ``keep_names`` after the results), the text and the
platform's file reference (kept ``keep_entries``). The bot never asks for contacts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlite_utils

from bot.alerts import admins_on
from bot.contest import moderation, store
from bot.contest.words import per_person, say
from core import interactions, networks
from core.clock import Clock, SystemClock
from core.config import Config, LibraryConfig
from core.platform import ReplyTo
from core.storage import to_db
from core.texts import human_time
from scheduler.contest_plan import type_words

log = logging.getLogger(__name__)
PRESS_PREFIX = "ct:"


@dataclass(frozen=True)
class Submission:
    """Something a reader sent that may be a contest entry, as any network gives it."""

    network: str
    libraries: tuple[str, ...]  # whose contests it may be for
    user_id: int
    name: str
    type: str | None  # "photo", "video", "text"; None: something else (a sticker, a file)
    text: str
    media: str  # the platform's reference of the file ("" for text)
    at: datetime
    via: str  # "comment" or "message"
    dedup: str  # the act's own key (no reader id in it)
    reply: ReplyTo = field(default_factory=ReplyTo)  # where to answer
    post: tuple[str, str] | None = None  # a comment's post: (target, post id)


class TelegramChats(Protocol):
    """What a Telegram update intake tells of the chats it reads."""

    network: str

    @property
    def libraries(self) -> Sequence[LibraryConfig]: ...

    def library_of(self, chat_id: int) -> str | None:
        """The library whose chat (or linked discussion group) this is."""
        ...

    def chat_ref(self, chat_id: int) -> str:
        """The chat as the config names it (its id when the config does not)."""
        ...


class VkCommunity(Protocol):
    """What a VK update intake tells of its community and readers."""

    network: str
    library_id: str
    group_id: int

    def mention(self, user_id: int) -> str:
        """A reader as a mention, by name where known."""
        ...


class ContestBook:
    """Takes entries and moderation presses; owned by ``ContestEngine``."""

    def __init__(self, db: sqlite_utils.Database, config: Config, clock: Clock | None = None):
        self.db, self.config = db, config
        self.clock = clock or SystemClock()
        self.language = config.language
        self._secrets: dict[str, bytes] = {}

    # -- what the intakes hand over --------------------------------------------------

    def telegram_message(
        self, intake: TelegramChats, message: Any, post: tuple[int, int] | None
    ) -> bool:
        """A private message to the bot, or a comment on a channel post (``post``)."""
        user = message.from_user
        if user is None or user.is_bot or (message.text or "").startswith("/"):
            return False  # a bot, or a command such as /start
        if post is not None:
            library = intake.library_of(message.chat.id)
            libraries = (library,) if library else ()
            target = intake.chat_ref(post[0])
            on_post: tuple[str, str] | None = (target, str(post[1]))
            dedup = f"tg:{message.chat.id}:{message.message_id}"
            via = "comment"
        else:
            libraries = tuple(lib.id for lib in intake.libraries)
            on_post, via = None, "message"
            dedup = f"tg:private:{message.message_id}:{{person}}"
        kind, media = _telegram_media(message)
        return self.take(
            Submission(
                network=intake.network,
                libraries=libraries,
                user_id=user.id,
                name=user.full_name,
                type=kind,
                text=message.caption or message.text or "",
                media=media,
                at=message.date,
                via=via,
                dedup=dedup,
                reply=ReplyTo(chat=message.chat.id, message=message.message_id),
                post=on_post,
            )
        )

    def vk_comment(self, intake: VkCommunity, obj: dict) -> bool:
        """A comment on a post of the community's wall."""
        return self._vk_take(
            intake,
            obj,
            via="comment",
            dedup=f"vk:comment:{int(obj['owner_id'])}:{int(obj['id'])}",
            reply=ReplyTo(post=int(obj["post_id"]), comment=int(obj["id"])),
            post=(str(intake.group_id), str(obj["post_id"])),
        )

    def vk_message(self, intake: VkCommunity, message: dict) -> bool:
        """A private message to the community."""
        return self._vk_take(
            intake,
            message,
            via="message",
            dedup=f"vk:message:{intake.group_id}:{int(message.get('id') or 0)}:{{person}}",
            reply=ReplyTo(chat=int(message["from_id"])),
        )

    def _vk_take(
        self,
        intake: VkCommunity,
        obj: dict,
        *,
        via: str,
        dedup: str,
        reply: ReplyTo,
        post: tuple[str, str] | None = None,
    ) -> bool:
        """A VK comment or message as a submission: its author, media, text and time."""
        author = int(obj["from_id"])
        kind, media = _vk_media(obj)
        return self.take(
            Submission(
                network=intake.network,
                libraries=(intake.library_id,),
                user_id=author,
                name=intake.mention(author),
                type=kind,
                text=str(obj.get("text") or ""),
                media=media,
                at=_vk_time(obj.get("date"), self.clock),
                via=via,
                dedup=dedup,
                reply=reply,
                post=post,
            )
        )

    # -- the rules ----------------------------------------------------------------------

    def take(self, sub: Submission) -> bool:
        """Judge one submission; True when it concerned a contest (taken or answered)."""
        found = self._contest_for(sub)
        if found is None:
            return False
        contest = found
        person = self._person(contest.library_id, sub.network, sub.user_id)
        dedup = sub.dedup.replace("{person}", person)
        if store.noticed(self.db, f"reply:{dedup}"):
            return True  # the same act again (a batch read twice, an edit)
        words = {"title": contest.title, "until": human_time(contest.entries_until, self.language)}
        if sub.type not in contest.types:
            if sub.via == "comment" or sub.at > contest.entries_until:
                return False  # a remark under the call post, or a chat after the contest
            kinds = type_words(self.language, contest.types)
            self._reply(contest, sub, dedup, say(self.language, "types", types=kinds, **words))
            return True
        if sub.at > contest.entries_until:
            self._reply(contest, sub, dedup, say(self.language, "late", **words))
            return True
        mine = self.db.execute(
            "select number from contest_entries where event_id = ? and network = ? "
            "and person = ? and state != ? order by number",
            [contest.event_id, sub.network, person, store.REJECTED],
        ).fetchall()
        if len(mine) >= contest.per_person:
            text = say(
                self.language,
                "again",
                number=mine[-1][0],
                per_person=per_person(self.language, contest.per_person),
            )
            self._reply(contest, sub, dedup, text)
            return True
        number = self._insert(contest, sub, person, dedup)
        self._reply(contest, sub, dedup, say(self.language, "received", number=number))
        self._ask_admins(contest, number)
        return True

    def _contest_for(self, sub: Submission) -> store.Contest | None:
        """The contest a submission is for: the commented call post's, or the library's
        contest that takes entries (else, until its gallery, the one that stopped last, to
        answer a late entry; later private messages are none of the contest's business)."""
        candidates = store.contests(self.db, list(sub.libraries), sub.network)
        if sub.post is not None:
            event_id = store.contest_of_post(self.db, sub.network, *sub.post)
            return next((c for c in candidates if c.event_id == event_id), None)
        live = [
            c
            for c in candidates
            if c.opens_at <= sub.at <= c.gallery_at
            and store.call_published(self.db, c.event_id, sub.network)
        ]
        open_now = [c for c in live if sub.at <= c.entries_until]
        if open_now:
            return open_now[0]
        return max(live, key=lambda c: c.entries_until, default=None)

    def _insert(self, contest: store.Contest, sub: Submission, person: str, dedup: str) -> int:
        (last,) = self.db.execute(
            "select coalesce(max(number), 0) from contest_entries where event_id = ?",
            [contest.event_id],
        ).fetchone()
        self.db["contest_entries"].insert(
            {
                "event_id": contest.event_id,
                "library_id": contest.library_id,
                "network": sub.network,
                "number": last + 1,
                "person": person,
                "name": sub.name,
                "reply": json.dumps(sub.reply.to_json()),
                "via": sub.via,
                "type": sub.type,
                "text": sub.text,
                "media": sub.media,
                "received_at": to_db(sub.at),
                "state": "pending",
                "dedup": dedup,
            }
        )
        return last + 1

    def _reply(self, contest: store.Contest, sub: Submission, dedup: str, text: str) -> None:
        payload = {"reply": sub.reply.to_json(), "text": text}
        store.add_notice(
            self.db,
            contest.library_id,
            sub.network,
            "reply",
            payload,
            f"reply:{dedup}",
            self.clock.now(),
        )

    def _ask_admins(self, contest: store.Contest, number: int) -> None:
        """Each admin gets the entry with Approve / Reject buttons, on every network of the
        library where admins decide with buttons (else by `bibliobot contest` only)."""
        library = self.config.library(contest.library_id)
        if library is None:
            return
        for name in library.networks:
            if not networks.network(name).capabilities.moderation_buttons:
                continue
            for admin in admins_on(library, name):
                store.add_notice(
                    self.db,
                    contest.library_id,
                    name,
                    "moderate",
                    {"admin": admin, "event_id": contest.event_id, "number": number},
                    f"moderate:{contest.event_id}:{number}:{admin}",
                    self.clock.now(),
                )

    def _person(self, library_id: str, network: str, user_id: int) -> str:
        if library_id not in self._secrets:
            self._secrets[library_id] = interactions.library_secret(self.db, library_id)
        return interactions.pseudonym(self._secrets[library_id], network, user_id)

    # -- the admins' buttons ------------------------------------------------------------

    @staticmethod
    def takes_press(query: Any) -> bool:
        """Whether a callback query is a contest moderation button."""
        return str(query.data or "").startswith(PRESS_PREFIX)

    def telegram_press(self, intake: TelegramChats, query: Any) -> str:
        """Approve or reject from the buttons: what to answer the admin (after the batch)."""
        return self.press(intake.network, query.from_user.id, str(query.data))

    def press(self, network: str, user_id: int, data: str) -> str:
        """``ct:a:<entry id>`` / ``ct:r:<entry id>`` pressed by ``user_id`` of ``network``:
        what to tell them."""
        try:
            _, verb, entry_id = data.split(":")
            entry = self.db["contest_entries"].get(int(entry_id))
        except Exception:
            return say(self.language, "unknown")
        library = self.config.library(entry["library_id"])
        admins = admins_on(library, network) if library is not None else ()
        if user_id not in admins or verb not in ("a", "r"):
            return say(self.language, "not_admin")
        try:
            moderation.decide(
                self.db,
                entry["event_id"],
                entry["number"],
                verb == "a",
                f"{network}:{user_id}",
                self.clock.now(),
            )
        except moderation.GalleryOut:
            return say(self.language, "too_late")
        key = "approved" if verb == "a" else "rejected"
        return say(self.language, key, number=entry["number"])


def button_data(entry_id: int, approve: bool) -> str:
    """What an Approve / Reject button carries."""
    return f"{PRESS_PREFIX}{'a' if approve else 'r'}:{entry_id}"


def _telegram_media(message: Any) -> tuple[str | None, str]:
    if message.photo:
        return "photo", message.photo[-1].file_id  # the largest size
    if message.video:
        return "video", message.video.file_id
    if message.text:
        return "text", ""
    return None, ""


def _vk_media(obj: dict) -> tuple[str | None, str]:
    """A VK photo or video attachment as an attachment string (with its access key)."""
    for attachment in obj.get("attachments") or []:
        kind = attachment.get("type")
        item = attachment.get(kind) if kind in ("photo", "video") else None
        if isinstance(item, dict) and "id" in item and "owner_id" in item:
            ref = f"{kind}{item['owner_id']}_{item['id']}"
            if item.get("access_key"):
                ref += f"_{item['access_key']}"
            return kind, ref
    if str(obj.get("text") or "").strip():
        return "text", ""
    return None, ""


def _vk_time(date: Any, clock: Clock) -> datetime:
    return datetime.fromtimestamp(int(date), UTC) if date else clock.now()
