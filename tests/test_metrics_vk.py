"""VK metrics at the minimum API cost: 1,000 posts of 10 communities in 3 requests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.fleet import build_fleet, seed_publications
from bot.platforms import build_platforms, vk
from bot.platforms.vk_metrics import minimum_requests
from core.config_file import load_config
from core.storage import open_db
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


def test_a_refused_request_is_asked_again_and_the_collect_goes_on(tmp_path: Path) -> None:
    with Sandbox(seed=33) as box:
        box.vk.set_rate_limits(enabled=False)
        fleet = build_fleet(box, tmp_path, libraries=20, chats_per_library=0)
        config = load_config(fleet.config)
        db = open_db(config.storage)
        for library in fleet.libraries:
            ids = box.vk.add_posts(250, group_id=library.group_id)
            seed_publications(db, library.id, library.group_id, ids, NOW - timedelta(hours=2))
        platforms = build_platforms(config, fleet.env)
        # Under this seed the 5th execute of the collect, and only it, is refused with error 6.
        box.vk.set_faults("execute:429:0.1", seed=494)
        written = asyncio.run(collect_recent(db, platforms, NOW - timedelta(days=1), lambda: NOW))
        fired = box.vk.faults_state()["fired"]
    assert [f["method"] for f in fired] == ["execute"]
    assert written == 20 * 250 * 5 + 20 and written.unread == 0
    for metric in ("views", "likes", "reposts", "comments", "reach"):
        assert db["metric_samples"].count_where("metric = ? and available = 1", [metric]) == 5000
    assert db["metric_samples"].count_where("metric = 'members' and available = 1") == 20


def test_what_stays_refused_is_counted_not_raised(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(vk, "READ_ATTEMPTS", 2)
    with Sandbox(seed=34) as box:
        box.vk.set_rate_limits(enabled=False)
        fleet = build_fleet(box, tmp_path, libraries=1, chats_per_library=0)
        config = load_config(fleet.config)
        db = open_db(config.storage)
        library = fleet.libraries[0]
        ids = box.vk.add_posts(10, group_id=library.group_id)
        seed_publications(db, library.id, library.group_id, ids, NOW - timedelta(hours=2))
        platforms = build_platforms(config, fleet.env)
        box.vk.set_faults("execute:429:1")
        written = asyncio.run(collect_recent(db, platforms, NOW - timedelta(days=1), lambda: NOW))
        fired = box.vk.faults_state()["fired"]
    assert len(fired) == 2  # asked once more, then given up
    assert (written, written.unread) == (0, 10 + 1)  # ten posts and the community
    assert db["metric_samples"].count == 0  # unread is not "not available"


def test_a_transient_refusal_inside_execute_is_asked_again(tmp_path: Path) -> None:
    with Sandbox(seed=35) as box:
        box.vk.set_rate_limits(enabled=False)
        fleet = build_fleet(box, tmp_path, libraries=1, chats_per_library=0)
        config = load_config(fleet.config)
        db = open_db(config.storage)
        library = fleet.libraries[0]
        ids = box.vk.add_posts(3, group_id=library.group_id)
        seed_publications(db, library.id, library.group_id, ids, NOW - timedelta(hours=2))
        platforms = build_platforms(config, fleet.env)
        box.vk.fail_next("wall.getById", 10)  # VK's internal error, for the inner call only
        written = asyncio.run(collect_recent(db, platforms, NOW - timedelta(days=1), lambda: NOW))
    assert (written, written.unread) == (3 * 5 + 1, 0)
    assert db["metric_samples"].count_where("metric = 'views' and available = 1") == 3
