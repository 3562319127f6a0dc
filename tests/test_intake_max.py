"""MAX intake against the stand-in: long polling with the stored marker, webhooks through
bibliobot's own server, participation under pseudonyms, bad updates skipped."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.app import build_app, load_plan, make_intakes
from bot.intake.max import MaxIntake
from bot.intake.max_webhook import SECRET_HEADER, WebhookServer
from core.config_file import load_config
from core.interactions import get_offset, library_secret, pseudonym
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import (
    MAX_ENV,
    TG_ENV,
    VK_COMMUNITY_ENV,
    VK_USER_ENV,
    max_table,
    write_config,
    write_event,
)

SECRET_ENV = "TEST_MAX_WEBHOOK_SECRET"
SECRET = "hook_secret-123"


class Scene:
    """The stand-in, a config with a MAX channel and quiz chat, the app (no readers yet)."""

    def __init__(self, box: Sandbox, tmp_path: Path, max_extra: str = "") -> None:
        self.box = box
        info = box.info()
        self.mx = info["max"]
        self.channel, self.group = self.mx["channel_id"], self.mx["chat_id"]
        path = write_config(
            tmp_path,
            telegram_url=info["telegram"]["api_url"],
            vk_url=info["vk"]["api_url"],
            channel=str(info["telegram"]["channel_id"]),
            group_id=info["vk"]["group_id"],
            max_section=max_table(self.mx["api_url"], self.channel, self.group, max_extra),
        )
        self.config = load_config(path)
        self.env = {
            TG_ENV: info["telegram"]["token"],
            VK_USER_ENV: info["vk"]["user_token"],
            VK_COMMUNITY_ENV: info["vk"]["community_token"],
            MAX_ENV: self.mx["token"],
            SECRET_ENV: SECRET,
        }
        self.db = open_db(self.config.storage)
        self.db["libraries"].insert({"id": "central", "name": "Центральная", "paused": 0})
        self.app = build_app(self.config, self.db, env=self.env, intakes=False, tell_admins=False)
        self.tmp_path = tmp_path

    def reader(self, **kwargs) -> MaxIntake:
        platform = self.app.platforms[("central", "max")]
        return MaxIntake(self.db, platform.client, list(self.config.libraries), wait=0, **kwargs)

    async def publish(self) -> dict:
        """An announcement to the MAX channel, through the runner; its publication."""
        write_event(self.tmp_path, "club", at="2030-01-01T18:00:00", networks='["max"]')
        load_plan(self.db, self.config)
        [action] = self.db["actions"].rows_where("kind = 'publish' and network = 'max'")
        await self.app.runner.fire(action["id"])
        return next(self.db["publications"].rows_where("network = 'max'"))

    def rows(self, kind: str | None = None) -> list[dict]:
        where = "network = 'max'" + ("" if kind is None else " and kind = ?")
        return list(self.db["interactions"].rows_where(where, [kind] if kind else []))

    def person(self, user_id: int) -> str:
        return pseudonym(library_secret(self.db, "central"), "max", user_id)


@pytest.fixture
def box():
    with Sandbox(seed=23) as sandbox:
        sandbox.max.set_rate_limit(enabled=False)
        yield sandbox


async def test_messages_comments_and_joins_are_recorded_once(box, tmp_path: Path) -> None:
    scene = Scene(box, tmp_path)
    publication = await scene.publish()
    reader = scene.reader()
    await reader.poll_once()  # what came before (the bot's own post): nothing recorded
    assert scene.rows() == []

    anna = box.max.add_user(first_name="Анна", last_name="Книгина")["user_id"]
    box.max.join(anna, scene.group)
    box.max.write(anna, scene.group, "Добрый вечер!")
    comment = box.max.comment(anna, publication["remote_id"], "Приду!")
    box.max.post_as_admin(scene.group, "Объявление от библиотеки")  # the owner: counted too
    assert await reader.poll_once() == 4

    [join] = scene.rows("join")
    assert join["target"] == str(scene.group) and join["person"] == scene.person(anna)
    [message] = [r for r in scene.rows("message") if r["person"] == scene.person(anna)]
    assert message["target"] == str(scene.group)
    [stored] = scene.rows("comment")
    assert stored["publication_id"] == publication["id"]
    assert json.loads(stored["detail"])["comment_id"] == comment["body"]["mid"]
    # No reader's id or name anywhere in what was stored.
    dump = json.dumps(scene.rows(), ensure_ascii=False)
    assert str(anna) not in dump and "Анна" not in dump and "Книгина" not in dump

    # The marker is stored with the batch: a restarted reader gets only what is new.
    marker = get_offset(scene.db, reader.source)
    assert marker is not None
    before = len(scene.rows())
    box.max.write(anna, scene.group, "Ещё одно")
    restarted = scene.reader()
    assert await restarted.poll_once() == 1
    assert len(scene.rows()) == before + 1
    assert await restarted.poll_once() == 0
    assert get_offset(scene.db, reader.source) > marker
    await scene.app.close()


async def test_a_batch_the_database_refuses_comes_again_and_counts_once(
    box, tmp_path: Path
) -> None:
    scene = Scene(box, tmp_path)
    reader = scene.reader()
    await reader.poll_once()
    users = [box.max.add_user(first_name=f"Читатель{n}")["user_id"] for n in range(3)]
    for user in users:
        box.max.join(user, scene.group)
        box.max.write(user, scene.group, "Здравствуйте")

    def refuse(*args, **kwargs):
        raise __import__("sqlite3").OperationalError("database or disk is full")

    real = reader._count_votes
    reader._count_votes = refuse  # the batch's last write fails: nothing of it is kept
    with pytest.raises(Exception, match="disk is full"):
        await reader.poll_once()
    assert scene.rows() == []
    reader._count_votes = real
    assert await reader.poll_once() == 6  # the same updates again: the marker did not move
    assert len(scene.rows("message")) == 3 and len(scene.rows("join")) == 3
    assert await reader.poll_once() == 0
    await scene.app.close()


async def test_malformed_and_unknown_updates_are_skipped(box, tmp_path: Path) -> None:
    scene = Scene(box, tmp_path)
    reader = scene.reader()
    await reader.poll_once()
    anna = box.max.add_user(first_name="Анна")["user_id"]
    box.max.join(anna, scene.group)
    box.max.write(anna, scene.group, "Первое")
    client = reader.client
    real_call = client.call

    async def call(verb, path, **kwargs):
        answer = await real_call(verb, path, **kwargs)
        if path == "/updates" and answer.get("updates"):
            bad = [
                {"update_type": "message_created", "message": None},
                {"update_type": "message_callback", "callback": {"payload": "x"}},
                {"update_type": "user_added", "chat_id": scene.group},
                {"update_type": "dialog_muted", "chat_id": 1, "timestamp": 1},
                ["not", "an", "object"],
            ]
            answer = {**answer, "updates": bad + answer["updates"]}
        return answer

    client.call = call  # type: ignore[method-assign]
    try:
        assert await reader.poll_once() == 7
    finally:
        del client.call
    [message] = scene.rows("message")
    assert message["person"] == scene.person(anna)
    assert await reader.poll_once() == 0
    await scene.app.close()


async def test_polling_starts_by_deleting_a_webhook_subscription(box, tmp_path, caplog) -> None:
    """MAX refuses long polling beside a subscription (405): a reader in poll mode deletes
    it at start (tests/test_intake_max_subscriptions.py: the admins told, the rest)."""
    scene = Scene(box, tmp_path)
    reader = scene.reader()
    box.max.allow_insecure_webhooks(True)
    await reader.client.call(
        "POST", "/subscriptions", body={"url": "http://127.0.0.1:9/x"}, sending=False
    )
    reader.pause = _no_pause
    stop = asyncio.Event()
    task = asyncio.create_task(reader.run(stop))
    for _ in range(250):
        if not box.max.state()["subscriptions"]:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert box.max.state()["subscriptions"] == []
    assert not [r for r in caplog.records if "HTTP 405" in r.getMessage()]
    await scene.app.close()


async def _no_pause(stop: asyncio.Event, seconds: float) -> None:
    await asyncio.sleep(0.05)


async def test_webhooks_with_the_right_secret_are_recorded(box, tmp_path: Path) -> None:
    hook = 'updates = "webhook"\nwebhook_url = "https://library.example/max/central"\n'
    hook += f'webhook_secret_env = "{SECRET_ENV}"'
    scene = Scene(box, tmp_path, hook)
    box.max.allow_insecure_webhooks(True)
    box.max.set_webhook_retry(0.05)
    # Our server on a free port; the config's URL names it.
    config = replace(scene.config, webhook=replace(scene.config.webhook, listen="127.0.0.1:0"))
    readers = make_intakes(scene.db, config, scene.app.platforms, scene.env, wait=0)
    [reader] = [r for r in readers if isinstance(r, MaxIntake)]
    [server] = [r for r in readers if isinstance(r, WebhookServer)]
    stop = asyncio.Event()
    serving = asyncio.create_task(server.run(stop))
    for _ in range(100):
        if server.port:
            break
        await asyncio.sleep(0.02)
    # The stand-in's insecure_webhooks switch lets it post to plain HTTP on 127.0.0.1, where
    # the library's HTTPS reverse proxy would pass it on in production.
    assert reader.webhook_url == "https://library.example/max/central"
    url = f"http://127.0.0.1:{server.port}/max/central"
    reader.webhook_url = url
    subscribing = asyncio.create_task(reader.run(stop))
    for _ in range(100):
        subscriptions = await reader.client.call("GET", "/subscriptions", sending=False)
        if subscriptions["subscriptions"]:
            break
        await asyncio.sleep(0.02)
    assert subscriptions["subscriptions"][0]["url"] == url

    anna = box.max.add_user(first_name="Анна")["user_id"]
    box.max.join(anna, scene.group)
    box.max.write(anna, scene.group, "Через вебхук")
    for _ in range(200):
        if len(scene.rows()) == 2:
            break
        await asyncio.sleep(0.02)
    assert {r["kind"] for r in scene.rows()} == {"join", "message"}
    deliveries = box.max.webhook_deliveries()
    assert [d["status"] for d in deliveries][-2:] == [200, 200]

    # A request with a wrong secret (or none) is refused and not recorded.
    async with httpx.AsyncClient() as http:
        update = {
            "update_type": "user_added",
            "timestamp": 1,
            "chat_id": scene.group,
            "user": {"user_id": 777, "name": "Чужой"},
        }
        wrong = await http.post(url, json=update, headers={SECRET_HEADER: "wrong-secret"})
        none = await http.post(url, json=update)
        bad = await http.post(url, content=b"{not json", headers={SECRET_HEADER: SECRET})
        right = await http.post(url, json=update, headers={SECRET_HEADER: SECRET})
    assert (wrong.status_code, none.status_code) == (401, 401)
    assert bad.status_code == 200  # taken and skipped: MAX would deliver it again forever
    assert right.status_code == 200
    assert len(scene.rows("join")) == 2
    stop.set()
    await asyncio.wait_for(asyncio.gather(serving, subscribing), 5)
    await scene.app.close()
