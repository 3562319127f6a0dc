"""A mistake in an event file reaches the library's admins once, in their language."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.app import load_plan, make_notifier, make_refresh
from bot.platforms import build_platforms
from bot.problems import ProblemTeller
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config

BROKEN = """kind = "announcement"
library = "central"
title = "Встреча"
at = 2026-12-05T18:00:00
networks = ["telegram"]
remind_before = ["soon"]
text = "Приходите!"
"""


def _with_admin(box: Sandbox, tmp_path: Path):
    """(admin id, config, env): a library whose admin has started its bot."""
    info = box.info()
    admin = box.telegram.add_user("Мария", "Админ")["id"]
    box.telegram.post_as_user(admin, admin, "/start")
    path = write_config(
        tmp_path, telegram_url=info["telegram"]["api_url"], vk_url=info["vk"]["api_url"]
    )
    path.write_text(path.read_text("utf-8").replace("admins = [42]", f"admins = [{admin}]"))
    env = {TG_ENV: info["telegram"]["token"], VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c"}
    return admin, load_config(path), env


async def test_an_admin_hears_of_a_broken_event_file_once(tmp_path: Path) -> None:
    with Sandbox(seed=5) as box:
        admin, config, env = _with_admin(box, tmp_path)
        (tmp_path / "events" / "meeting.toml").write_text(BROKEN, "utf-8")
        db = open_db(config.storage)
        platforms = build_platforms(config, env)
        teller = ProblemTeller(config, make_notifier(config, platforms))
        for _ in range(3):  # the start, then two refreshes that find the same mistake
            await teller.tell(load_plan(db, config).problems)
        for platform in set(platforms.values()):
            await platform.close()
        notices = [m["text"] for m in box.telegram.messages(admin) if m["from"]["is_bot"]]
    assert len(notices) == 1, notices
    assert notices[0].startswith("⚠️ В файле события ошибка")
    assert "meeting.toml" in notices[0] and "remind_before" in notices[0]


def test_a_file_that_does_not_say_its_library_concerns_every_library(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en")
    east = '\n[[library]]\nid = "east"\nname = "East"\ntimezone = "Asia/Vladivostok"\n'
    east += f'[library.telegram]\ntoken_env = "{TG_ENV}"\nchats = [-1002]\n'
    path.write_text(path.read_text("utf-8") + east, "utf-8")
    config = load_config(path)
    (tmp_path / "events" / "bad.toml").write_text("kind = [", "utf-8")
    teller = ProblemTeller(config, None)  # type: ignore[arg-type]
    notices = teller.new(load_plan(open_db(config.storage), config).problems)
    assert [library for library, _ in notices] == ["central", "east"]
    assert all(n.startswith("⚠️ An event file has a mistake") for _, n in notices)
    assert teller.new(load_plan(open_db(config.storage), config).problems) == []


GOOD = """kind = "announcement"
library = "central"
title = "Лекция"
at = 2030-12-05T18:00:00
networks = ["telegram"]
text = "Приходите!"
"""


async def test_the_scheduler_refresh_plans_new_files_and_tells_of_broken_ones(
    tmp_path: Path,
) -> None:
    with Sandbox(seed=6) as box:
        admin, config, env = _with_admin(box, tmp_path)
        db = open_db(config.storage)
        platforms = build_platforms(config, env)
        notify = make_notifier(config, platforms)
        runner = Runner(db, config, platforms)
        await runner.start()
        # While the bot runs, a librarian adds one good file and one with a mistake.
        (tmp_path / "events" / "lecture.toml").write_text(GOOD, "utf-8")
        (tmp_path / "events" / "meeting.toml").write_text(BROKEN, "utf-8")
        refresh = make_refresh(db, config, runner, ProblemTeller(config, notify))
        # Run as the bot runs it: by the scheduler, now (not waiting for the interval).
        runner.scheduler.add_job(refresh, "date", run_date=datetime.now(UTC))
        planned = False
        for _ in range(200):  # until the job has done its work (a worker thread could not)
            planned = bool(db["events"].count_where("id like '%lecture%'"))
            notices = [m for m in box.telegram.messages(admin) if m["from"]["is_bot"]]
            if planned and notices:
                break
            await asyncio.sleep(0.05)
        await runner.stop()
        for platform in set(platforms.values()):
            await platform.close()
    assert planned and db["actions"].count_where("kind = 'publish'") == 1
    assert len(notices) == 1 and "meeting.toml" in notices[0]["text"]
