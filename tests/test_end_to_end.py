"""End to end through real HTTP: event file → both stand-ins on time → database → report.

The real python-telegram-bot and vk_api clients talk to the stand-ins; the
event is scheduled a second ahead, so nothing sleeps for a schedule.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import load_plan
from bot.platforms import build_platforms
from core.config_file import load_config
from core.storage import open_db
from reports.output import from_config
from reports.period import date_range
from reports.text import to_csv
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ZONE = ZoneInfo("Asia/Yekaterinburg")


@pytest.fixture
def sandbox():
    with Sandbox(seed=7) as box:
        yield box


def setup(tmp_path: Path, sandbox: Sandbox, lead: float = 1.0, snapshots: str = '["1s"]'):
    info = sandbox.info()
    config_path = write_config(
        tmp_path,
        telegram_url=info["telegram"]["api_url"],
        vk_url=info["vk"]["api_url"],
        channel=str(info["telegram"]["channel_id"]),
        group_id=info["vk"]["group_id"],
        timezone=ZONE.key,
        snapshots=snapshots,
    )
    (tmp_path / "events" / "poster.png").write_bytes(
        (TEMPLATES / "events" / "ru" / "announcement.png").read_bytes()
    )
    at = (
        (datetime.now(UTC) + timedelta(seconds=lead))
        .astimezone(ZONE)
        .replace(tzinfo=None, microsecond=0)
    )
    write_event(tmp_path, at=at.isoformat(), image='"poster.png"', title='"Ночь в библиотеке"')
    env = {
        TG_ENV: info["telegram"]["token"],
        VK_USER_ENV: info["vk"]["user_token"],
        VK_COMMUNITY_ENV: info["vk"]["community_token"],
    }
    config = load_config(config_path)
    db = open_db(config.storage)
    assert load_plan(db, config).problems == []
    return info, config, db, env, at


async def wait_for(predicate, timeout: float = 15.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.02)


async def run_until_done(runner: Runner, platforms: dict) -> None:
    try:
        assert await runner.wait_until_done(timeout=20)
    finally:
        await runner.stop()
        for platform in platforms.values():
            await platform.close()


async def test_announcement_posted_to_both_networks_and_reported(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    info, config, db, env, at = setup(tmp_path, sandbox)
    platforms = build_platforms(config, env)
    runner = Runner(db, config, platforms)
    assert await runner.start() == 2
    await wait_for(lambda: db["publications"].count == 2)
    group_id = info["vk"]["group_id"]
    vk_post = sandbox.vk.posts(group_id)[0]
    sandbox.vk.add_views(f"-{group_id}_{vk_post['id']}", 250)
    sandbox.vk.add_likes(f"-{group_id}_{vk_post['id']}", 4)
    sandbox.vk.add_reposts(f"-{group_id}_{vk_post['id']}", 2)
    sandbox.telegram.add_members(info["telegram"]["channel_id"], 10)
    await run_until_done(runner, platforms)

    # Published once in each network, on time, with the image.
    [tg_message] = sandbox.telegram.messages(info["telegram"]["channel_id"])
    [vk_post] = sandbox.vk.posts(group_id)
    assert tg_message["caption"].startswith("Ночь в библиотеке") and tg_message["photo"]
    assert vk_post["text"].startswith("Ночь в библиотеке") and vk_post["attachments"][0].startswith(
        "photo"
    )
    sent_at = datetime.fromtimestamp(tg_message["date"], UTC)
    assert abs(sent_at - at.replace(tzinfo=ZONE)) < timedelta(seconds=3)

    # The database knows where each post landed.
    pubs = {p["network"]: p for p in db["publications"].rows}
    assert pubs["telegram"]["remote_id"] == str(tg_message["message_id"])
    assert pubs["vk"]["remote_id"] == str(vk_post["id"])
    assert pubs["vk"]["url"] == f"https://vk.com/wall-{group_id}_{vk_post['id']}"
    assert (
        pubs["telegram"]["url"]
        == f"https://t.me/{info['telegram']['channel_username']}/{tg_message['message_id']}"
    )

    # The report's numbers are what the stand-ins hold.
    report = from_config(db, config, date_range(at.date(), at.date()))
    rows = {r.network: r for r in report.rows}
    vk = rows["vk"].figures
    vk_state = sandbox.state()["vk"]
    assert (vk["views"], vk["likes"], vk["reposts"], vk["comments"]) == (
        vk_post["views"],
        vk_post["likes"],
        vk_post["reposts"],
        len(vk_post["comments"]),
    )
    assert (vk["views"], vk["likes"], vk["reposts"]) == (250, 4, 2)
    assert rows["vk"].followers == vk_state["community"]["members_count"]
    tg_chat = next(
        c for c in sandbox.state()["telegram"]["chats"] if c["id"] == info["telegram"]["channel_id"]
    )
    assert rows["telegram"].followers == tg_chat["member_count"]
    # Bots cannot see views: not available, not zero.
    assert rows["telegram"].figures.get("views") is None
    csv_text = to_csv(report)
    assert csv_text.startswith("\ufeffДата и время;") and ";250;4;н/д;2;" in csv_text


async def test_restart_rearms_pending_and_never_reposts(tmp_path: Path, sandbox: Sandbox) -> None:
    info, config, db, env, _ = setup(tmp_path, sandbox, snapshots='["2s"]')
    platforms = build_platforms(config, env)
    first = Runner(db, config, platforms)
    await first.start()
    await wait_for(lambda: db["publications"].count == 2)
    await first.stop()  # the bot goes down before the metric snapshots are due
    pending = db["actions"].count_where("kind = 'snapshot' and state = 'pending'")
    assert pending == 2

    second = Runner(db, config, platforms)
    assert await second.start() == 2  # only the snapshots are armed again
    await run_until_done(second, platforms)
    assert len(sandbox.telegram.messages(info["telegram"]["channel_id"])) == 1
    assert len(sandbox.vk.posts(info["vk"]["group_id"])) == 1
    assert db["metric_samples"].count_where("metric = 'members'") == 2


async def test_wrong_token_fails_the_action_with_a_clear_reason(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    _, config, db, env, _ = setup(tmp_path, sandbox)
    env[TG_ENV] = "123:wrong"
    platforms = build_platforms(config, env)
    runner = Runner(db, config, platforms)
    await runner.start()
    await run_until_done(runner, platforms)
    states = {
        r["network"]: (r["state"], r["error"]) for r in db["actions"].rows_where("kind = 'publish'")
    }
    assert states["vk"][0] == "sent"
    assert states["telegram"][0] == "failed" and "Telegram" in states["telegram"][1]
