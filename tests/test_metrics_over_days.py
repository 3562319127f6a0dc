"""Metrics over simulated days: each snapshot stores exactly what the stand-ins show then.

A post goes to both networks; between the +1 h, +24 h and +7 d snapshots the
simulated audience views, likes, reposts, comments and reacts. The runner is
driven with an injected clock (no waiting for schedules); the real clients read
the real stand-ins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import load_plan
from bot.intake.telegram import TelegramIntake
from bot.platforms import build_platforms
from core.clock import ManualClock
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from scheduler.runner import Runner
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

START = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def latest(db, publication_id: int, metric: str) -> tuple[float | None, int]:
    row = next(
        db["metric_samples"].rows_where(
            "publication_id = ? and metric = ?",
            [publication_id, metric],
            order_by="id desc",
            limit=1,
        )
    )
    return row["value"], row["available"]


async def test_each_snapshot_matches_the_stand_ins(tmp_path: Path) -> None:
    with Sandbox(seed=51) as box:
        box.vk.set_rate_limits(enabled=False)
        info = box.info()
        tg, vk = info["telegram"], info["vk"]
        path = write_config(
            tmp_path,
            telegram_url=tg["api_url"],
            vk_url=vk["api_url"],
            channel=str(tg["channel_id"]),
            group_id=vk["group_id"],
            snapshots='["1h", "24h", "7d"]',
        )
        write_event(tmp_path, at="2026-12-05T18:00:00")
        config = load_config(path)
        env = {
            TG_ENV: tg["token"],
            VK_USER_ENV: vk["user_token"],
            VK_COMMUNITY_ENV: vk["community_token"],
        }
        db = open_db(config.storage)
        clock = ManualClock(START)
        load_plan(db, config, clock)
        platforms = build_platforms(config, env)
        runner = Runner(db, config, platforms, clock=clock)
        intake = TelegramIntake(
            db, platforms[("central", "telegram")].bot, list(config.libraries), clock, 0
        )
        await intake.poll_once()  # tells the stand-in which updates the bot wants
        for action in db["actions"].rows_where("kind = 'publish'"):
            await runner.fire(action["id"])
        pubs = {p["network"]: p for p in db["publications"].rows}
        post = f"-{vk['group_id']}_{pubs['vk']['remote_id']}"
        channel, message = tg["channel_id"], int(pubs["telegram"]["remote_id"])

        audience = [
            (120, 4, 1, 2, 3),  # before +1 h: views, likes, reposts, comments, 👍
            (300, 10, 2, 1, 5),  # before +24 h
            (80, 1, 0, 0, 2),  # before +7 d
        ]
        thumbs_now = 0
        for offset, (views, likes, reposts, comments, thumbs) in zip(
            (1, 24, 168), audience, strict=True
        ):
            thumbs_now += thumbs
            box.vk.add_views(post, views)
            box.vk.add_likes(post, likes)
            if reposts:
                box.vk.add_reposts(post, reposts)
            if comments:
                box.vk.add_comments(post, comments)
            box.telegram.react_anonymously(channel, message, "👍", thumbs)
            await intake.poll_once()
            clock.current = START + timedelta(hours=offset, minutes=1)
            due = db["actions"].rows_where(
                "kind = 'snapshot' and state = 'pending' and due_at <= ?",
                [clock.current.isoformat()],
            )
            for action in list(due):
                await runner.fire(action["id"])  # the first of each network reads them all
            [state] = box.vk.posts(vk["group_id"])
            assert latest(db, pubs["vk"]["id"], "views") == (state["views"], 1)
            assert latest(db, pubs["vk"]["id"], "likes") == (state["likes"], 1)
            assert latest(db, pubs["vk"]["id"], "reposts") == (state["reposts"], 1)
            assert latest(db, pubs["vk"]["id"], "comments") == (len(state["comments"]), 1)
            assert latest(db, pubs["vk"]["id"], "reach") == (state["views"], 1)
            chat = next(c for c in box.state()["telegram"]["chats"] if c["id"] == channel)
            assert latest(db, pubs["telegram"]["id"], "reactions") == (thumbs_now, 1)
            assert latest(db, pubs["telegram"]["id"], "reaction:👍") == (thumbs_now, 1)
            assert latest(db, pubs["telegram"]["id"], "views") == (None, 0)  # not visible to bots
            members = next(
                db["metric_samples"].rows_where(
                    "network = 'telegram' and metric = 'members'", order_by="id desc", limit=1
                )
            )
            assert members["value"] == chat["member_count"]
        for platform in set(platforms.values()):
            await platform.close()
    snapshots = db["actions"].count_where("kind = 'snapshot' and state = 'sent'")
    assert snapshots == 6  # three per publication
