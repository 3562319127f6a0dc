"""What keeps a busy bot's posts on time, through the stand-ins and the real clients.

The Telegram reader looks its chats up outside the messages' rate limiter; the refresh
parses the event files in a worker thread; what start-up made is kept out of the garbage
collector's full passes while the bot runs (and let go when it stops).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.app as app_module
from bot.app import build_app, load_plan, make_refresh, run_bot
from bot.intake.telegram import TelegramIntake
from bot.problems import ProblemTeller
from bot.run_lines import RunLines
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event


@pytest.fixture
def box():
    with Sandbox(seed=23) as sandbox:
        yield sandbox


def _setup(box: Sandbox, folder: Path):
    """A one-library config on the stand-ins, and the tokens to run it with."""
    info = box.info()
    path = write_config(
        folder,
        telegram_url=info["telegram"]["api_url"],
        channel=str(info["telegram"]["channel_id"]),
        vk_url=info["vk"]["api_url"],
        group_id=info["vk"]["group_id"],
    )
    env = {
        TG_ENV: info["telegram"]["token"],
        VK_USER_ENV: info["vk"]["user_token"],
        VK_COMMUNITY_ENV: info["vk"]["community_token"],
    }
    return load_config(path), env, info


async def test_telegram_reader_looks_chats_up_outside_the_rate_limiter(box, tmp_path):
    config, env, info = _setup(box, tmp_path)
    db = open_db(config.storage)
    app = build_app(config, db, env=env, tell_admins=False, wait=0)
    try:
        [intake] = [i for i in app.intakes if isinstance(i, TelegramIntake)]
        platform = app.platforms[("central", "telegram")]
        # Posts keep their limiter; 1,000 lookups at start-up must not queue in front of them.
        assert platform.bot.rate_limiter is not None
        assert intake.reader is platform.reader and intake.reader.rate_limiter is None
        box.recording = True
        await intake.start()
        assert [a.method for a in box.arrivals].count("getChat") == 1
        channel = info["telegram"]["channel_id"]
        assert intake._library_of[channel] == "central"  # the chat is known as the library's
    finally:
        await app.close()


async def test_refresh_parses_the_files_off_the_event_loop(box, tmp_path, monkeypatch):
    config, env, _ = _setup(box, tmp_path)
    db = open_db(config.storage)
    load_plan(db, config)
    app = build_app(config, db, env=env, tell_admins=False, intakes=False)
    threads: list[threading.Thread] = []
    real = app_module.load_events

    def load_events(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "load_events", load_events)
    at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    write_event(config.events_dir.parent, "club", at=at)
    refresh = make_refresh(db, config, app.runner, ProblemTeller(config, None))
    try:
        await app.start()
        await refresh()
        assert threads and threads[0] is not threading.main_thread()
        # ...and what it parsed is planned and armed, as before.
        assert db["events"].count_where("id = 'central/club'") == 1
        pending = db["actions"].count_where("event_id = 'central/club' and state = 'pending'")
        assert pending == 2 and len(app.runner._armed) == 2
    finally:
        await app.stop()


async def test_run_keeps_start_up_out_of_full_collections_until_it_stops(box, tmp_path):
    config, env, _ = _setup(box, tmp_path)
    at = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    write_event(config.events_dir.parent, "club", at=at)
    said: list[str] = []
    lines = RunLines(open_db(config.storage), config, said.append)
    stop = asyncio.Event()
    assert gc.get_freeze_count() == 0
    running = asyncio.create_task(run_bot(config, env=env, stop=stop, lines=lines))
    try:
        for _ in range(500):
            if said or running.done():
                break
            await asyncio.sleep(0.01)
        assert said, "the bot did not start"
        assert gc.get_freeze_count() > 0  # the armed jobs, the adapters, the plan
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert gc.get_freeze_count() == 0  # a stopped bot's objects may be collected again
    assert said[-1] == "Бот остановлен."
