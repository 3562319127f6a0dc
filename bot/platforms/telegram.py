"""Telegram through python-telegram-bot: posts, quiz polls and buttons, member counts.

Bots cannot see views of channel posts (only user accounts over MTProto can),
so view counters are reported as not available rather than as zero.

Whatever the client raises comes out in the project's vocabulary (``translating``), with
the Bot API method named: its own errors, and an answer that does not parse (JSON, or a
result python-telegram-bot cannot read), which for a send is an ambiguous outcome since
the platform answered and may well have acted.

A send is ambiguous only when its outcome is really unknown. The Bot API answers a call
it did not carry out with its own error object (``{"ok": false, "error_code": 502,
...}``, the HTTP status as its code): such an HTTP 5xx is a failure, retried later,
except 504 (the request was handed on and its answer waited for in vain). A 5xx
without that object comes from a proxy in front of the API, which may have passed the
request on; it, a connection dropped after the request left, and a timeout while
waiting for the answer leave a send ambiguous. A request that never left (no
connection, a full local pool, the send not noted as leaving) is retried.

The token is never part of a message, and is registered with ``bot.logredact`` before
the client can log it. A rejected token is remembered: later calls fail at once,
without asking Telegram again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import httpx
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram import error as tg
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot import logredact
from core.config import LibraryConfig, LibraryTokens
from core.errors import (
    AmbiguousOutcome,
    AuthFailed,
    BadContent,
    BibliobotError,
    Forbidden,
    NotFound,
    PlatformError,
    RetryLater,
)
from core.networks import network
from core.platform import (
    Ask,
    Attachment,
    Choice,
    FiguresPart,
    Media,
    PollRef,
    Post,
    PostRef,
    Published,
    ReplyTo,
    dispatch_hook,
)

NETWORK = "telegram"
LIMITS = network(NETWORK).limits
# Pacing a little under Telegram's 30 messages/s and 20/min per chat, with a burst of
# only 10 (not 30): requests leave this machine in clumps when the event loop is busy,
# and a clump on top of a full bucket costs a 429 and a whole retry_after.
SAFE_PER_SECOND = LIMITS.requests_per_second - 1
SAFE_BURST = 10
SAFE_PER_CHAT_PER_MINUTE = 19
MAX_OPEN_PERIOD = 600  # seconds: Telegram's longest open_period
MEMBER_STATUSES = ("creator", "administrator", "member")  # in the chat now

# httpx logs every request URL at INFO, and a Bot API URL contains the token.
logging.getLogger("httpx").setLevel(logging.WARNING)
_log = logging.getLogger(__name__)
# The answers that came back inside one ``translating`` block: the HTTP status, and
# whether the body is the Bot API's own error object (the API refused the call itself).
_answers: ContextVar[list[tuple[int, bool]] | None] = ContextVar("telegram_answers", default=None)


class NotDispatched(Exception):
    """The send could not be noted as leaving (``dispatch_hook``), so it did not leave."""


class DispatchingRequest(HTTPXRequest):
    """python-telegram-bot's transport, telling the caller when a request really leaves.

    Past the rate limiter's wait, right before the HTTP request: a post still waiting
    has not been sent, one past this point may have been. Knowing which lets a restart
    re-send the first kind safely (``core.platform.dispatch_hook``); if that note
    cannot be written, the request does not leave. The status of each answer is noted for
    ``translating``: past a 2xx, a failure is in reading it; a 5xx with the Bot API's own
    error object is the API's refusal.
    """

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # type: ignore[override]
        hook = dispatch_hook.get()
        if hook is not None:
            try:
                hook()
            except Exception as exc:
                raise NotDispatched(f"the send could not be noted, so not sent: {exc}") from exc
        code, payload = await super().do_request(*args, **kwargs)
        answers = _answers.get()
        if answers is not None:
            answers.append((code, code >= 500 and _api_error(code, payload)))
        return code, payload


def _api_error(code: int, payload: bytes) -> bool:
    """Whether ``payload`` is the Bot API's error object for HTTP status ``code``."""
    try:
        body = json.loads(payload)
    except ValueError:  # UnicodeDecodeError too: an HTML page, an empty body
        return False
    return isinstance(body, dict) and body.get("ok") is False and body.get("error_code") == code


