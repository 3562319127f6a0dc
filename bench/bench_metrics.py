"""Metrics benchmark: counters and reach of 10,000 VK posts of 100 communities.

The stand-ins run in their own process (``bench.standins``, which counts the requests
that reach them) with VK's limits on (3 requests/s per user token). Measured: the
requests made against the fewest any client could make (``vk_metrics.minimum_requests``:
25 calls per execute), and the total time against the floor those requests need: at 3
per second the last third of them can start only after (⌈n/3⌉ − 1) s, and the last
answer takes as long as one request alone (measured in the same run).
Goal: the minimum number of requests, none refused (error 6), time ≤ 1.1 × the floor.
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
from bot.app import build_app
from bot.platforms.vk_metrics import minimum_requests
from core.config_file import load_config
from core.errors import PlatformError
from core.platform import PostRef
from core.storage import open_db, to_db
from scheduler.snapshots import collect_recent

VK_PER_SECOND = 3


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["result"]


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
    for _, group_id, ids in made:
        posts += [(-group_id, i) for i in ids]
    _seed(db, made, now - timedelta(hours=1))
    return config, db, posts


def _seed(db, made: list[tuple[str, int, list[int]]], published_at: datetime) -> None:
    """Publications as the runner records them (``bench.fleet.seed_publications``), with
    their libraries, events and actions, written with executemany: 100,000 take seconds."""
    stamp = to_db(published_at)
    libraries, events, actions, publications = [], [], [], []
    for library_id, group_id, ids in made:
        event_id = f"{library_id}/archive"
        libraries.append((library_id, library_id, "Europe/Moscow", 0))
        events.append((event_id, library_id, "announcement", "t", "active", stamp))
        for post_id in ids:
            key = f"{event_id}:publish:vk:{group_id}:{post_id}"
            actions.append((key, event_id, library_id, "vk", str(group_id), stamp))
            publications.append((key, event_id, library_id, str(group_id), str(post_id), stamp))
    with db.atomic():
        conn = db.conn
        conn.executemany(
            "insert or ignore into libraries (id, name, timezone, paused) values (?, ?, ?, ?)",
            libraries,
        )
        conn.executemany(
            "insert into events (id, library_id, kind, title, status, starts_at) "
            "values (?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "insert into actions (key, event_id, library_id, kind, network, target, due_at, "
            "state) values (?, ?, ?, 'publish', ?, ?, ?, 'sent')",
            actions,
        )
        conn.executemany(
            "insert into publications (action_id, event_id, library_id, network, target, "
            "remote_id, url, published_at) select id, ?, ?, 'vk', ?, ?, '', ? from actions "
            "where key = ?",
            [(e, lib, target, post, at, key) for key, e, lib, target, post, at in publications],
        )


async def _read_once(reader, posts: list[tuple[int, int]]) -> None:
    """Counters of ``posts`` ((owner_id, post_id)), without reach, every part read."""
    refs = [PostRef(str(-owner), str(post)) for owner, post in posts]
    async for _ in reader.read_figures(refs, [], reach=False):
        pass


async def _timed(coroutine) -> float:
    began = time.perf_counter()
    await coroutine
    return time.perf_counter() - began


def measure(communities: int, per_community: int, seed: int = 41) -> dict:
    """Read every post's figures once on fresh stand-ins with VK's limits on.

    Returns the requests made (and refused as too many a second) with the fewest
    possible, the time taken, and the rate-limit floor that time is held to (with the
    time of one request alone); ``error`` says why reading stopped, if it did.
    """
    now = datetime.now(UTC)
    command = [sys.executable, "-m", "bench.standins", str(seed)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    error = ""
    try:
        info = json.loads(process.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            config, db, posts = _world(Path(tmp), info, communities, per_community, now)
            env = {"BENCH_VK_USER": info["vk"]["user_token"]}
            platforms = build_app(config, db, env=env, tell_admins=False, intakes=False).platforms
            reader = next(iter(platforms.values()))
            # one execute of 25 × wall.getById (2,500 posts): the heaviest request of the run
            service = asyncio.run(_timed(_read_once(reader, posts[:2500])))
            time.sleep(1.1)  # let the warm-up's rate window pass
            before = _requests(process)
            since = now - timedelta(days=1)
            began = time.perf_counter()
            try:
                asyncio.run(collect_recent(db, platforms, since, lambda: now))
            except PlatformError as exc:  # e.g. VK's error 6: the limiter let too many go
                error = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            after = _requests(process)
            db.close()
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    least = minimum_requests(posts, reach=True, groups=communities)
    return {
        "posts": len(posts),
        "requests": after["vk"] - before["vk"],
        "throttled": after["throttled"] - before["throttled"],
        "least": least,
        "seconds": elapsed,
        "service": service,
        "floor": round(math.ceil(least / VK_PER_SECOND) - 1 + service, 3),
        "error": error,
    }


def _requests(process: subprocess.Popen) -> dict[str, int]:
    """The requests the stand-ins (``bench.standins``) have received so far."""
    process.stdin.write("\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def run(quick: bool = False) -> list[Result]:
    """Collect every post's figures once; compare with the minimum and the floor."""
    communities, per_community = (10, 100) if quick else (100, 100)
    found = measure(communities, per_community)
    requests, least, elapsed, floor = (found[k] for k in ("requests", "least", "seconds", "floor"))
    refused = f", {found['throttled']} refused as too many" + (
        f"; {found['error']}" * bool(found["error"])
    )
    return [
        Result(
            "metrics_vk_requests",
            requests,
            f"requests for {found['posts']} posts of {communities} communities{refused}",
            least,
            "= the minimum (25 calls per execute), none refused",
            requests == least and not found["throttled"] and not found["error"],
        ),
        Result(
            "metrics_vk_seconds",
            round(elapsed, 3),
            f"s (one request alone takes {found['service']:.2f} s)",
            floor,
            "<= 1.1 x the rate-limit floor",
            elapsed <= 1.1 * floor,
        ),
    ]
