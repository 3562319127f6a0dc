"""No token in any log line: the root handlers' filter, and the Telegram code at DEBUG.

The intake and the adapter run against the stand-in with a token it rejects, with every
logger at DEBUG (httpx logs request URLs, which carry the token, at INFO).
"""

from __future__ import annotations

import asyncio
import logging
import re
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from bot.intake.telegram import TelegramIntake
from bot.logredact import MASK, TokenFilter, protect, redact
from bot.platforms.telegram import TelegramPlatform
from core.config import LibraryConfig, TelegramConfig
from core.errors import AuthFailed
from core.platform import Post
from core.storage import open_db
from sandbox.server import Sandbox
from tests.telegram_clients import TLS, make_request

SECRET = "987654:" + "S" * 35


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args or None, info)


def test_a_token_is_masked_in_message_arguments_and_traceback() -> None:
    protect(SECRET)
    try:
        raise ValueError(f"The token `{SECRET}` was rejected by the server.")
    except ValueError as exc:
        record = _record("HTTP Request: POST %s %r", f"http://h/bot{SECRET}/getMe", 401, exc=exc)
    assert TokenFilter().filter(record) is True  # masked, never dropped
    assert record.getMessage() == f"HTTP Request: POST http://h/bot{MASK}/getMe 401"
    assert SECRET not in record.exc_text and f"`{MASK}` was rejected" in record.exc_text
    assert SECRET not in logging.Formatter().format(record)


def test_any_bot_api_url_loses_its_token_and_the_encoded_form_too() -> None:
    protect(SECRET)
    assert redact("GET https://api.telegram.org/bot111:unregistered-token/getMe") == (
        f"GET https://api.telegram.org/bot{MASK}/getMe"
    )
    assert redact(f"url=bot{SECRET.replace(':', '%3A')}") == f"url=bot{MASK}"
    assert redact("a bottle of milk costs 45:90") == "a bottle of milk costs 45:90"


async def test_a_rejected_token_never_reaches_the_log_at_debug(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    token = "123:wrong"  # what a librarian pastes by mistake
    for name in (None, "httpx", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)
    protect(token)  # what `run` does for every configured token, before any client exists
    zone = ZoneInfo("Europe/Moscow")
    with Sandbox(seed=8) as box:
        info = box.info()["telegram"]
        library = LibraryConfig(
            "central", "Central", zone, telegram=TelegramConfig("TG", ("@x",), info["api_url"])
        )
        db = open_db(tmp_path / "bibliobot.db")
        bot = ExtBot(token, base_url=info["api_url"], request=make_request())
        intake = TelegramIntake(db, bot, [library], poll_timeout=25)
        intake.retry_delay = 0.01
        stop = asyncio.Event()
        reading = asyncio.create_task(intake.run(stop))
        await asyncio.wait({reading}, timeout=2)  # it stops by itself at the refusal
        stop.set()
        await reading
        await bot.shutdown()
        platform = TelegramPlatform(
            token, info["api_url"], rate_limit=False, httpx_kwargs={"verify": TLS}
        )
        with pytest.raises(AuthFailed) as caught:
            await platform.publish(Post(str(info["channel_id"]), "Анонс"))
        logging.getLogger("test").warning("publish failed", exc_info=caught.value)
        await platform.close()
    assert token not in str(caught.value)
    assert any("/bot<token>/getMe" in r.getMessage() for r in caplog.records)  # httpx's line
    for record in caplog.records:
        assert token not in record.getMessage()
        assert token not in (record.exc_text or "")
    assert token not in caplog.text


async def test_updates_that_do_not_parse_leave_no_reader_in_the_log(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (None, "httpx", "telegram"):
        caplog.set_level(logging.DEBUG, logger=name)
    protect()  # the filter on the root handlers, as `run` puts it there
    zone = ZoneInfo("Europe/Moscow")
    with Sandbox(seed=9) as box:
        info = box.info()["telegram"]
        library = LibraryConfig(
            "central",
            "Central",
            zone,
            telegram=TelegramConfig("TG", (str(info["group_id"]),), info["api_url"]),
        )
        db = open_db(tmp_path / "bibliobot.db")
        db["libraries"].insert({"id": "central", "name": "Central", "timezone": zone.key})
        bot = ExtBot(info["token"], base_url=info["api_url"], request=make_request())
        intake = TelegramIntake(db, bot, [library], poll_timeout=0)
        await intake.poll_once()
        reader = box.telegram.add_user("Анастасия", "Широкова", username="shirokova_reads")
        box.telegram.post_as_user(reader["id"], info["group_id"], "Мой телефон 8-900-000-00-00")
        broken = {"chat": {"id": info["group_id"], "type": "supergroup"}}  # no message_id
        box.telegram._locked(lambda world: world.push_update("message_reaction_count", broken))
        assert await intake.poll_once() == 2  # read one by one; the bad one skipped
        await bot.shutdown()
    [parsing] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert re.fullmatch(
        r"Error while parsing updates! \(\w+Error\) "
        r"The received data is not logged: it names readers\.",
        parsing.getMessage(),
    )
    assert parsing.exc_info is None and parsing.exc_text is None
    for personal in ("Анастасия", "Широкова", "shirokova_reads", str(reader["id"]), "8-900"):
        assert personal not in caplog.text
        for record in caplog.records:
            assert personal not in record.getMessage() + (record.exc_text or "")
