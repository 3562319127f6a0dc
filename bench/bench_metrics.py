"""Metrics benchmark: counters and reach of 10,000 VK posts of 100 communities.

The stand-ins run as `bibliobot sandbox` in their own process with VK's limits
on (3 requests/s per user token). Measured: the requests made against the
fewest any client could make (``vk_metrics.minimum_requests``: 25 calls per
execute), and the total time against the floor those requests need: at 3 per
second the last third of them can start only after (⌈n/3⌉ − 1) s, and the last
answer takes as long as one request alone (measured in the same run).
Goal: the minimum number of requests, no throttling, time ≤ 1.1 × the floor.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.result import Result
from bot.config import load_config
from bot.platforms import build_platforms
from bot.platforms.vk_metrics import minimum_requests
from bot.storage import open_db
from sandbox.fleet import seed_publications
from scheduler.snapshots import collect_recent

VK_PER_SECOND = 3


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["result"]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def _world(folder: Path, info: dict, communities: int, per_community: int, now: datetime):
    """Communities and posts in the stand-in; config and publications on our side."""
    control = info["control_url"] + "/vk"
    vk = info["vk"]
    lines = [
        'storage = "bench.db"',
        'events_dir = "events"',
        "[schedule]",
        'community_snapshot_at = "off"',
    ]
    made = []
    for n in range(communities):
        community = _post(control + "/communities", {"name": f"Библиотека {n}"})
        ids = _post(control + "/wall", {"count": per_community, "group_id": community["group_id"]})
        made.append((f"lib{n:03d}", community["group_id"], ids))
        lines += [
            "[[library]]",
            f'id = "lib{n:03d}"',
            f'name = "Библиотека {n}"',
            'timezone = "Europe/Moscow"',
            "[library.vk]",
            f"group_id = {community['group_id']}",
            'user_token_env = "BENCH_VK_USER"',
            f'api_url = "{vk["api_url"]}"',
        ]
    (folder / "events").mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(folder / "config.toml")
    db = open_db(config.storage)
    posts = []
    for library_id, group_id, ids in made:
        seed_publications(db, library_id, group_id, ids, now - timedelta(hours=1))
        posts += [(-group_id, i) for i in ids]
    return config, db, posts


async def _timed(coroutine) -> float:
    began = time.perf_counter()
    await coroutine
    return time.perf_counter() - began


def run(quick: bool = False) -> list[Result]:
    """Collect every post's figures once; compare with the minimum and the floor."""
    communities, per_community = (10, 100) if quick else (100, 100)
    now = datetime.now(UTC)
    command = [sys.executable, "-m", "bot", "sandbox", "--seed", "41"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            config, db, posts = _world(Path(tmp), info, communities, per_community, now)
            platforms = build_platforms(config, {"BENCH_VK_USER": info["vk"]["user_token"]})
            reader = next(iter(platforms.values()))
            # one execute of 25 × wall.getById (2,500 posts): the heaviest request of the run
            service = asyncio.run(_timed(reader.read(posts[:2500], [], reach=False)))
            time.sleep(1.1)  # let the warm-up's rate window pass
            before = len(_calls(info))
            since = now - timedelta(days=1)
            elapsed = asyncio.run(_timed(collect_recent(db, platforms, since, lambda: now)))
            requests = len(_calls(info)) - before
    finally:
        process.terminate()
        process.wait(timeout=10)
    least = minimum_requests(posts, reach=True, groups=communities)
    floor = round(math.ceil(least / VK_PER_SECOND) - 1 + service, 3)
    return [
        Result(
            "metrics_vk_requests",
            requests,
            f"requests for {len(posts)} posts of {communities} communities",
            least,
            "= the minimum (25 calls per execute)",
            requests == least,
        ),
        Result(
            "metrics_vk_seconds",
            round(elapsed, 3),
            f"s (one request alone takes {service:.2f} s)",
            floor,
            "<= 1.1 x the rate-limit floor",
            elapsed <= 1.1 * floor,
        ),
    ]


def _calls(info: dict) -> list[dict]:
    """Top-level API requests the VK stand-in received (inner execute calls excluded)."""
    state = _get(info["control_url"] + "/vk/state")
    return [c for c in state.get("calls", []) if not c.get("via")]
