"""One `bibliobot run` per database: a second one refuses to start, naming the first."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.runlock import AlreadyRunning, hold
from sandbox.server import Sandbox
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config

ROOT = Path(__file__).resolve().parent.parent
HOLDER = """
import sys, time
from pathlib import Path
from bot.runlock import hold
lock = hold(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_hold_is_refused_even_in_the_same_process(tmp_path: Path) -> None:
    # flock belongs to an open file description: a second open conflicts with the first.
    db = tmp_path / "plan.db"
    with hold(db):
        with pytest.raises(AlreadyRunning) as caught:
            hold(db)
        assert f"pid {os.getpid()}" in str(caught.value) and str(db) in str(caught.value)
        lock = tmp_path / "plan.db.lock"
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert lock.read_text().strip() == str(os.getpid())
    with hold(db):  # released on leaving
        pass


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    db = tmp_path / "plan.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning, match=f"pid {holder.pid}"):
            hold(db)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    assert (tmp_path / "plan.db.lock").read_text().strip() == str(holder.pid)  # stale file
    with hold(db):
        assert (tmp_path / "plan.db.lock").read_text().strip() == str(os.getpid())


def test_a_second_bibliobot_run_on_one_database_refuses_to_start(tmp_path: Path) -> None:
    with Sandbox(seed=4) as box:
        info = box.info()
        config = write_config(
            tmp_path,
            telegram_url=info["telegram"]["api_url"],
            vk_url=info["vk"]["api_url"],
            channel=str(info["telegram"]["channel_id"]),
            group_id=info["vk"]["group_id"],
        )
        env = {
            **os.environ,
            TG_ENV: info["telegram"]["token"],
            VK_USER_ENV: info["vk"]["user_token"],
            VK_COMMUNITY_ENV: info["vk"]["community_token"],
        }
        command = [sys.executable, "-m", "bot", "run", "-c", str(config)]
        log = tmp_path / "first.log"
        with log.open("w") as out:
            first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 30
            while "Бот работает" not in log.read_text() and time.monotonic() < deadline:
                assert first.poll() is None, log.read_text()
                time.sleep(0.1)
            assert "Бот работает" in log.read_text()
            second = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
            )
            assert first.poll() is None  # the first one runs on
        finally:
            first.terminate()
            first.wait(timeout=30)
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"{tmp_path / 'bibliobot.db'}: эту базу данных уже использует другой `bibliobot run` "
        f"(pid {first.pid}); сначала остановите его"
    ]
    assert "Бот работает" not in second.stderr
