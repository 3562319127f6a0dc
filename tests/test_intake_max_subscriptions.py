"""A library back on ``updates = "poll"`` after a webhook: MAX refuses long polling (405)
while the bot has a subscription, so the MAX reader deletes the bot's subscriptions at
start (``GET`` and ``DELETE /subscriptions`` on the stand-in, which answers as MAX does) and
tells the admins once per subscription; one made while it runs is not fought."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import build_app
from bot.intake.max import SUBSCRIBED_PAUSE, MaxIntake
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import MAX_ENV, TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, max_table, write_config

HOOK = "http://127.0.0.1:9/max/central"  # nothing listens there: deliveries fail, locally
OTHER = "http://127.0.0.1:9/elsewhere"
ALERT = "у бота была подписка на вебхук"


class Scene:
    """The stand-ins, a library polling MAX with one MAX admin, the app with its readers."""

    def __init__(self, box: Sandbox, tmp_path: Path) -> None:
        self.box, self.mx = box, box.max
        info = box.info()
        tg, vk, mx = info["telegram"], info["vk"], info["max"]
        self.bot_id, self.group = mx["bot_id"], mx["chat_id"]
        self.admin = self.mx.add_user(first_name="Мария")["user_id"]
        self.mx.start_bot(self.admin)  # the admin's dialog: alerts can reach them
        self.reader_id = self.mx.add_user(first_name="Анна")["user_id"]
        self.mx.join(self.reader_id, self.group)
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
            max_section=max_table(
                mx["api_url"], mx["channel_id"], mx["chat_id"], f"admins = [{self.admin}]"
            ),
        )
        path.write_text(path.read_text().replace("admins = [42]", "admins = []"))
        self.config = load_config(path)
        env = {TG_ENV: tg["token"], VK_USER_ENV: vk["user_token"], MAX_ENV: mx["token"]}
        env[VK_COMMUNITY_ENV] = vk["community_token"]
        self.db = open_db(self.config.storage)
        self.app = build_app(self.config, self.db, env=env, rate_limit=False, wait=0)
        self.pauses: list[float] = []

    def reader(self) -> MaxIntake:
        """The app's MAX reader, its pauses noted and cut short."""
        reader = next(i for i in self.app.intakes if isinstance(i, MaxIntake))
        reader.wait = 0

        async def pause(stop: asyncio.Event, seconds: float) -> None:
            self.pauses.append(seconds)
            await asyncio.sleep(0.01)

        reader.pause = pause
        return reader

    async def subscribe(self, url: str = HOOK) -> None:
        """Someone subscribes the bot to ``url`` (the config of before, another program)."""
        self.mx.allow_insecure_webhooks(True)
        client = self.reader().client
        body = {"url": url, "secret": "old-secret-123"}
        assert (await client.call("POST", "/subscriptions", body=body, sending=False))["success"]

    def subscriptions(self) -> list[str]:
        return [s["url"] for s in self.mx.state()["subscriptions"]]

    def alerts(self) -> list[str]:
        """The texts the bot wrote to the MAX admin that tell of a deleted subscription."""
        chats = [
            c["chat_id"]
            for c in self.mx.state()["chats"]
            if c["type"] == "dialog" and c["dialog_with_user"]["user_id"] == self.admin
        ]
        said = [m for m in self.mx.messages(chats[0]) if m["sender"]["user_id"] == self.bot_id]
        return [m["body"]["text"] for m in said if ALERT in (m["body"]["text"] or "")]

    def recorded(self) -> int:
        return self.db["interactions"].count_where("network = 'max' and kind = 'message'")

    async def run_until(self, done, what: str) -> None:
        """Run the MAX reader until ``done()`` holds (an outcome, not a schedule), then stop."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.reader().run(stop))
        try:
            for _ in range(300):
                if done():
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail(f"never happened: {what}")
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await self.app.alerts.drain()


@pytest.fixture
async def scene(tmp_path: Path):
    with Sandbox(seed=31) as box:
        box.max.set_rate_limit(enabled=False)
        scene = Scene(box, tmp_path)
        try:
            yield scene
        finally:
            await scene.app.close()


async def test_a_leftover_webhook_is_deleted_at_start_and_told_once(scene: Scene, caplog) -> None:
    await scene.subscribe(OTHER)  # MAX keeps several side by side: every one goes
    await scene.subscribe()
    scene.mx.write(scene.reader_id, scene.group, "До перезапуска")  # goes to the webhook
    caplog.set_level(logging.INFO, "bot.intake.max")
    await scene.run_until(lambda: not scene.subscriptions(), "the subscription deleted")
    assert scene.subscriptions() == []
    other, alert = scene.alerts()
    assert HOOK in alert and 'updates = "poll"' in alert and "[library.max]" in alert
    assert OTHER in other
    lines = [r.getMessage() for r in caplog.records if "deleted the webhook" in r.getMessage()]
    assert len(lines) == 2 and HOOK in lines[1] and "central" in lines[1]
    assert not any("old-secret-123" in r.getMessage() for r in caplog.records)
    assert scene.db["alerts_told"].count_where("kind = 'webhook_removed'") == 2

    # Polling works again: what a reader writes now is read and recorded.
    scene.mx.write(scene.reader_id, scene.group, "После перезапуска")
    await scene.run_until(lambda: scene.recorded() == 1, "the reader's message recorded")
    assert scene.pauses.count(SUBSCRIBED_PAUSE) == 0  # never refused
    assert len(scene.alerts()) == 2  # a restart with nothing to delete tells nothing

    # Subscribed again later (webhooks tried once more) and back to polling: news again.
    scene.mx.advance_clock(5)
    await scene.subscribe()
    await scene.run_until(lambda: not scene.subscriptions(), "the new subscription deleted")
    assert len(scene.alerts()) == 3


async def test_a_delete_that_failed_at_start_is_tried_again_on_the_405(scene: Scene) -> None:
    await scene.subscribe()
    scene.mx.fail_next("unsubscribe", "service.unavailable", times=1)
    await scene.run_until(lambda: not scene.subscriptions(), "the subscription deleted")
    assert scene.alerts() != []
    scene.mx.write(scene.reader_id, scene.group, "Здравствуйте")
    await scene.run_until(lambda: scene.recorded() == 1, "the reader's message recorded")
    # The start's DELETE failed; the 405 of the first poll brought the second, at once.
    assert SUBSCRIBED_PAUSE not in scene.pauses
    [alert] = scene.alerts()
    assert HOOK in alert


async def test_a_subscription_made_while_polling_is_logged_once_not_fought(
    scene: Scene, caplog
) -> None:
    scene.box.recording = True
    stop = asyncio.Event()
    task = asyncio.create_task(scene.reader().run(stop))
    for _ in range(300):  # the start's look at the subscriptions is over once it polls
        if any(a.method == "getUpdates" for a in scene.box.arrivals):
            break
        await asyncio.sleep(0.02)
    await scene.subscribe()
    for _ in range(300):
        if scene.pauses.count(SUBSCRIBED_PAUSE) >= 3:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert scene.pauses.count(SUBSCRIBED_PAUSE) >= 3  # refused, waited a minute each time
    refusals = [r for r in caplog.records if "HTTP 405" in r.getMessage()]
    assert len(refusals) == 1 and "webhook subscription" in refusals[0].getMessage()
    assert scene.subscriptions() == [HOOK]  # another program's: left alone
    assert [a.method for a in scene.box.arrivals].count("getSubscriptions") == 1
    assert scene.alerts() == []


async def test_a_bad_list_or_a_rejected_token_leaves_polling_to_say_so(
    scene: Scene, caplog
) -> None:
    reader = scene.reader()
    scene.mx.fail_next("getSubscriptions", "verify.token", times=1)
    assert await reader.unsubscribe() is False
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # the poll tells

    async def odd(*args, **kwargs):
        return {"subscriptions": "not a list"}

    real = reader.client.call
    reader.client.call = odd  # type: ignore[method-assign]
    try:
        assert await reader.unsubscribe() is False
    finally:
        reader.client.call = real  # type: ignore[method-assign]
    assert any("without the list" in r.getMessage() for r in caplog.records)
    assert await reader.unsubscribe() is True  # nothing subscribed: nothing to do
