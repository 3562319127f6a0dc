"""Flood limits and injected faults of the Telegram stand-in, seen by python-telegram-bot.

Flood tests freeze the stand-in's clock and move it by hand, so the windows are exact;
only the AIORateLimiter test runs on real time (its limiter waits about 3 s).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import telegram
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, ExtBot

from sandbox.faults import FaultRule
from sandbox.server import Sandbox
from tests.telegram_clients import TLS, make_request


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox(seed=11) as sandbox:
        yield sandbox


@pytest.fixture
def sb(running: Sandbox) -> Sandbox:
    running.reset()
    running.telegram.set_rate_limits()  # the defaults: on, 30/s, 20/min per chat
    running.telegram.set_faults([], seed=0)
    running.telegram.freeze_clock(False)
    return running


@pytest.fixture
def tg(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["telegram"]


@pytest.fixture
def control(sb: Sandbox) -> str:
    return sb.info()["control_url"] + "/telegram"


@pytest.fixture
async def bot(tg: dict[str, Any]) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        tg["token"],
        base_url=tg["api_url"],
        request=make_request(),
        get_updates_request=make_request(),
    ) as client:
        yield client


@pytest.fixture
async def raw(tg: dict[str, Any]) -> AsyncIterator[Any]:
    """call(method, **params) -> (HTTP status, JSON envelope)."""
    async with httpx.AsyncClient(
        verify=TLS, base_url=tg["api_url"] + tg["token"] + "/", timeout=10
    ) as client:

        async def call(method: str, **params: Any) -> tuple[int, dict[str, Any]]:
            response = await client.post(method, json=params)
            return response.status_code, response.json()

        yield call


def _too_many(seconds: int) -> dict[str, Any]:
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds},
    }


# -- flood limits ------------------------------------------------------------------------


async def test_twenty_a_minute_per_channel_then_429_with_the_window(
    raw: Any, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.freeze_clock()
    for i in range(10):
        status, body = await raw("sendMessage", chat_id=tg["channel_id"], text=f"пост {i}")
        assert status == 200, body
    edited_id = body["result"]["message_id"]
    for i in range(9):  # edits count too
        status, body = await raw(
            "editMessageText", chat_id=tg["channel_id"], message_id=edited_id, text=f"правка {i}"
        )
        assert status == 200, body
    _, photo = await raw("sendPhoto", chat_id=tg["channel_id"], photo="https://lib.example/a.jpg")
    assert photo["ok"]  # the twentieth
    assert await raw("sendMessage", chat_id=tg["channel_id"], text="21") == (429, _too_many(3))
    assert await raw("sendPoll", chat_id=tg["channel_id"], question="?", options=["a", "b"]) == (
        429,
        _too_many(3),
    )
    # another chat and free methods are not affected
    assert (await raw("sendMessage", chat_id=tg["group_id"], text="в группу"))[0] == 200
    assert (await raw("getChat", chat_id=tg["channel_id"]))[0] == 200
    sb.telegram.advance_clock(2)
    assert await raw("sendMessage", chat_id=tg["channel_id"], text="21") == (429, _too_many(1))
    sb.telegram.advance_clock(1)
    assert (await raw("sendMessage", chat_id=tg["channel_id"], text="21"))[0] == 200
    assert len([m for m in sb.telegram.messages(tg["channel_id"]) if "text" in m]) == 11


async def test_the_client_sees_retry_after(bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox):
    sb.telegram.freeze_clock()
    sb.telegram.set_rate_limits(per_chat_per_minute=2)
    await bot.send_message(tg["group_id"], "1")
    await bot.send_message(tg["group_id"], "2")
    with pytest.raises(RetryAfter, match="Retry in 30 seconds"):
        await bot.send_message(tg["group_id"], "3")


async def test_thirty_a_second_overall(raw: Any, tg: dict[str, Any], sb: Sandbox) -> None:
    sb.telegram.freeze_clock()
    sb.telegram.set_rate_limits(per_chat_per_minute=1000)
    for i in range(30):
        assert (await raw("sendMessage", chat_id=tg["group_id"], text=str(i)))[0] == 200
    assert await raw("sendMessage", chat_id=tg["channel_id"], text="31") == (429, _too_many(1))
    sb.telegram.advance_clock(0.04)
    assert (await raw("sendMessage", chat_id=tg["channel_id"], text="31"))[0] == 200


async def test_an_album_counts_each_item_and_a_refused_call_counts_nothing(
    raw: Any, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.freeze_clock()
    for _ in range(25):
        status, body = await raw(
            "sendMessage", chat_id=tg["group_id"], text="<b>", parse_mode="HTML"
        )
        assert status == 400
    photos = [{"type": "photo", "media": f"https://lib.example/{i}.jpg"} for i in range(10)]
    assert (await raw("sendMediaGroup", chat_id=tg["group_id"], media=photos))[0] == 200
    assert (await raw("sendMediaGroup", chat_id=tg["group_id"], media=photos))[0] == 200
    assert await raw("sendMessage", chat_id=tg["group_id"], text="x") == (429, _too_many(3))


async def test_a_private_chat_allows_a_short_burst_then_one_a_second(raw: Any, sb: Sandbox) -> None:
    sb.telegram.freeze_clock()
    reader = sb.telegram.add_user()
    sb.telegram.post_as_user(reader["id"], reader["id"], "/start")
    for i in range(3):
        assert (await raw("sendMessage", chat_id=reader["id"], text=str(i)))[0] == 200
    assert await raw("sendMessage", chat_id=reader["id"], text="4") == (429, _too_many(1))
    sb.telegram.advance_clock(1)
    assert (await raw("sendMessage", chat_id=reader["id"], text="4"))[0] == 200


async def test_limits_switch_off_and_on_over_http(
    raw: Any, tg: dict[str, Any], sb: Sandbox, control: str
) -> None:
    async with httpx.AsyncClient(verify=TLS) as client:
        frozen = await client.post(f"{control}/clock", json={"freeze": True})
        assert frozen.json()["result"] == sb.telegram.state()["now"]
        off = await client.post(f"{control}/rate_limits", json={"enabled": False})
        assert off.json()["result"]["enabled"] is False
        for i in range(25):
            assert (await raw("sendMessage", chat_id=tg["channel_id"], text=str(i)))[0] == 200
        on = await client.post(
            f"{control}/rate_limits", json={"enabled": True, "per_chat_per_minute": 1}
        )
        assert on.json()["result"]["per_chat_per_minute"] == 1
        shown = (await client.get(f"{control}/rate_limits")).json()["result"]
    assert shown == sb.telegram.state()["rate_limits"] and shown["enabled"] is True
    assert (await raw("sendMessage", chat_id=tg["channel_id"], text="1"))[0] == 200
    assert await raw("sendMessage", chat_id=tg["channel_id"], text="2") == (429, _too_many(60))


async def test_aio_rate_limiter_keeps_a_burst_to_one_channel_clear_of_429(
    raw: Any, tg: dict[str, Any], sb: Sandbox
) -> None:
    """The bot's own setup: 20 go at once, the 21st waits ~3 s in the limiter, none gets 429."""
    limited = ExtBot(
        tg["token"],
        base_url=tg["api_url"],
        rate_limiter=AIORateLimiter(max_retries=0),
        request=make_request(),
    )
    started = time.monotonic()
    async with limited:
        sent = [await limited.send_message(tg["channel_id"], f"анонс {i}") for i in range(21)]
    assert len({m.message_id for m in sent}) == 21
    assert 2.5 < time.monotonic() - started < 6
    # without the limiter, the next one right away is refused
    status, body = await raw("sendMessage", chat_id=tg["channel_id"], text="22")
    assert status == 429 and body["parameters"]["retry_after"] == 3


