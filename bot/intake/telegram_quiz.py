"""Quiz answers from Telegram updates: button presses, votes and typed answers.

Mixed into ``TelegramIntake``, which hands each update here first when a quiz
(``AnswerBook``) is attached; what is not an answer to an open question goes on to be
recorded as an ordinary interaction.
"""

from __future__ import annotations

import logging

import telegram as tg
from telegram.error import TelegramError

from bot.quiz import buttons
from bot.quiz.answers import AnswerBook

NETWORK = "telegram"
_log = logging.getLogger(__name__)


class TelegramQuizIntake:
    """The quiz side of the Telegram intake."""

    bot: tg.Bot
    quiz: AnswerBook | None
    _library_of: dict[int, str]
    _refs: dict[int, str]
    _presses: dict[int, list[tuple[str, str]]]

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