# Errors raised before the request left this machine: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, NotDispatched)
# The one 5xx by which the Bot API says it passed the request on and waited in vain.
_GATEWAY_TIMEOUT = 504
# 400s that mean the bot lost a right in the chat ("need administrator rights in the channel
# chat", "not enough rights to send text messages", CHAT_WRITE_FORBIDDEN, CHAT_ADMIN_REQUIRED).
_RIGHTS = re.compile(
    r"administrator rights|not enough rights|have no rights|CHAT_WRITE_FORBIDDEN|"
    r"CHAT_ADMIN_REQUIRED",
    re.IGNORECASE,
)


class TelegramPlatform:
    """One bot token; posts to any chat the bot may write to."""

    network = NETWORK

    def __init__(
        self,
        token: str,
        api_url: str,
        timeout: float = 10.0,
        rate_limit: bool = True,
        httpx_kwargs: dict | None = None,
    ) -> None:
        logredact.protect(token)  # before the client logs its URL (DEBUG), token and all
        # httpx_kwargs is the transport seam: tests hook every request there.
        request = DispatchingRequest(
            connection_pool_size=32,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            media_write_timeout=timeout * 3,
            httpx_kwargs=httpx_kwargs,
        )
        limiter = (
            AIORateLimiter(
                overall_max_rate=SAFE_BURST,
                overall_time_period=SAFE_BURST / SAFE_PER_SECOND,
                group_max_rate=SAFE_PER_CHAT_PER_MINUTE,
                max_retries=0,
            )
            if rate_limit
            else None
        )
        self.bot = ExtBot(token=token, base_url=api_url, request=request, rate_limiter=limiter)
        # Reads that are not messages (getChatMember for a giveaway's entrants) skip the
        # limiter's 20-a-minute per chat, which Telegram sets for messages only.
        self.reader = ExtBot(token=token, base_url=api_url, request=request)
        self._ready = False
        self._rejected: AuthFailed | None = None  # the token was refused: no more asking

    async def _start(self) -> None:
        if self._rejected is not None:
            raise AuthFailed(str(self._rejected), NETWORK)
        if not self._ready:
            try:
                with translating("getMe", sending=False):
                    await self.bot.initialize()
            except AuthFailed as exc:
                self._rejected = exc
                raise
            self._ready = True

    async def publish(self, post: Post) -> Published:
        """Send the text, or the image with the text as its caption."""
        await self._start()
        token = dispatch_hook.set(post.on_dispatch)
        try:
            if post.poll is not None:
                with translating("sendPoll", sending=True):
                    message = await self.bot.send_poll(
                        post.target,
                        post.poll.question,
                        list(post.poll.options),
                        is_anonymous=True,  # channels allow no other; totals are what counts
                        allows_multiple_answers=post.poll.multiple,
                        close_date=post.poll.closes_at,
                    )
            elif post.image is None:
                with translating("sendMessage", sending=True):
                    message = await self.bot.send_message(
                        post.target, post.text, parse_mode=ParseMode.HTML
                    )
            else:
                with post.image.open("rb") as photo, translating("sendPhoto", sending=True):
                    message = await self.bot.send_photo(
                        post.target, photo, caption=post.text, parse_mode=ParseMode.HTML
                    )
        finally:
            dispatch_hook.reset(token)
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
            poll_id=message.poll.id if message.poll else None,
        )

    async def read_figures(
        self, posts: Sequence[PostRef], communities: Sequence[str], polls: Sequence[PollRef] = ()
    ) -> AsyncIterator[FiguresPart]:
        """Members of each channel or group; a bot reads no post's counters (no views)."""
        for target in communities:
            yield FiguresPart(members={target: await self.audience_size(target)})

    async def audience_size(self, target: str) -> int:
        """Subscribers of a channel or members of a group."""
        await self._start()
        with translating("getChatMemberCount", sending=False):
            return await self.bot.get_chat_member_count(target)

    async def send_notice(
        self, user_id: int, text: str, attachment: Attachment | None = None
    ) -> None:
        """A private message to an admin (plain text), with an image or a file if given
        (the text as its caption, or before it when too long for one)."""
        await self._start()
        if attachment is None or len(text) > LIMITS.caption:
            with translating("sendMessage", sending=True):
                await self.bot.send_message(user_id, text)
            text = ""
        if attachment is None:
            return
        file = InputFile(attachment.data, filename=attachment.filename)
        if attachment.is_image:
            with translating("sendPhoto", sending=True):
                await self.bot.send_photo(user_id, file, caption=text or None)
        else:
            with translating("sendDocument", sending=True):
                await self.bot.send_document(user_id, file, caption=text or None)

    # -- quizzes -----------------------------------------------------------------

    async def ask(self, ask: Ask) -> Published:
        """A quiz poll (players known in groups, totals only in channels), buttons or text."""
        await self._start()
        if ask.style in ("quiz_poll", "anonymous_quiz_poll"):
            period = ask.open_seconds
            with translating("sendPoll", sending=True):
                message = await self.bot.send_poll(
                    ask.target,
                    ask.text,
                    list(ask.options),
                    is_anonymous=ask.style == "anonymous_quiz_poll",
                    type="quiz",
                    correct_option_ids=list(ask.correct),
                    allows_multiple_answers=len(ask.correct) > 1,
                    explanation=ask.explanation or None,
                    open_period=period if period and 5 <= period <= MAX_OPEN_PERIOD else None,
                )
        else:
            markup = _keyboard(ask) if ask.style == "buttons" else None
            if ask.image is not None:
                with ask.image.open("rb") as photo, translating("sendPhoto", sending=True):
                    message = await self.bot.send_photo(
                        ask.target,
                        photo,
                        caption=ask.text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
            else:
                with translating("sendMessage", sending=True):
                    message = await self.bot.send_message(
                        ask.target, ask.text, parse_mode=ParseMode.HTML, reply_markup=markup
                    )
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
            poll_id=message.poll.id if message.poll else None,
        )

    async def stop_question(self, target: str, remote_id: str, style: str, text: str = "") -> None:
        """Stop the quiz poll, or take the buttons off the question."""
        await self._start()
        poll = style in ("quiz_poll", "anonymous_quiz_poll")
        if not poll and style != "buttons":
            return
        with translating("stopPoll" if poll else "editMessageReplyMarkup", sending=False):
            try:
                if poll:
                    await self.bot.stop_poll(target, int(remote_id))
                else:
                    await self.bot.edit_message_reply_markup(
                        target, int(remote_id), reply_markup=None
                    )
            except tg.BadRequest as exc:
                if not _already_done(exc):
                    raise

    async def say(self, target: str, text: str, guid: str = "") -> Published:
        """A plain HTML message (standings, results)."""
        await self._start()
        with translating("sendMessage", sending=True):
            message = await self.bot.send_message(target, text, parse_mode=ParseMode.HTML)
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
        )

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the bot's message; an unchanged text is not an error."""
        await self._start()
        with translating("editMessageText", sending=False):
            try:
                await self.bot.edit_message_text(
                    text, chat_id=target, message_id=int(remote_id), parse_mode=ParseMode.HTML
                )
            except tg.BadRequest as exc:
                if not _already_done(exc):
                    raise

    async def stop_poll(self, target: str, remote_id: str, poll_id: str) -> tuple[int, ...] | None:
        """stopPoll: the poll's final votes per option."""
        await self._start()
        with translating("stopPoll", sending=False):
            try:
                poll = await self.bot.stop_poll(target, int(remote_id))
            except tg.BadRequest as exc:
                if _already_done(exc):
                    return None
                raise
        return tuple(option.voter_count for option in poll.options)

    async def members_among(self, chat: str, user_ids: Iterable[int]) -> set[int]:
        """Which of ``user_ids`` are in the chat now (getChatMember, one request each)."""
        await self._start()
        found: set[int] = set()
        for user_id in sorted(set(user_ids)):
            with translating("getChatMember", sending=False):
                try:
                    member = await self.reader.get_chat_member(chat, user_id)
                except tg.BadRequest:  # a reader Telegram no longer knows
                    continue
            if member.status in MEMBER_STATUSES or getattr(member, "is_member", False) is True:
                found.add(user_id)
        return found

    # -- contests and giveaways ----------------------------------------------------

    async def post_entry(self, target: str, media: Media, text: str, guid: str = "") -> Published:
        """The entry sent again by the file_id Telegram gave the bot, ``text`` its caption."""
        await self._start()
        if media.kind == "photo" and media.ref:
            with translating("sendPhoto", sending=True):
                message = await self.bot.send_photo(
                    target, media.ref, caption=text, parse_mode=ParseMode.HTML
                )
        elif media.kind == "video" and media.ref:
            with translating("sendVideo", sending=True):
                message = await self.bot.send_video(
                    target, media.ref, caption=text, parse_mode=ParseMode.HTML
                )
        else:
            with translating("sendMessage", sending=True):
                message = await self.bot.send_message(target, text, parse_mode=ParseMode.HTML)
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
        )

    async def reply(
        self, where: ReplyTo, text: str, key: str = "", formatted: bool = False
    ) -> None:
        """A message in the reader's chat, a reply to theirs when known (Telegram keeps no
        idempotency key, so ``key`` is not used)."""
        if where.chat is None:
            raise BadContent("Telegram: nowhere to answer the reader", NETWORK)
        await self._start()
        replying = (
            ReplyParameters(where.message, allow_sending_without_reply=True)
            if where.message is not None
            else None
        )
        with translating("sendMessage", sending=True):
            await self.bot.send_message(
                where.chat,
                text,
                reply_parameters=replying,
                parse_mode=ParseMode.HTML if formatted else None,
            )

    async def ask_admin(
        self, admin: int, text: str, choices: Sequence[Choice], media: Media | None = None
    ) -> None:
        """The admin gets the file (text as its caption) or the text, a button per choice."""
        await self._start()
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(choice.label, callback_data=choice.data)] for choice in choices]
        )
        if media is not None and media.kind == "photo" and media.ref:
            with translating("sendPhoto", sending=True):
                await self.bot.send_photo(
                    admin, media.ref, caption=text[: LIMITS.caption], reply_markup=markup
                )
        elif media is not None and media.kind == "video" and media.ref:
            with translating("sendVideo", sending=True):
                await self.bot.send_video(
                    admin, media.ref, caption=text[: LIMITS.caption], reply_markup=markup
                )
        else:
            with translating("sendMessage", sending=True):
                await self.bot.send_message(admin, text[: LIMITS.text], reply_markup=markup)

    async def chat_id(self, target: str) -> str:
        """A target's numeric id (updates, reaction totals among them, name chats by it)."""
        if target.lstrip("-").isdigit():
            return target
        await self._start()
        with translating("getChat", sending=False):
            chat = await self.bot.get_chat(target)
        return str(chat.id)

    async def close(self) -> None:
        """Close the HTTP connections (opened even when the token was then refused)."""
        await self.bot.shutdown()
        self._ready = False


