"""VK metrics at the minimum API cost: 1,000 posts of 10 communities in 3 requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import load_config
from bot.platforms import build_platforms
from bot.platforms.vk_metrics import minimum_requests
from bot.storage import open_db
from sandbox.fleet import build_fleet, seed_publications
from sandbox.server import Sandbox
from scheduler.snapshots import collect_recent

NOW = datetime.now(UTC)


def test_thousand_posts_of_ten_communities_cost_the_minimum(tmp_path: Path) -> None:
    with Sandbox(seed=31) as box:
        box.vk.set_rate_limits(enabled=False)
        fleet = build_fleet(box, tmp_path, libraries=10, chats_per_library=0)
        config = load_config(fleet.config)
        db = open_db(config.storage)
        posts = []
        for n, library in enumerate(fleet.libraries):
            ids = box.vk.add_posts(100, group_id=library.group_id)
            seed_publications(db, library.id, library.group_id, ids, NOW - timedelta(hours=2))
            box.vk.add_views(f"-{library.group_id}_{ids[n]}", 40 + n)
            posts += [(-library.group_id, i) for i in ids]
        box.vk.add_likes(f"-{fleet.libraries[3].group_id}_{posts[350][1]}", 5)
        platforms = build_platforms(config, fleet.env)
        box.recording = True
        written = asyncio.run(collect_recent(db, platforms, NOW - timedelta(days=1), lambda: NOW))
        calls = [a.method for a in box.arrivals if a.network == "vk"]
    expected = minimum_requests(posts, reach=True, groups=10)
    assert expected == 3
    assert calls == ["execute"] * expected
    assert written == 1000 * 5 + 10  # five figures a post and one members count a community
    views = {
        (s["target"], s["value"])
        for s in db["metric_samples"].rows_where("metric = 'views' and value > 0")
    }
    assert views == {(str(lib.group_id), 40.0 + n) for n, lib in enumerate(fleet.libraries)}
    [likes] = db["metric_samples"].rows_where("metric = 'likes' and value > 0")
    assert (likes["target"], likes["value"]) == (str(fleet.libraries[3].group_id), 5.0)
    reach = db["metric_samples"].count_where("metric = 'reach' and available = 1")
    assert reach == 1000


def test_a_deleted_post_is_recorded_as_deleted_not_zero(tmp_path: Path) -> None:
    with Sandbox(seed=32) as box:
        box.vk.set_rate_limits(enabled=False)
        fleet = build_fleet(box, tmp_path, libraries=1, chats_per_library=0)
        config = load_config(fleet.config)
        db = open_db(config.storage)
        library = fleet.libraries[0]
        ids = box.vk.add_posts(2, group_id=library.group_id)
        seed_publications(
            db, library.id, library.group_id, ids + [999_999], NOW - timedelta(hours=2)
        )
        platforms = build_platforms(config, fleet.env)
        asyncio.run(collect_recent(db, platforms, NOW - timedelta(days=1), lambda: NOW))
    deleted = list(db["metric_samples"].rows_where("metric = 'deleted'"))
    assert [(d["value"], d["available"]) for d in deleted] == [(1.0, 1)]
    assert db["metric_samples"].count_where("metric = 'views'") == 2
