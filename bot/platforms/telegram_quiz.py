"""Telegram quiz operations: native quiz polls, answer buttons, standings kept in place.

Mixed into ``TelegramPlatform``; errors are translated like every other call
(``bot.platforms.telegram.translating``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram import error as tg
from telegram.constants import ParseMode

from core.platform import Ask, Published

if TYPE_CHECKING:
    from telegram.ext import ExtBot

MAX_OPEN_PERIOD = 600  # seconds: Telegram's longest open_period


class TelegramQuizMixin:
    """What a quiz needs from Telegram, on top of posting."""

    bot: ExtBot

    async def _start(self) -> None: ...

    async def ask(self, ask: Ask) -> Published:
        """A quiz poll (players known in groups, totals only in channels), buttons or text."""
        from bot.platforms.telegram import message_url, translating

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
        from bot.platforms.telegram import translating

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
        from bot.platforms.telegram import message_url, translating

        await self._start()
        with translating("sendMessage", sending=True):
            message = await self.bot.send_message(target, text, parse_mode=ParseMode.HTML)
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
        )

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the bot's message; an unchanged text is not an error."""
        from bot.platforms.telegram import translating

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
        from bot.platforms.telegram import translating

        await self._start()
        with translating("stopPoll", sending=False):
            try:
                poll = await self.bot.stop_poll(target, int(remote_id))
            except tg.BadRequest as exc:
                if _already_done(exc):
                    return None
                raise
        return tuple(option.voter_count for option in poll.options)

    async def answer_press(self, query_id: str, text: str) -> None:
        """Answer a button press with a short notice to the reader."""
        from bot.platforms.telegram import translating

        await self._start()
        with translating("answerCallbackQuery", sending=False):
            await self.bot.answer_callback_query(query_id, text=text[:200])


def _keyboard(ask: Ask) -> InlineKeyboardMarkup:
    """One button per option, and the button sending several marked options, if any."""
    rows = [
        [InlineKeyboardButton(f"{n}. {option}"[:64], callback_data=data)]
        for n, (option, data) in enumerate(zip(ask.options, ask.buttons, strict=False), start=1)
    ]
    if ask.send:
        rows.append([InlineKeyboardButton(ask.send[:64], callback_data=ask.buttons[-1])])
    return InlineKeyboardMarkup(rows)


def _already_done(exc: tg.BadRequest) -> bool:
    """Telegram's answers when the work was done before (a repeat after a restart)."""
    text = exc.message.lower()
    return "not modified" in text or "already closed" in text or "poll has already" in text