# -- faults ----------------------------------------------------------------------------------


async def test_5xx_is_a_network_error_and_nothing_is_sent(
    bot: telegram.Bot, raw: Any, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults([FaultRule("sendMessage", "5xx", 1.0)])
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(tg["group_id"], "не дойдёт")
    assert await raw("sendMessage", chat_id=tg["group_id"], text="x") == (
        502,
        {"ok": False, "error_code": 502, "description": "Bad Gateway"},
    )
    assert sb.telegram.messages(tg["group_id"]) == []
    assert (await bot.get_me()).is_bot  # other methods unaffected
    fired = sb.telegram.state()["faults"]["fired"]
    assert [(f["method"], f["kind"]) for f in fired] == [("sendMessage", "5xx")] * 2


async def test_reset_is_a_network_error_and_nothing_is_sent(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults("sendMessage:reset:1")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(tg["channel_id"], "не дойдёт")
    assert not isinstance(caught.value, TimedOut)
    assert sb.telegram.messages(tg["channel_id"]) == []


async def test_ambiguous_is_a_network_error_but_the_message_exists(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults("sendMessage:ambiguous:1")
    with pytest.raises(NetworkError):
        await bot.send_message(tg["channel_id"], "дошло, но ответа нет")
    [message] = sb.telegram.messages(tg["channel_id"])
    assert message["text"] == "дошло, но ответа нет"
    [fired] = sb.telegram.faults()["fired"]
    assert fired["kind"] == "ambiguous"
    assert (fired["chat_id"], fired["message_id"]) == (tg["channel_id"], message["message_id"])


async def test_ambiguous_album_logs_every_message_id(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults("sendMediaGroup:ambiguous:1")
    with pytest.raises(NetworkError):
        await bot.send_media_group(
            tg["group_id"],
            [telegram.InputMediaPhoto(f"https://lib.example/{i}.jpg") for i in range(2)],
        )
    ids = [m["message_id"] for m in sb.telegram.messages(tg["group_id"])]
    assert sb.telegram.faults()["fired"][0]["message_id"] == ids and len(ids) == 2


async def test_slow_times_out_in_the_client_but_the_message_exists(
    tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults([FaultRule("sendMessage", "slow", 1.0, delay=0.6)])
    request = make_request(read_timeout=0.2)
    async with telegram.Bot(tg["token"], base_url=tg["api_url"], request=request) as impatient:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await impatient.send_message(tg["group_id"], "медленно")
        assert time.monotonic() - started < 0.55
    assert [m["text"] for m in sb.telegram.messages(tg["group_id"])] == ["медленно"]
    assert sb.telegram.faults()["fired"][0]["kind"] == "slow"


async def test_slow_answer_arrives_for_a_patient_client(
    raw: Any, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults("getMe:slow:1:0.2")
    started = time.monotonic()
    status, body = await raw("getMe")
    assert status == 200 and body["result"]["is_bot"] and time.monotonic() - started >= 0.2


async def test_faults_are_seeded_and_reproducible(raw: Any, sb: Sandbox) -> None:
    async def outcomes() -> list[int]:
        return [(await raw("getMe"))[0] for _ in range(20)]

    sb.telegram.set_faults("getme:5xx:0.5", seed=42)
    first = await outcomes()
    sb.telegram.set_faults("getme:5xx:0.5", seed=42)
    assert await outcomes() == first
    assert set(first) == {200, 502}
    sb.telegram.set_faults("getme:5xx:0.5", seed=43)
    assert await outcomes() != first


async def test_faults_over_http(raw: Any, sb: Sandbox, control: str) -> None:
    async with httpx.AsyncClient(verify=TLS) as client:
        set_to = await client.post(f"{control}/faults", json={"spec": "getMe:5xx:1", "seed": 1})
        assert set_to.json()["result"]["rules"] == [
            {"method": "getMe", "kind": "5xx", "rate": 1.0, "delay": 15.0}
        ]
        assert (await raw("getMe"))[0] == 502
        shown = (await client.get(f"{control}/faults")).json()["result"]
        assert [f["kind"] for f in shown["fired"]] == ["5xx"]
        bad = await client.post(f"{control}/faults", json={"spec": "getMe:explode:1"})
        assert bad.status_code == 400 and "kind must be one of" in bad.json()["description"]
        await client.post(f"{control}/faults", json={"spec": ""})
    assert (await raw("getMe"))[0] == 200


async def test_fail_next_still_works_beside_faults(
    bot: telegram.Bot, tg: dict[str, Any], sb: Sandbox
) -> None:
    sb.telegram.set_faults("getMe:5xx:1")
    sb.telegram.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the channel chat")
    with pytest.raises(telegram.error.Forbidden):
        await bot.send_message(tg["channel_id"], "x")
    assert (await bot.send_message(tg["channel_id"], "y")).text == "y"


async def test_injected_429_carries_retry_after_and_sends_nothing(sb: Sandbox) -> None:
    info = sb.info()["telegram"]
    sb.telegram.set_faults("sendMessage:429:1", seed=1)
    bot = telegram.Bot(info["token"], base_url=info["api_url"], request=make_request())
    async with bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(info["channel_id"], "не дойдёт")
    assert caught.value.retry_after in (1, timedelta(seconds=1))
    assert sb.telegram.messages(info["channel_id"]) == []
