"""MAX webhooks through the stand-in: subscription rules, delivery to a local aiohttp
receiver (JSON Update, the secret header, only wanted types), retries until a 200, and the
unsubscription after 8 hours without one (measured on the stand-in's clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from sandbox import max_spec
from sandbox.server import Sandbox
from tests.clocks import FrozenClock

START = 1_790_000_000.0


@pytest.fixture(scope="module")
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(scope="module")
def running(clock: FrozenClock) -> Iterator[Sandbox]:
    with Sandbox(seed=9, clock=clock) as sandbox:
        yield sandbox


@pytest.fixture
def sb(running: Sandbox) -> Sandbox:
    running.reset()
    running.max.allow_insecure_webhooks(False)
    running.max.set_webhook_retry(0.05)
    return running


@pytest.fixture
def mx(sb: Sandbox) -> dict[str, Any]:
    return sb.info()["max"]


@pytest.fixture
async def client(mx: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=mx["api_url"], headers={"Authorization": mx["token"]}, timeout=10
    ) as http:
        yield http


class Receiver:
    """A bot's webhook endpoint: records every request, answers the statuses it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.json()))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async def enough() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/max-hook", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/max-hook"
    yield hook
    await runner.cleanup()


def error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    max_spec.assert_object("Error", response.json(), strict=True)
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "url",
    [
        "http://bot.library.example/hook",
        "https://bot.library.example:8443/hook",
        "http://127.0.0.1:8080/hook",
        "not a url",
    ],
    ids=["plain http", "port other than 443", "loopback without the switch", "garbage"],
)
async def test_max_refuses_webhooks_that_are_not_https_on_443(
    client: httpx.AsyncClient, url: str
) -> None:
    error(await client.post("/subscriptions", json={"url": url}), 400, "bad.request")


async def test_subscriptions_are_listed_and_removed(client: httpx.AsyncClient, sb: Sandbox) -> None:
    hook = {
        "url": "https://bot.library.example/hook",
        "update_types": ["message_callback"],
        "secret": "s3cret_-1",
    }
    answer = await client.post("/subscriptions", json=hook)
    assert answer.json() == {"success": True}
    listed = (await client.get("/subscriptions")).json()
    max_spec.assert_object("GetSubscriptionsResult", listed, strict=True)
    assert listed["subscriptions"][0]["url"] == hook["url"]
    assert listed["subscriptions"][0]["update_types"] == ["message_callback"]
    assert "secret" not in listed["subscriptions"][0]
    # While a subscription exists, long polling is not available (schema: not both at once).
    error(await client.get("/updates", params={"timeout": 0}), 405, "method.not.allowed")
    removed = await client.delete("/subscriptions", params={"url": hook["url"]})
    assert removed.json() == {"success": True}
    assert (await client.get("/updates", params={"timeout": 0})).status_code == 200
    missing = (await client.delete("/subscriptions", params={"url": hook["url"]})).json()
    max_spec.assert_object("SimpleQueryResult", missing, strict=True)
    assert missing["success"] is False and missing["code"]
    error(
        await client.post("/subscriptions", json={"url": hook["url"], "secret": "no"}),
        400,
        "bad.request",
    )
    error(
        await client.post("/subscriptions", json={"url": hook["url"], "update_types": ["nope"]}),
        400,
        "bad.request",
    )


async def test_updates_are_posted_as_json_with_the_secret(
    client: httpx.AsyncClient, sb: Sandbox, mx: dict[str, Any], receiver: Receiver
) -> None:
    assert sb.max.allow_insecure_webhooks(True)
    subscription = {
        "url": receiver.url,
        "secret": "library-secret",
        "update_types": ["message_created", "bot_started"],
    }
    assert (await client.post("/subscriptions", json=subscription)).json()["success"]
    reader = sb.max.add_user()
    sb.max.join(reader["user_id"], mx["chat_id"])  # user_added: not wanted
    sb.max.write(reader["user_id"], mx["chat_id"], "Здравствуйте!")
    sb.max.start_bot(reader["user_id"])
    await receiver.wait_for(2)
    await asyncio.sleep(0.1)
    kinds = [body["update_type"] for _, body in receiver.received]
    assert kinds == ["message_created", "bot_started"]
    for headers, body in receiver.received:
        assert headers["X-Max-Bot-Api-Secret"] == "library-secret"
        assert headers["Content-Type"].startswith("application/json")
        max_spec.assert_object("Update", body, strict=True)
    assert receiver.received[0][1]["message"]["body"]["text"] == "Здравствуйте!"
    assert sb.max.pending_updates() == []  # nothing left for long polling


async def test_delivery_is_retried_until_a_200(
    client: httpx.AsyncClient, sb: Sandbox, mx: dict[str, Any], receiver: Receiver
) -> None:
    sb.max.allow_insecure_webhooks(True)
    receiver.statuses = [500, 204]  # anything but 200 is a failed delivery
    assert (await client.post("/subscriptions", json={"url": receiver.url})).json()["success"]
    reader = sb.max.add_user()
    sb.max.start_bot(reader["user_id"])
    sb.max.write(reader["user_id"], None, "первое")
    await receiver.wait_for(4)
    kinds = [body["update_type"] for _, body in receiver.received]
    assert kinds == ["bot_started", "bot_started", "bot_started", "message_created"]
    for _ in range(100):  # the stand-in logs a delivery once it has read the answer
        if len(sb.max.webhook_deliveries()) == 4:
            break
        await asyncio.sleep(0.02)
    statuses = [d["status"] for d in sb.max.webhook_deliveries()]
    assert statuses == [500, 204, 200, 200]


async def test_after_eight_hours_of_failures_the_bot_is_unsubscribed(
    client: httpx.AsyncClient,
    sb: Sandbox,
    mx: dict[str, Any],
    receiver: Receiver,
    clock: FrozenClock,
) -> None:
    sb.max.allow_insecure_webhooks(True)
    sb.max.set_webhook_retry(0.2)
    receiver.statuses = [503] * 1000
    assert (await client.post("/subscriptions", json={"url": receiver.url})).json()["success"]
    reader = sb.max.add_user()
    sb.max.start_bot(reader["user_id"])
    await receiver.wait_for(1)
    clock.now += 8 * 3600 + 1
    for _ in range(100):
        if not (await client.get("/subscriptions")).json()["subscriptions"]:
            break
        await asyncio.sleep(0.05)
    assert (await client.get("/subscriptions")).json()["subscriptions"] == []
    assert (await client.get("/updates", params={"timeout": 0})).status_code == 200


async def test_an_unreachable_endpoint_counts_as_a_failed_delivery(
    client: httpx.AsyncClient, sb: Sandbox, mx: dict[str, Any]
) -> None:
    sb.max.allow_insecure_webhooks(True)
    assert (await client.post("/subscriptions", json={"url": "http://127.0.0.1:9/hook"})).json()[
        "success"
    ]
    reader = sb.max.add_user()
    sb.max.start_bot(reader["user_id"])
    for _ in range(100):
        if sb.max.webhook_deliveries():
            break
        await asyncio.sleep(0.05)
    first = sb.max.webhook_deliveries()[0]
    assert first["status"] != 200 and first["update_type"] == "bot_started"
    assert sb.state()["max"]["webhook_pending"] == {"http://127.0.0.1:9/hook": 1}
