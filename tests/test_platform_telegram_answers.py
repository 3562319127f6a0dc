"""Telegram answers that do not parse, and a rejected token, as the adapter reports them.

The stand-in carries out the call, then answers with a body python-telegram-bot cannot
read: for a send the message exists, so the outcome is ambiguous; for a read it is a plain
platform error. Either way the scheduler gets the project's vocabulary, never a KeyError.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import load_plan
from bot.platforms.telegram import TelegramPlatform
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import AmbiguousOutcome, AuthFailed, BadContent, PlatformError
from core.platform import Post
from core.storage import open_db
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import write_config, write_event
from tests.telegram_clients import TLS

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # the default event's time, in UTC
WRONG = "123456:" + "B" * 35


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=21) as sandbox:
        yield sandbox


@pytest.fixture
def box(running: Sandbox) -> Sandbox:
    running.reset()
    return running


def _platform(box: Sandbox, token: str | None = None) -> TelegramPlatform:
    info = box.info()["telegram"]
    return TelegramPlatform(
        token or info["token"], info["api_url"], rate_limit=False, httpx_kwargs={"verify": TLS}
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"ok": True, "result": {"message_id": 7}}, "KeyError: 'date'"),  # no chat, no date
        ({"ok": True}, "KeyError: 'result'"),  # no result at all
        (b"<html>502 Bad Gateway</html>", "TelegramError: Invalid server response"),
    ],
    ids=["result", "envelope", "not-json"],
)
async def test_a_send_whose_answer_does_not_parse_is_ambiguous(
    box: Sandbox, body: dict | bytes, why: str
) -> None:
    channel = box.info()["telegram"]["channel_id"]
    platform = _platform(box)
    box.telegram.answer_next("sendMessage", body)
    with pytest.raises(AmbiguousOutcome) as caught:
        await platform.publish(Post(str(channel), "Анонс лекции"))
    await platform.close()
    assert str(caught.value).startswith(f"Telegram sendMessage: unexpected answer ({why}")
    assert [m["text"] for m in box.telegram.messages(channel)] == ["Анонс лекции"]  # it went out


async def test_a_read_whose_answer_does_not_parse_is_a_platform_error(box: Sandbox) -> None:
    platform = _platform(box)
    box.telegram.answer_next("getChatMemberCount", {"ok": True})
    with pytest.raises(PlatformError) as caught:
        await platform.audience_size(str(box.info()["telegram"]["channel_id"]))
    await platform.close()
    assert type(caught.value) is PlatformError  # not ambiguous: nothing was changed
    assert (
        str(caught.value) == "Telegram getChatMemberCount: unexpected answer (KeyError: 'result')"
    )


async def test_telegram_errors_name_the_method(box: Sandbox) -> None:
    platform = _platform(box)
    box.telegram.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    with pytest.raises(BadContent, match=r"^Telegram sendMessage: Can't parse entities$"):
        await platform.publish(Post(str(box.info()["telegram"]["channel_id"]), "<b>"))
    await platform.close()


async def test_a_rejected_token_fails_as_auth_without_the_token_and_is_not_asked_again(
    box: Sandbox,
) -> None:
    platform = _platform(box, WRONG)
    box.recording = True
    box.arrivals.clear()
    for _ in range(3):
        with pytest.raises(AuthFailed) as caught:
            await platform.publish(Post(str(box.info()["telegram"]["channel_id"]), "Анонс"))
        assert WRONG not in str(caught.value)
        assert str(caught.value) == "Telegram getMe: the bot token was rejected (Unauthorized)"
    box.recording = False
    await platform.close()
    assert [a.method for a in box.arrivals] == ["getMe"]  # asked once, then remembered


async def test_the_runner_marks_a_post_with_an_unreadable_answer_uncertain(
    tmp_path: Path, box: Sandbox
) -> None:
    info = box.info()["telegram"]
    path = write_config(tmp_path, telegram_url=info["api_url"], channel=str(info["channel_id"]))
    write_event(tmp_path, networks='["telegram"]')
    config = load_config(path)
    db = open_db(config.storage)
    clock = ManualClock(DUE - timedelta(hours=1))
    load_plan(db, config, clock)
    platform = _platform(box)
    runner = Runner(db, config, {("central", "telegram"): platform}, clock=clock, seed=1)
    box.telegram.answer_next("sendMessage", {"ok": True, "result": {"message_id": 1}})
    clock.current = DUE
    [action] = [r["id"] for r in db["actions"].rows_where("kind = 'publish'")]
    await runner.fire(action)
    await runner.stop()
    await platform.close()
    row = db["actions"].get(action)
    assert row["state"] == "uncertain"  # not "failed: internal error; see the log"
    assert row["error"].startswith("Telegram sendMessage: unexpected answer (KeyError")
