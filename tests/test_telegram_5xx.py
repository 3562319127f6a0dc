"""Telegram's HTTP 5xx answers: a refusal by the Bot API is retried, an unknown outcome is not.

The Bot API answers a call it did not carry out with its own error object
(``{"ok": false, "error_code": 502, ...}``): the post did not go out and is sent again.
A 5xx page from a proxy in front of it, or a 504 (passed on, answer waited for in vain),
may follow a post that went out: that one stays ambiguous. Measured through the
runner: with 10 % of sendMessage calls answered 502, every post goes out exactly once.
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
from core.errors import AmbiguousOutcome, PlatformError, RetryLater
from core.platform import Post
from core.storage import open_db, to_db
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import write_config, write_event
from tests.telegram_clients import TLS

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # the default event's time, in UTC
POSTS = 100


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=31) as sandbox:
        yield sandbox


@pytest.fixture
def box(running: Sandbox) -> Sandbox:
    running.reset()
    running.telegram.set_faults([], seed=0)
    running.telegram.set_rate_limits(enabled=False)
    return running


def _platform(box: Sandbox) -> TelegramPlatform:
    info = box.info()["telegram"]
    return TelegramPlatform(
        info["token"], info["api_url"], rate_limit=False, httpx_kwargs={"verify": TLS}
    )


def _api_error(code: int, description: str) -> dict:
    return {"ok": False, "error_code": code, "description": description}


def _bad_gateway(box: Sandbox) -> None:
    box.telegram.set_faults("sendMessage:5xx:1")  # the stand-in's 5xx: JSON 502, nothing done


def _internal_error(box: Sandbox) -> None:
    box.telegram.fail_next("sendMessage", 500, "Internal Server Error")


def _proxy_page(box: Sandbox) -> None:  # done, then a proxy's page instead of the answer
    box.telegram.answer_next("sendMessage", b"<html>502 Bad Gateway</html>", status=502)


def _gateway_timeout(box: Sandbox) -> None:  # done, the answer waited for in vain
    box.telegram.answer_next("sendMessage", _api_error(504, "Gateway Timeout"), status=504)


def _dropped_after(box: Sandbox) -> None:  # done, then the connection dropped, no answer
    box.telegram.set_faults("sendMessage:ambiguous:1")


def _dropped_before(box: Sandbox) -> None:  # dropped without an answer, nothing done:
    box.telegram.set_faults("sendMessage:reset:1")  # the client cannot tell it from the above


@pytest.mark.parametrize(
    ("answer", "expected", "sent"),
    [
        (_bad_gateway, RetryLater, []),
        (_internal_error, RetryLater, []),
        (_proxy_page, AmbiguousOutcome, ["Анонс лекции"]),
        (_gateway_timeout, AmbiguousOutcome, ["Анонс лекции"]),
        (_dropped_after, AmbiguousOutcome, ["Анонс лекции"]),
        (_dropped_before, AmbiguousOutcome, []),
    ],
    ids=["api-502", "api-500", "proxy-502", "api-504", "dropped-after", "dropped-before"],
)
async def test_a_5xx_is_retried_only_when_the_bot_api_says_it_did_nothing(
    box: Sandbox, answer, expected: type[PlatformError], sent: list[str]
) -> None:
    channel = box.info()["telegram"]["channel_id"]
    platform = _platform(box)
    await platform._start()  # getMe outside the fault
    answer(box)
    with pytest.raises(PlatformError) as caught:
        await platform.publish(Post(str(channel), "Анонс лекции"))
    await platform.close()
    assert type(caught.value) is expected, caught.value
    assert str(caught.value).startswith("Telegram sendMessage: ")
    assert [m["text"] for m in box.telegram.messages(channel)] == sent


async def test_a_send_that_cannot_be_noted_as_leaving_does_not_leave(box: Sandbox) -> None:
    channel = box.info()["telegram"]["channel_id"]
    platform = _platform(box)

    def note() -> None:
        raise OSError("database or disk is full")

    with pytest.raises(RetryLater, match="could not be noted"):
        await platform.publish(Post(str(channel), "Анонс лекции", on_dispatch=note))
    await platform.close()
    assert box.telegram.messages(channel) == []


async def test_with_a_tenth_of_sends_answered_502_every_post_goes_out_once(
    box: Sandbox, tmp_path: Path
) -> None:
    info = box.info()["telegram"]
    config = load_config(
        write_config(tmp_path, telegram_url=info["api_url"], channel=str(info["channel_id"]))
    )
    for n in range(POSTS):
        title = f'"Пост {n}"'
        write_event(tmp_path, name=f"post{n:03}", networks='["telegram"]', title=title, text=title)
    db = open_db(config.storage)
    clock = ManualClock(DUE - timedelta(hours=1))
    assert not load_plan(db, config, clock).problems
    platform = _platform(box)
    runner = Runner(db, config, {("central", "telegram"): platform}, clock=clock, seed=3)
    await platform._start()
    box.telegram.set_faults("sendMessage:5xx:0.1", seed=7)
    clock.current = DUE
    attempts = 0
    while True:  # fire what is due, then move the clock to the next retry
        due = [
            r
            for r in db["actions"].rows_where("kind = 'publish' and state = 'pending'")
            if (r["retry_at"] or r["due_at"]) <= to_db(clock.current)
        ]
        for row in due:
            await runner.fire(row["id"])
            attempts += 1
        waiting = [
            r["retry_at"]
            for r in db["actions"].rows_where("kind = 'publish' and state = 'pending'")
        ]
        if not waiting:
            break
        clock.current = max(clock.current, datetime.fromisoformat(min(waiting)))
    await runner.stop()
    await platform.close()

    fired = [f for f in box.telegram.faults()["fired"] if f["kind"] == "5xx"]
    states = [r["state"] for r in db["actions"].rows_where("kind = 'publish'")]
    texts = sorted(m["text"].split("\n")[0] for m in box.telegram.messages(info["channel_id"]))
    assert states == ["sent"] * POSTS, {s: states.count(s) for s in set(states)}
    assert texts == sorted(f"Пост {n}" for n in range(POSTS))  # each once, none missing
    assert attempts == POSTS + len(fired) and 5 <= len(fired) <= 20
