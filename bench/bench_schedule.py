"""Schedule benchmarks, on the stand-ins with their rate limits on.

1. re-arm: 10,000 pending actions across 100 libraries (a daily series per
   library). Start-up time (adapters + recovery + arming every job) and the
   lateness of the first occurrences, measured as the arrival time at the
   stand-ins minus the planned time. Goals: start-up < 3 s, p99 < 1 s.
2. burst: 500 posts due in the same second across 25 VK communities and 25
   Telegram channels. Total time against the minimum the platforms' limits
   allow (VK: 3 requests/s for the one admin user token; Telegram: 30/s per
   bot after a burst of 30). Goal: ratio ≤ 1.15 with no throttling answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.fleet import build_fleet
from bench.result import Result
from bot.app import build_app, load_plan
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox

VK_PER_SECOND = 3  # the stand-in's (and VK's) limit for a user token
TG_PER_SECOND, TG_BURST = 30, 30


def write_announcement(
    folder: Path, name: str, library: str, at: datetime, zone: str, network: str, extra: str = ""
) -> None:
    """An announcement's event file ``name`` in ``folder/events``, due at ``at`` (``extra``:
    more lines, e.g. a repeat)."""
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
    (folder / "events" / f"{name}.toml").write_text(
        f'kind = "announcement"\nlibrary = "{library}"\ntitle = "{name}"\n'
        f'at = {local.isoformat()}\nnetworks = ["{network}"]\ntext = "Текст {name}"\n{extra}',
        encoding="utf-8",
    )


async def _rearm(folder: Path, box: Sandbox, libraries: int, per_library: int) -> list[Result]:
    fleet = build_fleet(box, folder, libraries)
    # The first occurrences come after planning (under 0.1 s per 1,000 actions; a second
    # per 1,000 leaves room) and the bot process start-up (which re-plans nothing: the
    # files did not change).
    lead = 10 + libraries * per_library // 1000
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead)
    due: dict[str, datetime] = {}
    for n, library in enumerate(fleet.libraries):
        network = "vk" if n % 2 == 0 else "telegram"
        # 40 s: VK posts (every other library) stay under the token's 3/s, so lateness
        # measures the scheduler, not a queue in front of the rate limit.
        at = start + timedelta(seconds=round(40 * n / libraries))
        series = f'[repeat]\nevery = "day"\ncount = {per_library}\n'
        write_announcement(folder, f"series-{n:03d}", library.id, at, library.zone, network, series)
        target = str(-library.group_id) if network == "vk" else str(library.chats[0])
        due[target] = at
    config = load_config(fleet.config)
    db = open_db(config.storage)
    planning = time.perf_counter()
    load_plan(db, config)
    planning = time.perf_counter() - planning
    assert datetime.now(UTC) < start, f"planning took {planning:.1f} s, past the first occurrence"
    began = time.perf_counter()
    app = build_app(config, db, env=fleet.env, tell_admins=False, intakes=False)
    armed = await app.start()
    startup = time.perf_counter() - began
    await app.stop()
    # Firing is measured with the bot in its own process, as in production: the stand-ins
    # here must not compete with it for this interpreter's lock.
    box.recording = True
    with _bot_process(fleet):
        await _until(lambda: db["publications"].count >= libraries, timeout=120)
    first: dict[str, float] = {}
    for arrival in box.arrivals:
        if arrival.method in ("sendMessage", "wall.post") and arrival.target in due:
            first.setdefault(arrival.target, arrival.time)
    late = sorted(first[t] - due[t].timestamp() for t in first)
    p50 = statistics.median(late)
    p99 = late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)]
    return [
        Result(
            "plan_load_seconds",
            round(planning, 2),
            f"s to plan {armed} actions from {libraries} event files (informational)",
            None,
            "none",
            True,
        ),
        Result(
            "rearm_startup_seconds",
            round(startup, 3),
            f"s for {armed} actions",
            None,
            "< 3 s",
            startup < 3 and armed == libraries * per_library,
        ),
        Result(
            "firing_lateness_p50", round(p50, 3), "s", None, "p99 < 1 s", len(late) == libraries
        ),
        Result(
            "firing_lateness_p99",
            round(p99, 3),
            "s",
            None,
            "< 1 s",
            p99 < 1 and len(late) == libraries,
        ),
    ]


async def _burst(folder: Path, box: Sandbox, libraries: int, posts_per_target: int) -> list[Result]:
    fleet = build_fleet(box, folder, libraries)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    for n, library in enumerate(fleet.libraries):
        for k in range(posts_per_target):
            for network in ("vk", "telegram"):
                write_announcement(
                    folder,
                    f"burst-{n:03d}-{k:02d}-{network}",
                    library.id,
                    at,
                    library.zone,
                    network,
                )
    config = load_config(fleet.config)
    db = open_db(config.storage)
    load_plan(db, config)
    box.recording = True
    with _bot_process(fleet):
        await _until(lambda: _open(db) == 0, timeout=900)
    posts = [a for a in box.arrivals if a.method in ("sendMessage", "wall.post")]
    throttled = sum(a.throttled for a in box.arrivals)
    retried = db["actions"].count_where("kind = 'publish' and (attempts > 1 or state != 'sent')")
    total = max(a.time for a in posts) - at.timestamp()
    n_vk = n_tg = libraries * posts_per_target
    floor = max(math.ceil(n_vk / VK_PER_SECOND) - 1, max(0, n_tg - TG_BURST) / TG_PER_SECOND)
    ok = total / floor <= 1.15 and throttled == 0 and retried == 0
    return [
        Result(
            "burst_total_seconds",
            round(total, 2),
            f"s for {n_vk + n_tg} posts ({throttled} throttled, {retried} retried)",
            round(floor, 2),
            "<= 1.15 x the rate-limit minimum, 0 throttled",
            ok,
        )
    ]


@contextlib.contextmanager
def _bot_process(fleet):
    """`bibliobot run` on the fleet's config, in its own process."""
    command = [sys.executable, "-m", "bot", "run", "-c", str(fleet.config)]
    process = subprocess.Popen(command, env={**os.environ, **fleet.env}, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _open(db) -> int:
    return db["actions"].count_where("state in ('pending', 'sending') and kind = 'publish'")


async def _until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish in time")
        await asyncio.sleep(0.1)


def run(quick: bool = False) -> list[Result]:
    """Both schedule benchmarks; quick sizes for a smoke run."""
    results = []
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=12) as box:
        libraries, per_library = (20, 50) if quick else (100, 100)
        results += asyncio.run(_rearm(Path(tmp) / "rearm", box, libraries, per_library))
    with tempfile.TemporaryDirectory() as tmp, Sandbox(seed=13) as box:
        libraries, posts = (10, 2) if quick else (25, 10)
        results += asyncio.run(_burst(Path(tmp) / "burst", box, libraries, posts))
    return results
