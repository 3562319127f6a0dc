"""Answer buttons: callback data signed with the library's secret.

A reader's client can send any callback data (Telegram) or payload (VK), so a
button says which question and option it is, and carries a short HMAC of both:
data that was not made by the bot, or names another question, is rejected.
Replays need no extra care: the first answer of a player is the only one kept.

A question with several right options has one more button, ``SEND``: the option buttons
mark and unmark options, and it sends the marked ones as the player's answer.
"""

from __future__ import annotations

import hashlib
import hmac

from core import messages

PREFIX = "q"
MAX_DATA = 64  # Telegram's limit for callback_data, in bytes
SEND = 99  # the "option" of the button that sends a choice of several (options are fewer)
# Presses of one reader answered per batch of updates: each answer is a request, and a
# reader pressing a thousand times must not hold the other players' presses back. Enough
# for marking every option of a question and sending them.
REPLIES_PER_READER = 5


def send_label(language: str) -> str:
    """The words on the ``SEND`` button: «Готово»."""
    return messages.text_in(language, "quiz.send_label")


def _mac(secret: bytes, question_id: int, option: int) -> str:
    message = f"{question_id}:{option}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:12]


def make_data(secret: bytes, question_id: int, option: int) -> str:
    """The callback data of option ``option`` (0-based) of a question, or of ``SEND``."""
    data = f"{PREFIX}:{question_id}:{option}:{_mac(secret, question_id, option)}"
    assert len(data.encode()) <= MAX_DATA
    return data


def read_data(secret: bytes, data: object) -> tuple[int, int] | None:
    """(question id, option) from callback data made by ``make_data``; None if forged."""
    if not isinstance(data, str) or len(data) > MAX_DATA:
        return None
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    try:
        question_id, option = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    if question_id < 0 or option < 0:
        return None
    if not hmac.compare_digest(parts[3], _mac(secret, question_id, option)):
        return None
    return question_id, option
