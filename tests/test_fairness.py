"""A burst across many chats is served fairly: one busy chat does not hold up the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.fleet import build_fleet
from bot.app import load_plan
from bot.platforms import build_platforms
from core.config_file import load_config
from core.storage import open_db
from sandbox.server import Sandbox
from scheduler.runner import Runner

BUSY_POSTS = 21  # one more than a channel takes per minute: the last ones must wait


async def test_a_busy_channel_waits_alone(tmp_path: Path) -> None:
    with Sandbox(seed=17) as box:
        fleet = build_fleet(box, tmp_path, libraries=5, vk=False)
        at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
        for n, library in enumerate(fleet.libraries):
            local = at.astimezone(ZoneInfo(library.zone)).replace(tzinfo=None).isoformat()
            for k in range(BUSY_POSTS if n == 0 else 3):
                (tmp_path / "events" / f"{library.id}-{k:02d}.toml").write_text(
                    f'kind = "announcement"\nlibrary = "{library.id}"\ntitle = "П{n}-{k}"\n'
                    f'at = {local}\ntext = "Пост {n}-{k}"\n',
                    encoding="utf-8",
                )
        config = load_config(fleet.config)
        db = open_db(config.storage)
        load_plan(db, config)
        platforms = build_platforms(config, fleet.env)
        runner = Runner(db, config, platforms)
        box.recording = True
        await runner.start()
        try:
            assert await runner.wait_until_done(timeout=30, poll=0.05)
        finally:
            await runner.stop()
            for platform in platforms.values():
                await platform.close()
    sends = [a for a in box.arrivals if a.method == "sendMessage"]
    busy = str(fleet.libraries[0].chats[0])
    busy_times = sorted(a.time for a in sends if a.target == busy)
    others = [a.time for a in sends if a.target != busy]
    assert len(busy_times) == BUSY_POSTS and len(others) == 12
    assert not any(a.throttled for a in box.arrivals)
    # Every quiet channel got all its posts before the busy one's held-back posts went out.
    assert max(others) < busy_times[-1] - 1.0
    assert max(others) - at.timestamp() < 1.0
