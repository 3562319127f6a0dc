"""Tokens never reach a log line: a filter on the root logger's handlers blanks them out.

A Bot API URL carries the bot token (``.../bot<token>/getMe``), and httpx and
python-telegram-bot log such URLs at INFO and DEBUG; python-telegram-bot's InvalidToken
message quotes the token. Every token registered with ``protect`` (the adapters register
theirs before their client is built) is replaced by ``<token>`` in the message, its
arguments, the traceback and the stack of every record the root handlers see; so is the
``/bot<token>/`` part of any Bot API URL, registered or not; so is the MAX webhook secret
(``X-Max-Bot-Api-Secret``), however short MAX lets it be. ``protect`` installs the
filter on the root handlers present (and on ``logging.lastResort``), so a handler
configured later needs ``protect()`` again: ``run`` and ``demo`` set up logging first, and
``bot.app.run_bot`` protects every configured token before any client exists.

Readers' data is kept out the same way where a library logs it: python-telegram-bot logs
a batch of updates it could not parse whole, at CRITICAL ("Error while parsing updates!
Received data was [...]"), readers' names and ids within. That record keeps its first
words and the exception's type; the data and the traceback (whose exception may quote
the data) are dropped; the intake says which update was skipped. At DEBUG it logs what
every call returned: for ``getUpdates`` only the number of updates is kept.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from core.config import Config

MASK = "<token>"
MIN_LENGTH = 6  # shorter "tokens" (test placeholders) would blank out ordinary words
WEBHOOK_SECRET_MIN = 5  # the shortest secret MAX accepts for a webhook subscription
_URL_TOKEN = re.compile(r"(/bot)\d+:[^/\s'\"`]+")  # a Bot API URL's token, registered or not
_RECEIVED = "Received data was"  # python-telegram-bot's words before the raw updates
_RETURNED = "Call to Bot API endpoint `%s` finished with return value `%s`"  # its DEBUG line

_secrets: set[str] = set()
_lock = threading.Lock()


class TokenFilter(logging.Filter):
    """Replaces every protected token in a record, cuts readers' data out; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        _without_received_data(record)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it as usual
            return True
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_filter = TokenFilter()


def _without_received_data(record: logging.LogRecord) -> None:
    """python-telegram-bot's records of updates (raw, as received), without the updates."""
    if not (record.name.startswith("telegram") and isinstance(record.msg, str)):
        return
    args = record.args
    if record.msg == _RETURNED and isinstance(args, tuple) and args[:1] == ("getUpdates",):
        count = len(args[1]) if isinstance(args[1], list) else "?"
        record.args = ("getUpdates", f"<{count} update(s), not logged: they name readers>")
        return
    if _RECEIVED not in record.msg:
        return
    error = record.exc_info[1] if record.exc_info else None
    why = f" ({type(error).__name__})" if error is not None else ""
    first = record.msg.split(_RECEIVED, 1)[0].rstrip()
    record.msg = f"{first}{why} The received data is not logged: it names readers."
    record.args, record.exc_info, record.exc_text = None, None, None


def protect(*secrets: str | None, minimum: int = MIN_LENGTH) -> None:
    """Register tokens to blank out (``minimum`` characters or more), and put the filter on
    every root handler."""
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= minimum)
    # lastResort prints warnings when no handler is configured (commands without logging setup).
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None and _filter not in handler.filters:
            handler.addFilter(_filter)


def protect_config(config: Config, env: Mapping[str, str] | None = None) -> None:
    """``protect`` every token and secret the config names that is set (of every network)."""
    from core.config import library_tokens
    from core.errors import MissingSecret

    for library in config.libraries:
        try:
            tokens = library_tokens(library, env)
        except MissingSecret:
            continue  # reported where the tokens are needed
        protect(tokens.telegram, tokens.vk_user, tokens.vk_community, tokens.max)
        # MAX takes webhook secrets from 5 characters: a chosen secret, masked however short.
        protect(tokens.max_webhook_secret, minimum=WEBHOOK_SECRET_MIN)


def redact(text: str) -> str:
    """``text`` with every registered token, and the token of any Bot API URL, masked."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # a token inside another goes last
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
        encoded = quote(secret, safe="")
        if encoded != secret and encoded in text:
            text = text.replace(encoded, MASK)
    return _URL_TOKEN.sub(rf"\1{MASK}", text)
