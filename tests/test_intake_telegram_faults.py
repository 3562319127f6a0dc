"""The Telegram intake against servers that misbehave: the real client, the stand-in's faults.

A server that takes method names case-sensitively, one update that does not parse, a
getUpdates that answers at once instead of holding the long poll, a token the server
rejects. Waits are recorded, never slept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import ExtBot

from bot.alerts import Alerts
from bot.app import make_intakes, make_notifier
from bot.intake import telegram as intake_module
from bot.intake.telegram import TelegramIntake
from bot.platforms import build_platforms
from core.config import Config, LibraryConfig, TelegramConfig
from core.config_file import load_config
from core.interactions import get_offset
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config
from tests.telegram_clients import make_request

ZONE = ZoneInfo("Europe/Moscow")
WRONG = "123456:" + "A" * 35  # shaped like a token: the server answers 401 Unauthorized


@dataclass
class Scene:
    """The stand-in, the database and the two libraries sharing one bot."""

    box: Sandbox
    info: dict
    db: object
    libraries: list[LibraryConfig]

    def bot(self, token: str | None = None) -> ExtBot:
        return ExtBot(
            token or self.info["token"],
            base_url=self.info["api_url"],
            request=make_request(),
            get_updates_request=make_request(),
        )

    def rows(self) -> list[dict]:
        return list(self.db["interactions"].rows)


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    with Sandbox(seed=3) as box:
        info = box.info()["telegram"]
        db = open_db(tmp_path / "bibliobot.db")
        libraries = [
            _library("central", f"@{info['channel_username']}", info["api_url"]),
            _library("branch", str(info["group_id"]), info["api_url"]),
        ]
        for library in libraries:
            db["libraries"].insert(
                {"id": library.id, "name": library.name, "timezone": ZONE.key, "paused": 0}
            )
        yield Scene(box, info, db, libraries)


def _library(library_id: str, chat: str, api_url: str) -> LibraryConfig:
    telegram = TelegramConfig(TG_ENV, (chat,), api_url)
    return LibraryConfig(library_id, library_id.title(), ZONE, telegram=telegram)


async def test_a_bad_update_is_skipped_on_a_server_strict_about_method_names(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    bot = scene.bot()
    intake = TelegramIntake(scene.db, bot, scene.libraries, poll_timeout=0)
    await intake.poll_once()  # names the update types, reactions among them
    scene.box.telegram.strict_names = True  # "getupdates" is a 404 here
    group, telegram = scene.info["group_id"], scene.box.telegram
    reader = telegram.add_user()
    telegram.post_as_user(reader["id"], group, "До странного обновления")
    broken = {"chat": {"id": group, "type": "supergroup"}}  # no message_id, date, reactions
    telegram._locked(lambda world: world.push_update("message_reaction_count", broken))
    telegram.post_as_user(reader["id"], group, "После него")
    last = telegram.pending_updates()[-1]["update_id"]

    assert await intake.poll_once() == 3
    assert [r["kind"] for r in scene.rows()] == ["message", "message"]
    assert get_offset(scene.db, f"telegram:{bot.id}") == last + 1
    assert await intake.poll_once() == 0  # past the bad one for good
    assert any("did not parse" in r.getMessage() for r in caplog.records)
    await bot.shutdown()


async def test_a_server_that_answers_at_once_is_polled_once_a_second(scene: Scene) -> None:
    scene.box.telegram.long_poll_cap = 0  # asked to hold 25 s, it answers empty at once
    bot = scene.bot()
    intake = TelegramIntake(scene.db, bot, scene.libraries, poll_timeout=25)
    stop = asyncio.Event()
    pauses: list[float] = []

    async def recorded(stop: asyncio.Event, seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 5:
            stop.set()

    intake.pause = recorded
    await intake.start()
    scene.box.recording = True
    task = asyncio.create_task(intake.run(stop))
    await asyncio.wait({task}, timeout=2)  # today's code would spin the whole time
    stop.set()
    await task
    polls = [a for a in scene.box.arrivals if a.method == "getUpdates"]
    assert pauses == [intake_module.EMPTY_PAUSE] * 5
    assert len(polls) == 5  # each empty answer was followed by a pause
    await bot.shutdown()


def test_a_held_long_poll_or_updates_are_not_followed_by_a_pause() -> None:
    empty_pause, EMPTY_PAUSE = intake_module.empty_pause, intake_module.EMPTY_PAUSE  # noqa: N806
    assert empty_pause(handled=0, took=0.01, timeout=25) == EMPTY_PAUSE
    assert empty_pause(handled=0, took=25.0, timeout=25) == 0  # held: the server did its wait
    assert empty_pause(handled=0, took=0.01, timeout=0) == 0  # short polling asked for
    assert empty_pause(handled=7, took=0.01, timeout=25) == 0  # more may be waiting


@pytest.mark.parametrize("token", [WRONG, "123:wrong"], ids=["unauthorized", "malformed"])
async def test_a_rejected_token_stops_the_intake_and_tells_each_library_once(
    scene: Scene, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = scene.bot(token)
    told: list[tuple[str, str]] = []

    async def notify(library_id: str, text: str, attachment=None) -> int:
        told.append((library_id, text))
        return 1

    config = Config(Path("c.toml"), Path("b.db"), Path("."), "en", libraries=(*scene.libraries,))
    alerts = Alerts(scene.db, config, notify)
    intake = TelegramIntake(scene.db, bot, scene.libraries, poll_timeout=25, alerts=alerts)
    intake.retry_delay = 0.01
    scene.box.recording = True
    await asyncio.wait_for(intake.run(asyncio.Event()), timeout=2)  # returns by itself
    assert [a.method for a in scene.box.arrivals] == ["getMe"]  # no second attempt
    assert [library for library, _ in told] == ["central", "branch"]
    assert all("rejects the bot's token from the variable TEST_TG_TOKEN" in t for _, t in told)
    assert all(token not in text for _, text in told)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "token" in error.getMessage() and token not in error.getMessage()
    await bot.shutdown()


async def test_a_rejected_token_in_the_running_bot_is_logged_as_an_error_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The wiring of ``run``: the notice cannot go through the rejected bot itself."""
    with Sandbox(seed=4) as box:
        info = box.info()
        path = write_config(tmp_path, telegram_url=info["telegram"]["api_url"], language="en")
        config = load_config(path)
        env = {TG_ENV: WRONG, VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c"}
        db = open_db(config.storage)
        platforms = build_platforms(config, env)
        notify = make_notifier(config, platforms)
        [intake] = [
            i
            for i in make_intakes(db, config, platforms, env, notify=notify)
            if isinstance(i, TelegramIntake)
        ]
        box.recording = True
        await asyncio.wait_for(intake.run(asyncio.Event()), timeout=2)
        for platform in set(platforms.values()):
            await platform.close()
        calls = [a.method for a in box.arrivals if a.network == "telegram"]
    assert calls == ["getMe", "getMe"]  # the intake's, then the notice's: nothing sent
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2, errors  # what the intake saw, and the notice nobody could get
    assert "central" in errors[1] and "rejects the bot's token" in errors[1]
    assert all(WRONG not in e for e in errors)
