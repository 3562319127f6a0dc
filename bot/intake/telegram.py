"""Telegram update intake: what readers do in the libraries' chats, into ``interactions``.

One ``TelegramIntake`` per bot token (libraries may share one) long-polls ``getUpdates``;
the next offset is stored after each batch, and an update seen again after a crash counts
once through its ``dedup`` key. The bot must be an administrator of each channel and
discussion group: Telegram sends reactions and ``chat_member`` only to administrators.

Recorded: a channel post's anonymous reaction totals (``reaction_totals``); "reaction"
(a reader's, in a group); "reply" (a comment on a channel post in its discussion group,
stored on the channel post so it links to the publication); "message" (any other reader
message in a library's group, or a private one to the bot when the library is known:
``/start <library id>`` or a token serving one library; an edit counts once with the
original); "vote" (``poll_answer``); "join" / "leave" (``chat_member``). Callback queries
(quizzes), channel posts and service messages are not recorded here; poll totals go to
``poll_totals``.
Reader ids and names are never stored, not even in ``dedup``: a pseudonym stands in.
When a quiz (``AnswerBook``) is attached, button presses, votes and typed answers go to it
first; what is not an answer to an open question is recorded as above.

An update that does not parse is skipped (and logged): the batch is read again raw and
parsed one by one, so the offset still moves past it. A server that answers getUpdates
at once instead of holding the long poll is asked again only after ``EMPTY_PAUSE``. A
token the server rejects ends the polling: a wrong token stays wrong until someone fixes
it, so the libraries' admins are told once (``alerts``) and the intake stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlite_utils
import telegram as tg
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.admin.model import Inbound, SentFile
from bot.alerts import Alerts
from bot.contest.entries import ContestBook
from bot.giveaway.engine import GiveawayEngine
from bot.intake.waits import pause, until
from bot.platforms.telegram import refusal
from bot.quiz import buttons
from bot.quiz.answers import AnswerBook, in_batch
from core import interactions
from core.clock import Clock, SystemClock
from core.config import LibraryConfig
from core.storage import to_db

NETWORK = "telegram"
ALLOWED_UPDATES = [
    *("message", "edited_message", "channel_post", "message_reaction", "message_reaction_count"),
    *("poll", "poll_answer", "chat_member", "callback_query"),
]
RETRY_MAX = 60.0  # seconds: the longest pause between attempts after network errors
EMPTY_PAUSE = 1.0  # seconds between empty answers from a server that does not hold the poll
if TYPE_CHECKING:
    from bot.admin.desk import AdminDesk

_PRESENT = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)

_log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token


class TelegramIntake:
    """Reads one bot's updates and records what readers of its libraries did.

    The bot must administer the libraries' chats to get reactions and member changes;
    ``ALLOWED_UPDATES`` asks for them (Telegram's default leaves them out). ``notify``
    (library id, text) tells a library's admins, in ``language``, that the token was refused.
    """

    network = NETWORK

    def __init__(
        self,
        db: sqlite_utils.Database,
        bot: ExtBot,
        libraries: list[LibraryConfig],
        clock: Clock | None = None,
        poll_timeout: float = 25.0,
        quiz: AnswerBook | None = None,
        *,
        notify: Callable[[str, str], Awaitable[None]] | None = None,
        language: str = "ru",
        giveaway: GiveawayEngine | None = None,
        contest: ContestBook | None = None,
        alerts: Alerts | None = None,
        admin: AdminDesk | None = None,
        reader: ExtBot | None = None,
    ) -> None:
        self.db = db
        # Chats are looked up through ``reader`` (the same token without the messages'
        # rate limiter): 1,000 lookups at start-up would otherwise hold the limiter for
        # half a minute and delay every post due meanwhile.
        self.reader = reader or bot
        self.quiz = quiz  # takes answers to open quiz questions before anything else
        self.giveaway = giveaway  # keeps comments on giveaway posts as entries
        self.contest = contest  # contest entries, and the admins' moderation buttons
        self.bot = bot
        self.libraries = [lib for lib in libraries if lib.telegram is not None]
        self.clock = clock or SystemClock()
        self.poll_timeout = poll_timeout
        self.retry_delay = 1.0  # first pause after an error; doubles up to RETRY_MAX
        self.pause: Callable[[asyncio.Event, float], Awaitable[None]] = pause  # tests record it
        self.notify = notify
        self.language = language
        self.alerts = alerts  # told when the token is refused
        self.admin = admin  # the admin chat: admins' private messages and presses go there
        self._admin_inbox: list[Inbound] = []  # handed over once their batch is stored
        self._library_of: dict[int, str] = {}  # chat id -> library id
        # Only in memory (lost on restart): a comment nested in a thread and a vote are
        # linked to their post through these; without them they still count, less precisely.
        self._copies: dict[tuple[int, int], tuple[int, int]] = {}  # group copy -> channel post
        self._comments: dict[tuple[int, int], tuple[int, int]] = {}  # comment -> channel post
        self._polls: dict[str, tuple[str, int, int]] = {}  # poll id -> library, chat, message
        self._library_ids = {lib.id for lib in self.libraries}
        self._secrets: dict[str, bytes] = {}
        self._source: str | None = None
        self._refs: dict[int, str] = {}  # chat id -> the chat as the config names it
        # Button presses to answer, per reader: (query id, text).
        self._presses: dict[int, list[tuple[str, str]]] = {}

    # -- lifecycle ----------------------------------------------------------------

    def library_of(self, chat_id: int) -> str | None:
        """The library whose chat (or linked discussion group) this is."""
        return self._library_of.get(chat_id)

    def chat_ref(self, chat_id: int) -> str:
        """The chat as the config names it (its id when the config does not)."""
        return self._refs.get(chat_id, str(chat_id))

    async def start(self) -> None:
        """Learn the bot's id and which chats (and linked discussion groups) are whose."""
        await self.bot.initialize()
        for library in self.libraries:
            tg_config = library.telegram
            refs = [*tg_config.chats, *([tg_config.quiz_chat] if tg_config.quiz_chat else [])]  # type: ignore[union-attr]
            for ref in refs:
                await self._resolve(library.id, ref)
        self._source = f"telegram:{self.bot.id}"
        if self.admin is not None:
            await self.admin.telegram_menu(self.bot, self.libraries)

    async def _resolve(self, library_id: str, ref: str) -> None:
        try:
            chat = await self.reader.get_chat(ref)
        except (BadRequest, Forbidden) as exc:
            _log.warning("Telegram chat %s of library %s: %s", ref, library_id, exc.message)
            if ref.lstrip("-").isdigit():
                self._claim(int(ref), library_id)
            return
        self._claim(chat.id, library_id)
        self._refs[chat.id] = str(ref)
        if chat.linked_chat_id:
            self._claim(chat.linked_chat_id, library_id)

    def _claim(self, chat_id: int, library_id: str) -> None:
        owner = self._library_of.setdefault(chat_id, library_id)
        if owner != library_id:
            _log.warning("Telegram chat %s is in libraries %s and %s", chat_id, owner, library_id)

    def remember_poll(self, message: tg.Message) -> None:
        """Note a poll the bot sent, so its votes point at that message."""
        library_id = self._library_of.get(message.chat.id)
        if message.poll is not None and library_id is not None:
            self._polls[message.poll.id] = (library_id, message.chat.id, message.message_id)

    async def poll_once(self) -> int:
        """One getUpdates call from the stored offset; returns how many updates were handled."""
        if self._source is None:
            await self.start()
        source = str(self._source)
        offset = interactions.get_offset(self.db, source)
        try:
            updates = await self.bot.get_updates(
                offset=offset, timeout=int(self.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        except TelegramError:
            raise
        except Exception:  # python-telegram-bot could not parse one (it logs the batch)
            _log.debug("Telegram updates did not parse; reading them one by one", exc_info=True)
            updates = await self._one_by_one(offset)
        self._admin_inbox = []  # a batch read again brings its admin messages again
        # One transaction per batch: a quiz with thousands of players is thousands of rows.
        # If it fails, the quiz forgets what the batch marked: the batch comes again.
        with in_batch(self.quiz, (NETWORK, source)), self.db.atomic():
            for update in updates:
                if self.quiz is not None:
                    self.quiz.arriving(update.update_id)  # judged by when it first came
                try:
                    self.handle(update)
                except sqlite3.Error:
                    raise  # the database, not the update: the batch comes again later
                except Exception:
                    _log.debug("Telegram update %s ignored", update.update_id, exc_info=True)
            if self.quiz is not None:
                self.quiz.flush()
            if updates:
                interactions.set_offset(
                    self.db, source, updates[-1].update_id + 1, self.clock.now()
                )
        await self._answer_presses()
        self._serve_admins()
        return len(updates)

    async def _one_by_one(self, offset: int | None) -> list[tg.Update]:
        """The pending updates parsed singly; one that does not parse keeps only its id."""
        # The method's own name: not every server takes "getupdates" for it. PTB would
        # rather we called its typed get_updates; the raw answer is the point here.
        warnings.filterwarnings("ignore", r"Please use 'Bot\.getUpdates'", PTBUserWarning)
        raw = await self.bot.do_api_request(
            "getUpdates",
            api_kwargs={"offset": offset, "timeout": 0, "allowed_updates": ALLOWED_UPDATES},
        )
        updates = []
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int):
                _log.warning("Telegram update without an id skipped")
                continue
            try:
                updates.append(tg.Update.de_json(item, self.bot))
            except Exception as exc:
                # Only the error, not the update: it may name a reader.
                why = f"{type(exc).__name__}: {exc}"[:200]
                _log.warning("Telegram update %s did not parse (%s); skipped", update_id, why)
                updates.append(tg.Update(update_id=update_id))  # the offset moves past it
        return updates

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; errors are logged and retried, never raised.

        A rejected token ends the polling (admins told once, see ``_rejected``).
        """
        delay = self.retry_delay
        while not stop.is_set():
            started = time.monotonic()
            try:
                handled = await until(stop, self.poll_once())
            except InvalidToken as exc:  # a wrong token stays wrong: asking again is no use
                await self._rejected(exc)
                return
            except RetryAfter as exc:
                after = exc.retry_after  # an int or a timedelta, by PTB_TIMEDELTA
                wait = after.total_seconds() if isinstance(after, timedelta) else float(after)
                _log.warning("Telegram updates: flood control, waiting %.0f s", wait)
            except (TelegramError, sqlite3.Error) as exc:
                wait, delay = delay, min(delay * 2, RETRY_MAX)
                _log.warning("Telegram updates: %s; retrying in %.1f s", exc, wait)
            except Exception:
                wait, delay = delay, min(delay * 2, RETRY_MAX)
                _log.exception("Telegram updates: unexpected error; retrying in %.1f s", wait)
            else:
                delay = self.retry_delay
                if handled is None:
                    continue  # stopped
                wait = empty_pause(handled, time.monotonic() - started, self.poll_timeout)
                if not wait:
                    continue
            await self.pause(stop, wait)

    async def _rejected(self, exc: InvalidToken) -> None:
        """Log the refusal once and tell each library's admins (not through this bot)."""
        reason = refusal(exc)  # the server's word, never the token
        variables = sorted({lib.telegram.token_env for lib in self.libraries if lib.telegram})
        variable = ", ".join(variables)
        _log.error(
            "Telegram: the bot token was rejected (%s); updates of %s are no longer read: "
            "put the right token in %s and restart",
            reason,
            ", ".join(lib.id for lib in self.libraries),
            variable,
        )
        if self.alerts is None:
            return
        for library in self.libraries:
            await self.alerts.token_refused(library.id, NETWORK, library.telegram.token_env)  # type: ignore[union-attr]

    # -- one update -----------------------------------------------------------------

    def handle(self, update: tg.Update) -> bool:
        """Record what one update tells; False when nothing new was stored."""
        if update.message_reaction_count is not None:
            return self._totals(update.message_reaction_count)
        if update.message_reaction is not None:
            return self._reaction(update.message_reaction)
        message = update.message or update.edited_message
        if message is not None:
            return self._message(message)
        if update.poll_answer is not None:
            return self._vote(update.poll_answer)
        if update.chat_member is not None:
            return self._membership(update.chat_member)
        if update.poll is not None:
            return self._poll_totals(update.poll)
        if update.callback_query is not None:
            query = update.callback_query
            if self.contest is not None and self.contest.takes_press(query):
                words = self.contest.telegram_press(self, query)
                self._presses.setdefault(query.from_user.id, []).append((query.id, words))
                return True  # answered after the batch
            if self._admin_press(update.callback_query):
                return False
            return self._press(update.callback_query)
        return False  # channel posts: not counted here

    def _poll_totals(self, poll: tg.Poll) -> bool:
        """Votes per option of a poll the bot sent (anonymous in channels: totals only)."""
        totals = {str(n): option.voter_count for n, option in enumerate(poll.options)}
        interactions.record_poll_totals(self.db, poll.id, totals, self.clock.now())
        return True

    def _totals(self, counts: tg.MessageReactionCountUpdated) -> bool:
        if counts.chat.id not in self._library_of:
            return False
        totals = {_reaction_key(r.type): r.total_count for r in counts.reactions}
        chat, message = str(counts.chat.id), str(counts.message_id)
        seen = self.db.execute(
            "select totals from reaction_totals where chat_id = ? and message_id = ? "
            "and observed_at = ?",
            [chat, message, to_db(counts.date)],
        ).fetchall()
        if any(json.loads(row[0]) == totals for row in seen):
            return False  # the same update again
        interactions.record_reaction_totals(self.db, chat, message, totals, counts.date)
        return True

    def _reaction(self, change: tg.MessageReactionUpdated) -> bool:
        library_id = self._library_of.get(change.chat.id)
        if library_id is None or change.user is None or change.user.is_bot:
            return False  # anonymous admins react as the chat: not a reader
        new = [_reaction_key(r) for r in change.new_reaction]
        old = [_reaction_key(r) for r in change.old_reaction]
        person = self._person(library_id, change.user.id)
        stamp = int(change.date.timestamp())
        dedup = f"tg:reaction:{change.chat.id}:{change.message_id}:{person}:{stamp}:{'|'.join(new)}"
        target, remote_id = self._copy_of(change.chat.id, change.message_id) or (
            change.chat.id,
            change.message_id,
        )
        detail = {"new": new, "old": old}
        return self._record(
            library_id, target, remote_id, "reaction", change.user.id, change.date, dedup, detail
        )

    def _message(self, message: tg.Message) -> bool:
        chat, user = message.chat, message.from_user
        if message.is_automatic_forward:
            self._remember_copy(message)
            return False
        if user is None or user.is_bot or message.sender_chat is not None:
            return False  # the library itself, an anonymous admin or a bot
        if not (message.text or message.caption or message.effective_attachment):
            return False  # service messages: joins and leaves come as chat_member
        if chat.type == ChatType.PRIVATE and self._admin_message(message):
            return False  # the admin chat's, not a reader's act
        if chat.type == ChatType.PRIVATE:
            if self.contest is not None:  # an entry to a contest of this bot's libraries
                self.contest.telegram_message(self, message, None)
            library_id = self._private_library(message)
            if library_id is None:
                return False
            person = self._person(library_id, user.id)
            dedup = f"tg:message:private:{person}:{message.message_id}"
            # The private chat's id is the reader's id: not stored, "private" instead.
            return self._record(
                library_id, "private", message.message_id, "message", user.id, message.date, dedup
            )
        library_id = self._library_of.get(chat.id)
        if library_id is None:
            return False
        dedup = f"tg:message:{chat.id}:{message.message_id}"
        post = self._commented_post(message)
        verdict = self._quiz_text(message, post)
        if verdict is not None:
            return verdict.counted
        if post is not None:
            self._comments[(chat.id, message.message_id)] = post
            if self.giveaway is not None:  # a comment on a giveaway post is an entry
                text = message.text or message.caption or ""
                self.giveaway.on_comment(
                    NETWORK, library_id, *post, user.id, user.full_name, text, message.date,
                    chat.id, message.message_id,
                )  # fmt: skip
            if self.contest is not None:  # a comment on a contest's call post is an entry
                self.contest.telegram_message(self, message, post)
            return self._record(library_id, *post, "reply", user.id, message.date, dedup)
        return self._record(
            library_id, chat.id, message.message_id, "message", user.id, message.date, dedup
        )

    def _remember_copy(self, message: tg.Message) -> None:
        origin = message.forward_origin
        if message.chat.id in self._library_of and isinstance(origin, tg.MessageOriginChannel):
            copy, post = (message.chat.id, message.message_id), (origin.chat.id, origin.message_id)
            self._copies[copy] = post
            # Kept, so the thread's comments still find their post after a restart.
            self.db.execute(
                "insert or replace into telegram_copies values (?, ?, ?, ?)", [*copy, *post]
            )

    def _commented_post(self, message: tg.Message) -> tuple[int, int] | None:
        """The channel post a discussion-group message comments on, if any."""
        original = message.reply_to_message
        if original is not None and original.is_automatic_forward:
            origin = original.forward_origin
            if isinstance(origin, tg.MessageOriginChannel):
                return origin.chat.id, origin.message_id
        # A reply to another comment stays in the post's thread.
        if original is not None and (message.chat.id, original.message_id) in self._comments:
            return self._comments[(message.chat.id, original.message_id)]
        thread = message.message_thread_id
        return None if thread is None else self._copy_of(message.chat.id, thread)

    def _copy_of(self, chat_id: int, message_id: int) -> tuple[int, int] | None:
        """The channel post a group message is the automatic copy of, if it is one."""
        post = self._copies.get((chat_id, message_id))
        if post is None:
            row = self.db.execute(
                "select post_chat, post_id from telegram_copies where chat_id = ? and "
                "message_id = ?",
                [chat_id, message_id],
            ).fetchone()
            if row is not None:
                post = self._copies[(chat_id, message_id)] = (row[0], row[1])
        return post

    def _private_library(self, message: tg.Message) -> str | None:
        words = (message.text or "").split()  # "/start <id>": a t.me/<bot>?start=<id> link
        if len(words) == 2 and words[0] == "/start" and words[1] in self._library_ids:
            return words[1]
        return self.libraries[0].id if len(self.libraries) == 1 else None

    def _vote(self, answer: tg.PollAnswer) -> bool:
        if answer.user is None:
            return False  # voted as a chat
        if self.quiz is not None:
            verdict = self.quiz.on_poll_answer(
                NETWORK,
                answer.poll_id,
                answer.user.id,
                answer.user.full_name,
                list(answer.option_ids),
            )
            if verdict is not None:
                return verdict.counted
        known = self._polls.get(answer.poll_id)
        if known is not None:
            library_id, target, remote_id = known
        elif len(self.libraries) == 1:
            library_id, target, remote_id = self.libraries[0].id, "poll", answer.poll_id
        else:
            return False  # a poll of an unknown library
        options = list(answer.option_ids)
        person = self._person(library_id, answer.user.id)
        dedup = f"tg:vote:{answer.poll_id}:{person}:{','.join(map(str, options))}"
        detail = {"poll_id": answer.poll_id, "option_ids": options}
        return self._record(
            library_id, target, remote_id, "vote", answer.user.id, self.clock.now(), dedup, detail
        )

    def _membership(self, change: tg.ChatMemberUpdated) -> bool:
        library_id = self._library_of.get(change.chat.id)
        user = change.new_chat_member.user
        if library_id is None or user.is_bot:
            return False
        was, now = _present(change.old_chat_member), _present(change.new_chat_member)
        if was == now:
            return False  # promoted, restricted...: neither joined nor left
        kind = "join" if now else "leave"
        person = self._person(library_id, user.id)
        dedup = f"tg:{kind}:{change.chat.id}:{person}:{int(change.date.timestamp())}"
        detail = {"status": change.new_chat_member.status}
        return self._record(
            library_id, change.chat.id, "", kind, user.id, change.date, dedup, detail
        )

    # -- the admin chat -------------------------------------------------------------

    def _admin_message(self, message: tg.Message) -> bool:
        """An admin's private text or document: kept for the admin chat (True)."""
        user, document = message.from_user, message.document
        scope = tuple(self._library_ids)  # an admin of another bot's library is none here
        if self.admin is None or user is None or not self.admin.is_admin(NETWORK, user.id, scope):
            return False
        if message.edit_date is not None:
            return True  # an edited command is not a new one: dropped (as on MAX)
        if document is None and not message.text:
            return False  # a photo or a video: what the other paths make of it
        sent = None
        if document is not None:
            sent = SentFile(document.file_name or "", document.file_id, document.file_size)
        text = message.text or message.caption or ""
        self._admin_inbox.append(Inbound(NETWORK, user.id, text, sent, libraries=scope))
        return True

    def _admin_press(self, query: tg.CallbackQuery) -> bool:
        """An admin's press on an admin-chat button: kept for the admin chat (True)."""
        if self.admin is None or not self.admin.is_press(query.data):
            return False
        scope, user = tuple(self._library_ids), query.from_user.id
        if self.admin.is_admin(NETWORK, user, scope):
            press = Inbound(NETWORK, user, press=query.data, press_id=query.id, libraries=scope)
            self._admin_inbox.append(press)
        return True  # anyone else's press on such a button: nothing

    def _serve_admins(self) -> None:
        """Hand the stored batch's admin messages to the admin chat."""
        inbox, self._admin_inbox = self._admin_inbox, []
        if inbox and self.admin is not None:
            chat = self.admin.chat(NETWORK, self.libraries[0].id, self.bot)
            self.admin.serve([(inbound, chat) for inbound in inbox])

    # -- quizzes ------------------------------------------------------------------

    async def _answer_presses(self) -> None:
        """Tell each reader who pressed an answer button what became of it.

        At most ``buttons.REPLIES_PER_READER`` presses of a reader per batch: a press left
        unanswered only leaves that reader's button spinning a few seconds.
        """
        presses, self._presses = self._presses, {}
        for query_id, text in (press for reader in presses.values() for press in reader):
            try:
                await self.bot.answer_callback_query(query_id, text=text)
            except TelegramError as exc:  # the press expired: the answer is stored anyway
                _log.debug("callback %s not answered: %s", query_id, exc)

    def _press(self, query: tg.CallbackQuery) -> bool:
        """An answer button: scored by the quiz, and the reader gets a short reply."""
        message = query.message
        library_id = self._library_of.get(message.chat.id) if message else None
        if self.quiz is None or library_id is None or query.from_user.is_bot:
            return False
        verdict, words = self.quiz.on_button(
            NETWORK, library_id, query.from_user.id, query.from_user.full_name, query.data
        )
        replies = self._presses.setdefault(query.from_user.id, [])
        if len(replies) < buttons.REPLIES_PER_READER:
            replies.append((query.id, words))
        return verdict.counted

    def _quiz_text(self, message: tg.Message, post: tuple[int, int] | None):
        """A typed answer: a comment on a question post, or a message in a quiz chat."""
        if self.quiz is None or message.from_user is None:
            return None
        if post is not None:
            target, reply_to = self._refs.get(post[0], str(post[0])), str(post[1])
        else:
            original = message.reply_to_message
            target = self._refs.get(message.chat.id, str(message.chat.id))
            reply_to = str(original.message_id) if original is not None else None
        text = message.text or message.caption or ""
        return self.quiz.on_text(
            NETWORK,
            target,
            reply_to,
            message.from_user.id,
            message.from_user.full_name,
            text,
            message.date,
            "comment" if post is not None else "message",
            original=message.edit_date is None,
        )

    # -- storage ------------------------------------------------------------------------

    def _person(self, library_id: str, user_id: int) -> str:
        if library_id not in self._secrets:
            self._secrets[library_id] = interactions.library_secret(self.db, library_id)
        return interactions.pseudonym(self._secrets[library_id], NETWORK, user_id)

    def _record(
        self,
        library_id: str,
        target: int | str,
        remote_id: int | str,
        kind: str,
        user_id: int,
        at: datetime,
        dedup: str,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        return interactions.record(
            self.db,
            library_id=library_id,
            network=NETWORK,
            target=str(target),
            remote_id=str(remote_id),
            kind=kind,
            user_id=user_id,
            at=at,
            dedup=dedup,
            detail=detail,
        )


def empty_pause(handled: int, took: float, timeout: float) -> float:
    """Seconds to wait before the next getUpdates: only after an empty answer that came
    back much sooner than the long poll asked (a server that does not hold it)."""
    return EMPTY_PAUSE if handled == 0 and took < timeout / 2 else 0.0


def _reaction_key(reaction: tg.ReactionType) -> str:
    """An emoji as it is, a custom emoji by its id, a paid star reaction as "paid"."""
    if isinstance(reaction, tg.ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, tg.ReactionTypeCustomEmoji):
        return reaction.custom_emoji_id
    return str(reaction.type)


def _present(member: tg.ChatMember) -> bool:
    # A restricted reader is still in the chat while is_member is true.
    return member.status in _PRESENT or getattr(member, "is_member", False) is True