def message_url(chat_id: int, username: str | None, message_id: int) -> str:
    """t.me link of a message: public by username, else the private /c/ form."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    internal = str(chat_id).removeprefix("-100").lstrip("-")
    return f"https://t.me/c/{internal}/{message_id}"


@contextmanager
def translating(method: str, sending: bool) -> Iterator[None]:
    """Whatever the client raises in the block, as the project's error naming ``method``.

    ``sending``: the call may change something on Telegram (a message, a poll), so an
    answer lost or unreadable leaves its outcome unknown.
    """
    answers: list[tuple[int, bool]] = []
    mark = _answers.set(answers)
    try:
        yield
    except BibliobotError:
        raise
    except Exception as exc:
        answered = any(200 <= code < 300 for code, _ in answers)
        refused = answers[-1][0] if answers and answers[-1][1] else None
        raise translate(exc, sending, method, answered, refused) from exc
    finally:
        _answers.reset(mark)


def translate(
    exc: Exception,
    sending: bool,
    method: str = "",
    answered: bool = False,
    refused: int | None = None,
) -> PlatformError:
    """python-telegram-bot's exception → the project's vocabulary.

    ``answered``: Telegram accepted the call (HTTP 2xx), so the exception came from reading
    its answer. ``refused``: the HTTP status of an error answer that carried the Bot API's
    own error object, so the API itself answered the call and did not carry it out.
    """
    where = f"Telegram {method}" if method else "Telegram"
    if answered or not isinstance(exc, tg.TelegramError):
        return _unexpected(exc, where, sending, answered)
    text = f"{where}: {logredact.redact(exc.message)}"
    if isinstance(exc, tg.RetryAfter):
        delay = exc.retry_after
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        return RetryLater(text, NETWORK, delay=seconds)
    if isinstance(exc, tg.InvalidToken):
        return AuthFailed(f"{where}: the bot token was rejected ({refusal(exc)})", NETWORK)
    if isinstance(exc, tg.Forbidden):
        return Forbidden(text, NETWORK)
    if isinstance(exc, tg.ChatMigrated):
        return NotFound(f"{text} (new chat id {exc.new_chat_id})", NETWORK)
    if isinstance(exc, tg.BadRequest):
        if "not found" in exc.message.lower():
            return NotFound(text, NETWORK)
        if _RIGHTS.search(exc.message):  # a right taken from the bot, not the post's fault
            return Forbidden(text, NETWORK)
        return BadContent(text, NETWORK)
    if isinstance(exc, tg.TimedOut | tg.NetworkError):
        if isinstance(exc.__cause__, _NOT_SENT) or "Pool timeout" in exc.message:
            return RetryLater(text, NETWORK, delay=2.0)
        if refused is not None and refused >= 500 and refused != _GATEWAY_TIMEOUT:
            return RetryLater(text, NETWORK, delay=2.0)  # the API's own "not done"
        # The request left; the platform may have acted on it.
        return AmbiguousOutcome(text, NETWORK) if sending else RetryLater(text, NETWORK, delay=2.0)
    return PlatformError(text, NETWORK)


def refusal(exc: tg.InvalidToken) -> str:
    """The server's word for a rejected token ("Unauthorized"); PTB's own may quote it."""
    cause = exc.__cause__ if isinstance(exc.__cause__, tg.InvalidToken) else exc
    return logredact.redact(cause.message)


def _unexpected(exc: Exception, where: str, sending: bool, answered: bool) -> PlatformError:
    """An answer that did not parse, or a failure of the client before any answer."""
    detail = logredact.redact(f"{type(exc).__name__}: {exc}")[:200]
    if not answered:  # e.g. the client refused an argument: nothing was sent
        return PlatformError(f"{where}: the client failed ({detail})", NETWORK)
    _log.warning("%s: unexpected answer", where, exc_info=exc)
    text = f"{where}: unexpected answer ({detail})"
    # The platform took the call and answered: a message may well exist.
    return AmbiguousOutcome(text, NETWORK) if sending else PlatformError(text, NETWORK)


def build(
    library: LibraryConfig, tokens: LibraryTokens, rate_limit: bool, shared: dict
) -> TelegramPlatform | None:
    """The adapter of ``library``'s bot, if it has one; libraries sharing a bot share it."""
    tg_config = library.telegram
    if tg_config is None or not tokens.telegram:
        return None
    key = (tokens.telegram, tg_config.api_url)
    if key not in shared:
        shared[key] = TelegramPlatform(
            tokens.telegram, tg_config.api_url, timeout=tg_config.timeout, rate_limit=rate_limit
        )
    return shared[key]


def _keyboard(ask: Ask) -> InlineKeyboardMarkup:
    """One button per option, and the button sending several marked options, if any."""
    rows = [
        [InlineKeyboardButton(f"{n}. {option}"[: LIMITS.button_label], callback_data=data)]
        for n, (option, data) in enumerate(zip(ask.options, ask.buttons, strict=False), start=1)
    ]
    if ask.send:
        rows.append(
            [InlineKeyboardButton(ask.send[: LIMITS.button_label], callback_data=ask.buttons[-1])]
        )
    return InlineKeyboardMarkup(rows)


def _already_done(exc: tg.BadRequest) -> bool:
    """Telegram's answers when the work was done before (a repeat after a restart)."""
    text = exc.message.lower()
    return "not modified" in text or "already closed" in text or "poll has already" in text
