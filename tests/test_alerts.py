"""Alerts to a library's admins, through the stand-ins and the real clients: each fault
tells its alert once, on Telegram and on VK, in Russian for a Russian library.

The bot is built as ``run`` builds it (``build_app``), its clock injected and its actions
fired by hand; the Telegram and VK stand-ins fail what a test asks them to. The admins are
people of the stand-ins: one of each network has opened the chat with the bot, one has not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from bot.app import App, build_app, load_plan
from core.clock import ManualClock
from core.config import Config
from core.config_file import load_config
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

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # the events' 18:00 in Moscow
# What a Russian alert may hold in Latin letters: the networks' own names, the names of
# environment variables (TEST_TG_TOKEN) and of files (config.toml); anything else would be
# English for the reader.
LATIN_ALLOWED = re.compile(
    r"\bTelegram\b|\bMAX\b|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[\w-]+\.toml\b"
)


@dataclass
class Scene:
    """The stand-ins, a one-library bot built as ``run`` builds it, and its admins."""

    box: Sandbox
    config: Config
    db: sqlite_utils.Database
    clock: ManualClock
    env: dict[str, str]
    app: App
    tg_admin: int  # opened the chat with the bot
    tg_silent: int  # never did
    vk_admin: int  # wrote to the community
    vk_silent: int  # never did
    channel: int
    max_dialog: int  # the MAX admin's dialog with the bot
    seen: dict[str, int] = field(default_factory=dict)

    def restart(self) -> None:
        """The bot built anew on the same database (as after a restart)."""
        self.app = build_app(self.config, self.db, env=self.env, clock=self.clock, intakes=False)

    def action(self, event: str, network: str) -> dict:
        [row] = self.db["actions"].rows_where(
            "kind = 'publish' and event_id = ? and network = ?", [f"central/{event}", network]
        )
        return row

    async def fire(self, event: str, network: str) -> dict:
        """Fire one post of ``event`` now and wait for the alerts it started."""
        await self.app.runner.fire(self.action(event, network)["id"])
        await self.app.alerts.drain()
        return self.action(event, network)

    def telegram_texts(self) -> list[str]:
        """What the bot wrote to the Telegram admin, oldest first."""
        bot_id = self.box.info()["telegram"]["bot_id"]
        return [
            m.get("text") or m.get("caption") or ""
            for m in self.box.telegram.messages(self.tg_admin)
            if m.get("from", {}).get("id") == bot_id
        ]

    def vk_texts(self) -> list[str]:
        """What the community wrote to the VK admin, oldest first."""
        return [m["text"] for m in self.box.vk.messages(self.vk_admin) if m["out"]]

    def max_texts(self) -> list[str]:
        """What the bot wrote to the MAX admin, oldest first."""
        bot_id = self.box.info()["max"]["bot_id"]
        return [
            m["body"]["text"]
            for m in self.box.max.messages(self.max_dialog)
            if m.get("sender", {}).get("user_id") == bot_id
        ]

    def new_alerts(self) -> tuple[list[str], list[str]]:
        """The alerts each admin got since the last look."""
        telegram, vk = self.telegram_texts(), self.vk_texts()
        new = telegram[self.seen.get("telegram", 0) :], vk[self.seen.get("vk", 0) :]
        self.seen = {"telegram": len(telegram), "vk": len(vk)}
        return new

    def one_alert(self) -> str:
        """The one new alert, the same on Telegram and on VK, in Russian."""
        telegram, vk = self.new_alerts()
        assert len(telegram) == 1 and telegram == vk, (telegram, vk)
        assert_russian(telegram[0])
        return telegram[0]


def assert_russian(text: str) -> None:
    """No English reaches the reader of a Russian library."""
    left = LATIN_ALLOWED.sub("", text)
    assert not re.search(r"[A-Za-z]", left), f"Latin letters in a Russian alert: {text}"


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    with Sandbox(seed=29) as box:
        info = box.info()
        telegram, vk = info["telegram"], info["vk"]
        tg_admin = box.telegram.add_user("Анна", "Смирнова")["id"]
        tg_silent = box.telegram.add_user("Олег", "Петров")["id"]
        box.telegram.post_as_user(tg_admin, tg_admin, "/start")
        vk_admin, vk_silent = vk["admin_id"], vk["reader_ids"][0]
        box.vk.write(vk_admin, "Начать")
        mx = info["max"]
        max_admin = box.max.add_user()["user_id"]
        max_dialog = box.max.start_bot(max_admin)["chat_id"]
        path = write_config(
            tmp_path,
            telegram_url=telegram["api_url"],
            vk_url=vk["api_url"],
            channel=str(telegram["channel_id"]),
            group_id=vk["group_id"],
            vk_extra=f"admins = [{vk_silent}, {vk_admin}]",
            max_section=max_table(mx["api_url"], mx["channel_id"], extra=f"admins = [{max_admin}]"),
        )
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("admins = [42]", f"admins = [{tg_silent}, {tg_admin}]"))
        for n in range(1, 5):  # four posts at the same time, each to both networks
            write_event(tmp_path, f"club{n}", title=f'"Книжный клуб {n}"')
        config = load_config(path)
        db = open_db(config.storage)
        clock = ManualClock(DUE - timedelta(hours=1))
        assert load_plan(db, config, clock).problems == []
        env = {
            TG_ENV: telegram["token"],
            VK_USER_ENV: vk["user_token"],
            VK_COMMUNITY_ENV: vk["community_token"],
            MAX_ENV: mx["token"],
        }
        app = build_app(config, db, env=env, clock=clock, intakes=False)
        clock.current = DUE
        scene = Scene(
            box, config, db, clock, env, app, tg_admin, tg_silent, vk_admin, vk_silent,
            telegram["channel_id"], max_dialog,
        )  # fmt: skip
        try:
            yield scene
        finally:
            await scene.app.close()


async def test_a_post_the_network_refused_is_told_once_with_what_to_check(scene: Scene) -> None:
    scene.box.telegram.fail_next("sendMessage", 400, "Bad Request: message is too long")
    assert (await scene.fire("club1", "telegram"))["state"] == "failed"
    text = scene.one_alert()
    print(text)
    assert "«Книжный клуб 1» (Telegram, 05.12.2026 18:00) не опубликован" in text
    assert "сеть отклонила содержимое" in text and "Что проверить: текст и картинку" in text
    assert scene.max_texts() == [text]  # and to the admin on MAX, where the library is too
    # The same outcome told again (a runner replaying it) tells nobody again.
    scene.restart()
    await scene.fire("club1", "telegram")  # a final action is not fired again
    assert scene.new_alerts() == ([], [])


async def test_a_channel_not_found_points_at_the_settings(scene: Scene) -> None:
    scene.box.telegram.fail_next("sendMessage", 400, "Bad Request: chat not found")
    assert (await scene.fire("club1", "telegram"))["state"] == "failed"
    text = scene.one_alert()
    assert "не опубликован: канал или сообщество не найдено" in text
    assert "Что проверить: адрес канала или номер сообщества в настройках (config.toml)" in text


async def test_posts_missed_beyond_the_grace_are_told_each_once(scene: Scene) -> None:
    scene.clock.current = DUE + timedelta(minutes=20)  # the bot was down; grace 15 min
    scene.app.runner.rearm()
    await scene.app.alerts.drain()
    # Four events, each on two networks: eight alerts, gathered in one message (eight
    # messages at once would run into a private chat's flood limit).
    text = scene.one_alert()
    print(text)
    alerts = text.split("\n\n")
    assert len(alerts) == 8 and all(a.startswith("⏰ Пост «Книжный клуб") for a in alerts)
    assert "⏰ Пост «Книжный клуб 1» (ВКонтакте, 05.12.2026 18:00) пропущен" in text
    assert all("бот опоздал на 20 мин. (допустимо 15 мин.)" in a for a in alerts)
    assert scene.action("club1", "vk")["state"] == "missed"
    # A restart finds them missed already: nothing is told again.
    scene.restart()
    scene.app.runner.rearm()
    await scene.app.alerts.drain()
    assert scene.new_alerts() == ([], [])


async def test_a_post_whose_answer_was_lost_is_told_as_uncertain(scene: Scene) -> None:
    # Telegram carried the post out, and its answer came back unreadable.
    scene.box.telegram.answer_next("sendMessage", b"<html>Bad Gateway</html>", status=200)
    assert (await scene.fire("club2", "telegram"))["state"] == "uncertain"
    text = scene.one_alert()
    print(text)
    assert text.startswith("❓ Пост «Книжный клуб 2» (Telegram, 05.12.2026 18:00)")
    assert "неизвестно, вышел ли он" in text and "Посмотрите в канале" in text
    assert len(scene.box.telegram.messages(scene.channel)) == 1  # it did go out, once


@pytest.mark.parametrize(
    ("network", "fault", "kind", "variable"),
    [
        ("telegram", (401, "Unauthorized"), "token", TG_ENV),
        ("vk", 5, "token", VK_USER_ENV),
        ("telegram", (403, "Forbidden: bot is not a member of the channel chat"), "right", TG_ENV),
        ("vk", 15, "right", VK_USER_ENV),
    ],
    ids=["telegram-token", "vk-token", "telegram-right", "vk-right"],
)
async def test_a_token_refused_is_told_once_per_trouble(
    scene: Scene, network: str, fault, kind: str, variable: str
) -> None:
    def refuse() -> None:
        if network == "telegram":
            scene.box.telegram.fail_next("sendMessage", *fault)
        else:
            scene.box.vk.fail_next("wall.post", fault)

    refuse()
    assert (await scene.fire("club1", network))["state"] == "failed"
    text = scene.one_alert()
    print(text)
    title = "ВКонтакте" if network == "vk" else "Telegram"
    if kind == "token":
        assert text.startswith(f"⛔ {title} не принимает токен бота из переменной {variable}")
        assert f"получите новый токен, запишите его в {variable}" in text
    else:
        assert text.startswith(f"🚫 {title}: у бота нет нужного права")
    assert "не опубликован пост «Книжный клуб 1»" in text
    # The same trouble again, and again after a restart: the posts it costs are not told.
    refuse()
    assert (await scene.fire("club2", network))["state"] == "failed"
    scene.restart()
    refuse()
    assert (await scene.fire("club3", network))["state"] == "failed"
    assert scene.new_alerts() == ([], [])
    # A post goes out there again: the trouble is over, and the next one is news.
    assert (await scene.fire("club3", "telegram" if network == "vk" else "vk"))["state"] == "sent"
    assert scene.new_alerts() == ([], [])  # the other network's post ends nothing here
    scene.db["actions"].update(scene.action("club3", network)["id"], {"state": "pending"})
    assert (await scene.fire("club3", network))["state"] == "sent"
    refuse()
    assert (await scene.fire("club4", network))["state"] == "failed"
    assert "«Книжный клуб 4»" in scene.one_alert()


async def test_a_telegram_token_that_stopped_working_is_told_to_the_vk_admins(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    scene.env[TG_ENV] = "123456:" + "A" * 35  # shaped like a token; Telegram answers 401
    scene.restart()
    assert (await scene.fire("club1", "telegram"))["state"] == "failed"
    telegram, [text] = scene.new_alerts()
    assert telegram == []  # the rejected bot cannot write to anyone
    assert_russian(text)
    assert text.startswith(f"⛔ Telegram не принимает токен бота из переменной {TG_ENV}")
    assert scene.env[TG_ENV] not in text
    assert any("cannot tell the admins of central" in r.getMessage() for r in caplog.records)


async def test_a_right_taken_from_the_bot_is_a_right_lost_not_a_bad_post(scene: Scene) -> None:
    scene.box.telegram.set_bot_rights(scene.channel, {"can_post_messages": False})
    action = await scene.fire("club1", "telegram")
    assert action["state"] == "failed" and "Need administrator rights" in action["error"]
    text = scene.one_alert()
    assert text.startswith("🚫 Telegram: у бота нет нужного права")
    assert "администратор канала с правом публиковать сообщения" in text


async def test_a_long_wait_asked_for_is_told_at_once_and_once(scene: Scene) -> None:
    scene.box.telegram.fail_next("sendMessage", 429, "Too Many Requests", retry_after=900)
    action = await scene.fire("club1", "telegram")
    assert action["state"] == "pending" and action["retry_at"] is not None  # tried later
    text = scene.one_alert()
    print(text)
    assert text.startswith("🐢 Telegram велел боту подождать 15 мин., прежде чем отправлять")
    assert "не ушедший за 1 ч после своего времени" in text
    # Waited again after a restart: the same trouble, not told again.
    scene.restart()
    scene.box.telegram.fail_next("sendMessage", 429, "Too Many Requests", retry_after=900)
    await scene.fire("club2", "telegram")
    assert scene.new_alerts() == ([], [])
    # Posts go out again; a new long wait later is news again.
    scene.clock.current = DUE + timedelta(minutes=20)
    assert (await scene.fire("club1", "telegram"))["state"] == "sent"
    scene.box.telegram.fail_next("sendMessage", 429, "Too Many Requests", retry_after=900)
    assert (await scene.fire("club2", "telegram"))["state"] == "pending"  # its retry, refused
    assert scene.one_alert().startswith("🐢 Telegram велел боту подождать")


async def test_short_waits_that_last_past_ten_minutes_are_told_once(scene: Scene) -> None:
    vk = scene.box.vk
    # VK keeps saying "rate limit reached" (error 29); the runner's waits grow to 5 min.
    for _ in range(12):
        vk.fail_next("wall.post", 29)
        action = await scene.fire("club1", "vk")
        assert action["state"] == "pending"
        scene.clock.current = datetime.fromisoformat(action["retry_at"])
    told = scene.new_alerts()
    assert len(told[0]) == 1 and told[0] == told[1]
    print(told[0][0])
    lasted = re.match(r"🐢 ВКонтакте уже (\d+) мин\. не даёт боту отправлять", told[0][0])
    assert lasted and 10 <= int(lasted[1]) <= 17  # the retry after 10 min: at most 6.25 min later
    assert (await scene.fire("club1", "vk"))["state"] == "sent"  # VK takes it at last
    assert scene.new_alerts() == ([], [])


async def test_admins_who_never_opened_the_chat_are_skipped_quietly(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    scene.box.vk.fail_next("wall.post", 100)  # VK refuses the post's content
    assert (await scene.fire("club1", "vk"))["state"] == "failed"
    assert "не опубликован" in scene.one_alert()  # the admins who opened the chat have it
    refused = [r.getMessage() for r in caplog.records if "could not tell admin" in r.getMessage()]
    assert any(f"admin {scene.tg_silent}" in m and "initiate" in m for m in refused)
    assert any(f"admin {scene.vk_silent}" in m and "[901]" in m for m in refused)
    assert all(r.levelno < logging.ERROR for r in caplog.records)
    # The bot goes on: the next posts go out.
    assert (await scene.fire("club2", "vk"))["state"] == "sent"
    assert (await scene.fire("club2", "telegram"))["state"] == "sent"


async def test_an_alert_held_up_by_a_private_chat_flood_limit_is_sent_after_the_wait(
    scene: Scene,
) -> None:
    scene.box.vk.fail_next("wall.post", 100)
    # Telegram refuses the next three notices for a second (flood control): the first
    # admin's three attempts (never opened the chat: given up), then the other admin's
    # notice goes through; without the waits it would have been refused and lost.
    scene.box.telegram.fail_next("sendMessage", 429, "Too Many Requests", retry_after=1, times=3)
    assert (await scene.fire("club1", "vk"))["state"] == "failed"
    assert "«Книжный клуб 1» (ВКонтакте" in scene.one_alert()


async def test_a_token_refused_when_reading_figures_is_told_without_a_lost_post(
    scene: Scene,
) -> None:
    assert (await scene.fire("club1", "vk"))["state"] == "sent"
    scene.box.vk.fail_next("execute", 5)  # the figures' read: the user token rejected
    [snapshot] = scene.db["actions"].rows_where("kind = 'snapshot' and network = 'vk'")
    scene.clock.current = DUE + timedelta(hours=1)
    await scene.app.runner.fire(snapshot["id"])
    await scene.app.alerts.drain()
    assert scene.db["actions"].get(snapshot["id"])["state"] == "failed"
    text = scene.one_alert()
    assert text.startswith(f"⛔ ВКонтакте не принимает токен бота из переменной {VK_USER_ENV}")
    assert "не опубликован" not in text


async def test_the_bot_removed_from_the_channel_and_a_right_taken_on_vk_are_told(
    scene: Scene,
) -> None:
    scene.box.telegram.remove_bot(scene.channel)
    action = await scene.fire("club1", "telegram")
    assert action["state"] == "failed" and "Forbidden" in action["error"]
    assert scene.one_alert().startswith("🚫 Telegram: у бота нет нужного права")
    scene.box.vk.set_token_rights(scene.env[VK_USER_ENV], take=["wall"])
    action = await scene.fire("club1", "vk")
    assert action["state"] == "failed"
    text = scene.one_alert()
    print(action["error"], text)
    assert text.startswith("🚫 ВКонтакте: у бота нет нужного права")
    assert "у токена есть доступ к стене и фотографиям" in text


async def test_the_update_readers_token_trouble_lasts_until_that_token_works(
    scene: Scene,
) -> None:
    alerts = scene.app.alerts
    # The VK long poll's community token is refused (what ``VkIntake`` tells the alerts).
    await alerts.token_refused("central", "vk", VK_COMMUNITY_ENV)
    text = scene.one_alert()
    assert text.startswith(f"⛔ ВКонтакте не принимает токен бота из переменной {VK_COMMUNITY_ENV}")
    # A wall post goes out with the user token: that says nothing of the community token.
    assert (await scene.fire("club1", "vk"))["state"] == "sent"
    await alerts.token_refused("central", "vk", VK_COMMUNITY_ENV)
    assert scene.new_alerts() == ([], [])
    # The long poll works again; a later refusal is news.
    alerts.token_works("central", "vk", VK_COMMUNITY_ENV)
    await alerts.token_refused("central", "vk", VK_COMMUNITY_ENV, forbidden=True)
    assert scene.one_alert().startswith("🚫 ВКонтакте: у бота нет нужного права")
