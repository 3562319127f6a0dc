"""MAX update intake: what readers do in the libraries' chats and channels, into ``interactions``.

One ``MaxIntake`` per bot token (libraries may share one), calling MAX through the token's
one client (``max_client.token_client``: one limiter per token, shared with the adapter).
Updates reach it one of MAX's two ways:

- long polling (``updates = "poll"``): ``GET /updates`` with the stored ``marker``; a batch
  is stored in one transaction with the next marker, so after a crash or a restart nothing
  is read twice (an update that comes again counts once through its ``dedup`` key). MAX
  refuses long polling (405) while the bot has a webhook subscription, so at start every
  subscription of the bot is deleted (``GET`` / ``DELETE /subscriptions``; the admins are
  told once): the config says "poll", and a token is one bot, so a subscription can only be
  a leftover of an earlier ``updates = "webhook"`` or a program polling could not work
  beside. One made while the reader runs is not fought: the 405 is logged once, polled
  again slowly.
- webhooks (``updates = "webhook"``): at start the bot subscribes (``POST /subscriptions``
  with the library's ``webhook_url`` and secret); bibliobot's own HTTP server
  (``bot.intake.max_webhook``) hands each delivered update to ``deliver``, and answers 200 only once it
  is stored (MAX delivers again otherwise).

Recorded: "message" (a reader's message in a library's group chat; an edit counts once with
the original), "comment" (under a channel post, linked to the post), "vote" (a press on a
poll button: one vote per person, a later press moves it; the totals are kept as the poll's
totals), "join" / "leave" (``user_added`` / ``user_removed``). ``bot_added`` /
``bot_removed`` are logged; other kinds are skipped, as is an update that does not parse.
When a quiz (``AnswerBook``) is attached, button presses and typed answers go to it first.
Every press gets a short notification (``POST /answers``), sent after its batch is stored.
Reader ids and names are never stored: a pseudonym stands in.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

from bot import logredact
from bot.admin.model import Inbound, SentFile
from bot.alerts import Alerts
from bot.intake.waits import pause
from bot.platforms.max_client import MaxClient
from bot.quiz import buttons as quiz_buttons
from bot.quiz.answers import AnswerBook, in_batch
from core import buttons, interactions, messages
from core.clock import Clock, SystemClock
from core.config import LibraryConfig
from core.errors import AuthFailed, NotFound, PlatformError
from core.storage import SENT

NETWORK = "max"
UPDATE_TYPES = (
    *("message_created", "message_edited", "message_callback", "comment_created"),
    *("user_added", "user_removed", "bot_added", "bot_removed"),
    "bot_started",  # an admin pressed Start in the dialog: the admin chat's help
)
LIMIT = 100  # updates per GET /updates
RETRY_MAX = 60.0  # seconds: the longest pause between attempts after errors
EMPTY_PAUSE = 1.0  # seconds after an empty answer that came at once (no long poll held)
SUBSCRIBED_PAUSE = 60.0  # seconds between polls refused because a webhook is subscribed
if TYPE_CHECKING:
    from bot.admin.desk import AdminDesk

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Press:
    """A button press to answer once its batch is stored."""

    callback_id: str
    text: str


@dataclass(frozen=True)
class TouchedPoll:
    """A button poll that got votes in the batch under way: its totals are counted again."""

    target: str
    remote_id: str
    options: int
    publication_id: int | None


class MaxIntake:
    """Reads one MAX bot's updates and records what readers of its libraries did."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        client: MaxClient,
        libraries: list[LibraryConfig],
        clock: Clock | None = None,
        wait: int = 25,
        quiz: AnswerBook | None = None,
        *,
        language: str = "ru",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        alerts: Alerts | None = None,
        admin: AdminDesk | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.libraries = [lib for lib in libraries if lib.max is not None]
        self.clock = clock or SystemClock()
        self.wait = wait
        self.quiz = quiz  # takes answers to open quiz questions before anything else
        self.language = language
        self.webhook_url = webhook_url  # set: updates come as webhooks, not by polling
        self.webhook_secret = webhook_secret
        logredact.protect(webhook_secret, minimum=logredact.WEBHOOK_SECRET_MIN)
        self.alerts = alerts  # told when MAX refuses the token
        self.admin = admin  # the admin chat: admins' dialogs with the bot go there
        self._admin_inbox: list[Inbound] = []  # handed over once their batch is stored
        self.retry_delay = 1.0  # first pause after an error; doubles up to RETRY_MAX
        self.pause: Callable[[asyncio.Event, float], Awaitable[None]] = pause
        # The stream's name for its stored marker: the token's, never the token itself.
        digest = hashlib.sha256(client.token.encode()).hexdigest()[:16]
        self.source = f"max:{digest}"
        self._library_of: dict[str, str] = {}  # chat id -> library id
        for library in self.libraries:
            settings = library.max
            assert settings is not None
            for chat in (*settings.channels, *([settings.quiz_chat] if settings.quiz_chat else [])):
                owner = self._library_of.setdefault(str(chat), library.id)
                if owner != library.id:
                    _log.warning("MAX chat %s is in libraries %s and %s", chat, owner, library.id)
        self._presses: dict[int, list[Press]] = {}  # per reader, answered after the batch
        self._touched: dict[tuple[str, str], TouchedPoll] = {}
        self._refused_poll = False  # the 405 line is logged once
        self._unsubscribed = False  # the bot's webhook subscriptions were listed and deleted
        self._secrets: dict[str, bytes] = {}

    @property
    def library_ids(self) -> list[str]:
        """The libraries whose updates this reader takes."""
        return [lib.id for lib in self.libraries]

    # -- long polling -------------------------------------------------------------

    async def poll_once(self) -> int:
        """One GET /updates from the stored marker; returns how many updates came."""
        marker = interactions.get_offset(self.db, self.source)
        answer = await self.client.call(
            "GET",
            "/updates",
            params={
                "limit": LIMIT,
                "timeout": int(self.wait),
                "marker": marker,
                "types": list(UPDATE_TYPES),
            },
            sending=False,
            timeout=self.wait + 10.0,
        )
        if not isinstance(answer, dict):
            raise ValueError("GET /updates: the answer is not an object")
        updates = answer.get("updates") or []
        next_marker = answer.get("marker")
        self._store(updates, next_marker if isinstance(next_marker, int) else None)
        self._refused_poll = False
        await self.answer_presses()
        self.serve_admins()
        return len(updates)

    def _store(self, updates: list[Any], marker: int | None) -> None:
        """Record a batch and the marker after it in one transaction (nothing is marked as
        read before what it brought is stored); a database error raises, and the same
        batch comes again."""
        try:
            with in_batch(self.quiz, (NETWORK, self.source)), self.db.atomic():
                for update in updates:
                    self._one(update)
                if self.quiz is not None:
                    self.quiz.flush()
                self._count_votes()
                if marker is not None:
                    interactions.set_offset(self.db, self.source, marker, self.clock.now())
        except BaseException:
            self._presses.clear()  # not stored: the presses are answered when it is
            self._touched.clear()
            self._admin_inbox.clear()  # nor the admins' messages: they come again
            raise

    def _one(self, update: Any) -> None:
        """Hand one update over, skipping (and logging) one that does not parse."""
        if self.quiz is not None:
            self.quiz.arriving(_update_key(update))  # judged by when it first came
        try:
            self.handle(update)
        except sqlite3.Error:
            raise  # the database, not the update: the batch comes again later
        except Exception as exc:
            kind = update.get("update_type") if isinstance(update, dict) else None
            # The exception's type only: its text may quote the update (a reader's name).
            _log.warning("MAX: skipped a malformed %s update (%s)", kind, type(exc).__name__)

    async def run(self, stop: asyncio.Event) -> None:
        """Read updates until ``stop`` is set: subscribe and wait for webhooks, or poll.
        Errors are logged and retried, never raised; a rejected token ends the reading."""
        if self.webhook_url:
            await self._subscribe(stop)
            await stop.wait()
            return
        await self.unsubscribe()
        delay = self.retry_delay
        while not stop.is_set():
            started = time.monotonic()
            polling = asyncio.ensure_future(self.poll_once())
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if not polling.done():  # stopped mid-poll: nothing of it was stored
                polling.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await polling
                return
            try:
                handled = polling.result()
            except AuthFailed as exc:
                _log.error(
                    "MAX: %s; updates of %s are no longer read: put the right token in %s "
                    "and restart",
                    exc,
                    ", ".join(self.library_ids),
                    ", ".join(sorted({lib.max.token_env for lib in self.libraries if lib.max})),
                )
                await self._refused()
                return
            except PlatformError as exc:
                if getattr(exc, "status", None) == 405:
                    if not self._unsubscribed and await self.unsubscribe():
                        continue  # the subscription the start could not delete: gone now
                    if not self._refused_poll:
                        _log.error(
                            "MAX: long polling refused (HTTP 405): the bot has a webhook "
                            "subscription it could not delete, or one made since it started "
                            '(another program with the same token?); set updates = "webhook" '
                            "for %s, or stop that program and restart the bot: it deletes "
                            "the subscriptions at start",
                            ", ".join(self.library_ids),
                        )
                    self._refused_poll = True
                    wait = SUBSCRIBED_PAUSE
                else:
                    wait, delay = delay, min(delay * 2, RETRY_MAX)
                    _log.warning("MAX updates: %s; retrying in %.1f s", exc, wait)
            except (sqlite3.Error, ValueError) as exc:
                wait, delay = delay, min(delay * 2, RETRY_MAX)
                _log.warning("MAX updates: %s; retrying in %.1f s", exc, wait)
            except Exception:
                wait, delay = delay, min(delay * 2, RETRY_MAX)
                _log.exception("MAX updates: unexpected error; retrying in %.1f s", wait)
            else:
                delay = self.retry_delay
                if handled or time.monotonic() - started >= self.wait / 2:
                    continue
                wait = EMPTY_PAUSE  # an empty answer at once: the poll was not held
            await self.pause(stop, wait)

    # -- webhooks -----------------------------------------------------------------

    async def unsubscribe(self) -> bool:
        """Poll mode: delete every webhook subscription of the bot, telling the admins of
        each (once); True when the list was read and emptied. Errors are logged: polling is
        then refused (405) and this is tried again."""
        try:
            answer = await self.client.call("GET", "/subscriptions", sending=False)
        except AuthFailed:
            return False  # the poll that follows says so, once, and alerts the admins
        except PlatformError as exc:
            _log.warning("MAX: the webhook subscriptions could not be listed: %s", exc)
            return False
        listed = answer.get("subscriptions") if isinstance(answer, dict) else None
        if not isinstance(listed, list):
            _log.warning("MAX: GET /subscriptions: an answer without the list")
            return False
        done = True
        for item in listed:
            url = item.get("url") if isinstance(item, dict) else None
            if not isinstance(url, str) or not url:
                continue  # nothing to name it by: it cannot be deleted
            try:
                await self.client.call(
                    "DELETE", "/subscriptions", params={"url": url}, sending=False
                )
            except NotFound:
                continue  # deleted meanwhile (MAX's success false, not.found)
            except PlatformError as exc:
                _log.warning("MAX: the webhook subscription %s was not deleted: %s", url, exc)
                done = False
                continue
            _log.warning(
                'MAX: deleted the webhook subscription %s: %s take updates = "poll", and MAX '
                "refuses polling while a subscription exists",
                url,
                ", ".join(self.library_ids),
            )
            if self.alerts is not None:
                since = item.get("time")
                for library in self.libraries:
                    await self.alerts.webhook_removed(library.id, NETWORK, url, str(since or ""))
        self._unsubscribed = done
        return done

    async def _subscribe(self, stop: asyncio.Event) -> None:
        """POST /subscriptions with the webhook URL and secret (again until MAX takes it)."""
        body: dict[str, Any] = {"url": self.webhook_url, "update_types": list(UPDATE_TYPES)}
        if self.webhook_secret:
            body["secret"] = self.webhook_secret
        delay = self.retry_delay
        while not stop.is_set():
            try:
                await self.client.call("POST", "/subscriptions", body=body, sending=False)
            except AuthFailed as exc:
                _log.error("MAX: %s; no webhook subscription for %s", exc, self.library_ids)
                await self._refused()
                return
            except PlatformError as exc:
                _log.warning("MAX: subscribing %s failed: %s", self.webhook_url, exc)
                await self.pause(stop, delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            _log.info(
                "MAX: updates of %s come to %s", ", ".join(self.library_ids), self.webhook_url
            )
            return

    async def _refused(self) -> None:
        """Tell each library's admins that MAX rejected the token (once: ``bot.alerts``)."""
        if self.alerts is None:
            return
        for library in self.libraries:
            await self.alerts.token_refused(library.id, "max", library.max.token_env)  # type: ignore[union-attr]

    def deliver(self, update: Any) -> bool:
        """One webhook update: stored (True), or the database refused it (False: MAX is
        answered with an error and delivers it again). A malformed update is skipped."""
        try:
            self._store([update], None)
        except sqlite3.Error as exc:
            _log.warning(
                "MAX webhook: the database refused an update (%s); MAX sends it again", exc
            )
            return False
        return True

    # -- one update -----------------------------------------------------------------

    def handle(self, update: dict[str, Any]) -> bool:
        """Record what one update tells; False when nothing new was stored."""
        kind = update.get("update_type")
        if kind in ("message_created", "message_edited"):
            return self._message(update["message"], edited=kind == "message_edited")
        if kind == "comment_created":
            return self._comment(update["message"])
        if kind == "message_callback":
            return self._callback(update)
        if kind in ("user_added", "user_removed"):
            return self._membership(update, "join" if kind == "user_added" else "leave")
        if kind == "bot_started":
            return self._admin_started(update)
        if kind in ("bot_added", "bot_removed"):
            _log.info("MAX: %s in chat %s", kind.replace("_", " "), update.get("chat_id"))
            return False
        return False  # other kinds: nothing a report counts

    def _message(self, message: dict[str, Any], edited: bool) -> bool:
        sender = message.get("sender")
        recipient = message["recipient"]
        if not sender or sender.get("is_bot"):
            return False  # posted as the channel, or by a bot
        if recipient.get("chat_type") == "dialog" and self._admin_message(message, edited):
            return False  # the admin chat's, not a reader's act
        library_id = self._library_of.get(str(recipient.get("chat_id")))
        if library_id is None or recipient.get("chat_type") == "dialog":
            return False
        body = message["body"]
        chat, mid = str(recipient["chat_id"]), str(body["mid"])
        user_id, at = int(sender["user_id"]), _when(message.get("timestamp"), self.clock)
        text = str(body.get("text") or "")
        if self.quiz is not None:
            link = message.get("link") or {}
            reply_to = str(link["mid"]) if link.get("type") == "reply" and link.get("mid") else None
            verdict = self.quiz.on_text(
                NETWORK, chat, reply_to, user_id, _name(sender), text, at, "message",
                original=not edited,
            )  # fmt: skip
            if verdict is not None:
                return verdict.counted
        dedup = f"max:message:{chat}:{mid}"  # an edit is the same message: counted once
        return self._record(library_id, chat, mid, "message", user_id, at, dedup)

    def _comment(self, message: dict[str, Any]) -> bool:
        """A comment under a channel post: stored on the post, so it links to the publication."""
        sender = message.get("sender")
        recipient = message["recipient"]
        if not sender or sender.get("is_bot"):
            return False
        chat, post = str(recipient["chat_id"]), str(recipient["post_id"])
        library_id = self._library_of.get(chat)
        if library_id is None:
            return False
        mid = str(message["body"]["mid"])
        user_id, at = int(sender["user_id"]), _when(message.get("timestamp"), self.clock)
        text = str(message["body"].get("text") or "")
        if self.quiz is not None:
            verdict = self.quiz.on_text(
                NETWORK, chat, post, user_id, _name(sender), text, at, "comment", original=True
            )
            if verdict is not None:
                return verdict.counted
        dedup = f"max:comment:{chat}:{mid}"
        detail = {"comment_id": mid, "length": len(text)}
        return self._record(library_id, chat, post, "comment", user_id, at, dedup, detail)

    def _callback(self, update: dict[str, Any]) -> bool:
        """A button press: a poll vote, or a quiz answer; the reader is answered after."""
        callback = update["callback"]
        user = callback["user"]
        callback_id = str(callback["callback_id"])
        if user.get("is_bot"):
            return False
        if self._admin_press(callback, user):
            return False
        message = update.get("message") or {}
        chat = str((message.get("recipient") or {}).get("chat_id") or "")
        library_id = self._library_of.get(chat)
        if library_id is None and not message and len(self.libraries) == 1:
            library_id = self.libraries[0].id  # the message was deleted since
        if library_id is None:
            return False
        data = callback.get("payload")
        user_id = int(user["user_id"])
        if buttons.is_vote(data):
            counted, words = self._vote(library_id, chat, message, callback, user_id)
        elif self.quiz is not None:
            verdict, words = self.quiz.on_button(NETWORK, library_id, user_id, _name(user), data)
            counted = verdict.counted
        else:
            return False
        replies = self._presses.setdefault(user_id, [])
        if len(replies) < quiz_buttons.REPLIES_PER_READER:
            replies.append(Press(callback_id, words))
        return counted

    def _vote(
        self,
        library_id: str,
        chat: str,
        message: dict[str, Any],
        callback: dict[str, Any],
        user_id: int,
    ) -> tuple[bool, str]:
        """A press on a poll button: the person's vote (a later press moves it)."""

        def words(code: str) -> str:  # the reply to a vote, in the library's language
            return messages.text_in(self.language, f"quiz.vote_{code}")

        secret = self._secret(library_id)
        read = buttons.read_vote(secret, callback.get("payload"))
        mid = str((message.get("body") or {}).get("mid") or "")
        if read is None or not mid:
            return False, words("forged")
        action_id, option, options = read
        publication = interactions.find_publication(self.db, NETWORK, chat, mid)
        if publication is not None:
            if publication["action_id"] != action_id:
                return False, words("forged")  # a button of another poll
            if self._closed(publication):
                return False, words("closed")
        person = interactions.pseudonym(secret, NETWORK, user_id)
        before = self._current_vote(chat, mid, person, publication)
        at = _when(callback.get("timestamp"), self.clock)
        dedup = f"max:vote:{callback['callback_id']}"
        detail = {"poll_id": mid, "option_ids": [option]}
        stored = self._record(library_id, chat, mid, "vote", user_id, at, dedup, detail)
        if not stored:
            return False, words("same")  # the same press again
        self._touched[(chat, mid)] = TouchedPoll(
            chat, mid, options, publication["id"] if publication else None
        )
        if before == option:
            return True, words("same")
        return True, words("counted" if before is None else "moved")

    def _current_vote(
        self, chat: str, mid: str, person: str, publication: dict | None
    ) -> int | None:
        """The option the person's vote is on now, if they voted."""
        where = "network = ? and target = ? and remote_id = ? and kind = 'vote' and person = ?"
        params: list[Any] = [NETWORK, chat, mid, person]
        if publication is not None:  # found by index, not by scanning every interaction
            where = "(publication_id = ? or publication_id is null) and " + where
            params.insert(0, publication["id"])
        row = self.db.execute(
            f"select detail from interactions where {where} order by at desc, id desc limit 1",
            params,
        ).fetchone()
        if row is None:
            return None
        chosen = _detail(row[0]).get("option_ids") or [None]
        return chosen[0]

    def _closed(self, publication: dict) -> bool:
        """Whether the poll's close action has run (its totals are final)."""
        return bool(
            self.db["actions"].count_where(
                "event_id = ? and kind = 'close' and network = ? and target = ? and state = ?",
                [publication["event_id"], NETWORK, publication["target"], SENT],
            )
        )

    def _count_votes(self) -> None:
        """The totals of the polls voted on in this batch, as the poll's totals."""
        touched, self._touched = self._touched, {}
        for poll in touched.values():
            totals = buttons.tally(
                self.db, NETWORK, poll.target, poll.remote_id, poll.options, poll.publication_id
            )
            key = buttons.votes_key(NETWORK, poll.remote_id)
            interactions.record_poll_totals(self.db, key, totals, self.clock.now())

    def _membership(self, update: dict[str, Any], kind: str) -> bool:
        chat = str(update["chat_id"])
        user = update["user"]
        library_id = self._library_of.get(chat)
        if library_id is None or user.get("is_bot"):
            return False
        user_id = int(user["user_id"])
        person = interactions.pseudonym(self._secret(library_id), NETWORK, user_id)
        at = _when(update.get("timestamp"), self.clock)
        dedup = f"max:{kind}:{chat}:{person}:{update.get('timestamp')}"
        return self._record(library_id, chat, "", kind, user_id, at, dedup)

    # -- the admin chat -------------------------------------------------------------

    def _admin_message(self, message: dict[str, Any], edited: bool) -> bool:
        """An admin's message in their dialog with the bot: kept for the admin chat (True),
        with a file attached if any. An edit is not a new command: dropped."""
        user_id = int(message["sender"]["user_id"])
        scope = tuple(self.library_ids)  # an admin of another bot's library is none here
        if self.admin is None or not self.admin.is_admin(NETWORK, user_id, scope):
            return False
        if edited:
            return True
        body = message.get("body") or {}
        sent = None
        for attachment in body.get("attachments") or []:
            payload = attachment.get("payload") or {}
            if attachment.get("type") == "file" and payload.get("url"):
                size = attachment.get("size")
                sent = SentFile(str(attachment.get("filename") or ""), str(payload["url"]), size)
                break
        text = str(body.get("text") or "")
        self._admin_inbox.append(Inbound(NETWORK, user_id, text, sent, libraries=scope))
        return True

    def _admin_started(self, update: dict[str, Any]) -> bool:
        """An admin pressed Start in the dialog (no message comes with it): they get the
        help, as ``/start`` brings it on Telegram. Anyone else's Start: nothing."""
        user_id, scope = (update.get("user") or {}).get("user_id"), tuple(self.library_ids)
        if self.admin is None or not isinstance(user_id, int):
            return False
        if self.admin.is_admin(NETWORK, user_id, scope):
            self._admin_inbox.append(Inbound(NETWORK, user_id, "/start", libraries=scope))
        return False

    def _admin_press(self, callback: dict[str, Any], user: dict[str, Any]) -> bool:
        """A press on an admin-chat button: kept for the admin chat if an admin's (True)."""
        data = callback.get("payload")
        if self.admin is None or not self.admin.is_press(data):
            return False
        user_id, scope = int(user["user_id"]), tuple(self.library_ids)
        if self.admin.is_admin(NETWORK, user_id, scope):
            press_id = str(callback["callback_id"])
            press = Inbound(NETWORK, user_id, press=data, press_id=press_id, libraries=scope)
            self._admin_inbox.append(press)
        return True  # anyone else's press on such a button: nothing

    def serve_admins(self) -> None:
        """Hand the stored batch's admin messages to the admin chat."""
        inbox, self._admin_inbox = self._admin_inbox, []
        if inbox and self.admin is not None:
            chat = self.admin.chat(NETWORK, self.libraries[0].id, self.client)
            self.admin.serve([(inbound, chat) for inbound in inbox])

    # -- answers to presses ---------------------------------------------------------

    async def answer_presses(self) -> None:
        """Tell each reader who pressed a button what became of it (``POST /answers``).

        At most ``REPLIES_PER_READER`` presses of a reader per batch: a press left
        unanswered only leaves that reader without the short note.
        """
        presses, self._presses = self._presses, {}
        for press in (p for reader in presses.values() for p in reader):
            try:
                await self.client.call(
                    "POST",
                    "/answers",
                    params={"callback_id": press.callback_id},
                    body={"notification": press.text},
                    sending=False,
                )
            except PlatformError as exc:  # the press expired: what it did is stored anyway
                _log.debug("MAX callback not answered: %s", exc)

    # -- storage ----------------------------------------------------------------------

    def _secret(self, library_id: str) -> bytes:
        if library_id not in self._secrets:
            self._secrets[library_id] = interactions.library_secret(self.db, library_id)
        return self._secrets[library_id]

    def _record(
        self,
        library_id: str,
        target: str,
        remote_id: str,
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


def _detail(text: str | None) -> dict[str, Any]:
    """An interaction's stored detail."""
    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


def _update_key(update: Any) -> object:
    """What names an update in its stream (the quiz judges a re-read one by its first read)."""
    if not isinstance(update, dict):
        return None
    callback = update.get("callback")
    if isinstance(callback, dict) and callback.get("callback_id"):
        return f"callback:{callback['callback_id']}"
    message = update.get("message")
    if isinstance(message, dict) and isinstance(message.get("body"), dict):
        return f"{update.get('update_type')}:{message['body'].get('mid')}"
    return f"{update.get('update_type')}:{update.get('timestamp')}"


def _when(stamp: Any, clock: Clock) -> datetime:
    """An update's time (ms since the epoch), or now if it has none."""
    if isinstance(stamp, int | float) and stamp > 0:
        return datetime.fromtimestamp(stamp / 1000, UTC)
    return clock.now()


def _name(user: dict[str, Any]) -> str:
    """A player's name for the standings (never stored beyond the quiz's keep_names)."""
    if user.get("name"):
        return str(user["name"])
    parts = [user.get("first_name"), user.get("last_name")]
    return " ".join(str(p) for p in parts if p) or str(user.get("username") or "")
