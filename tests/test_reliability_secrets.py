"""No token anywhere it could be read, with every log at DEBUG.

Two whole runs with the root logger at DEBUG: the demo (stand-ins, posts, a quiz,
metrics, the report in four formats), and ``bibliobot run`` as its own process with a
Telegram token and a MAX token the servers reject (the demo posts to MAX too). No token (nor its secret part, nor its URL-encoded
form) may appear in the log, in any table of the database or in the files written
(reports, config); the database, its ``-wal``/``-shm`` files, the run lock and the
report files are readable by their owner only (0600).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

import bot.demo
from sandbox.server import Sandbox
from tests.conftest import (
    MAX_ENV,
    TG_ENV,
    VK_COMMUNITY_ENV,
    VK_USER_ENV,
    max_table,
    write_config,
    write_event,
)
from tests.reliability import figures, wake_long_polls

REJECTED = "5550001:AAE-rejected-token-0123456789abcdefXYZ"  # well formed, but not the bot's
REJECTED_MAX = "max-rejected-token-0123456789abcdefXYZ"  # a MAX token the stand-in refuses (401)


def _forms(token: str) -> set[str]:
    """A token as it could leak: whole, URL-encoded, and a Telegram token's secret part."""
    forms = {token, quote(token, safe="")}
    if ":" in token:
        forms.add(token.split(":", 1)[1])
    return forms


def _leaks(text: str, tokens: list[str]) -> list[str]:
    return sorted({form for token in tokens for form in _forms(token) if form in text})


def _dump(path: Path) -> str:
    """Every value of every table of the database, as text."""
    db = sqlite_utils.Database(path)
    try:
        return "\n".join(
            repr(row)
            for table in db.table_names()
            for row in db.execute(f"select * from [{table}]")
        )
    finally:
        db.close()


def _files_text(folder: Path) -> dict[str, str]:
    """The text of every file in ``folder`` (an XLSX's parts unpacked)."""
    texts = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts[path.name] = "".join(
                    book.read(n).decode("utf-8", "replace") for n in book.namelist()
                )
        else:
            texts[path.name] = path.read_bytes().decode("utf-8", "replace")
    return texts


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def _debug_log(path: Path):
    """The root logger at DEBUG into ``path``, as a deployment's logging config would set it."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


async def test_a_whole_demo_at_debug_leaves_no_token_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict] = []

    class Recorded(Sandbox):
        """The demo's stand-ins, telling this test the tokens they hand out."""

        def start(self) -> dict:
            info = super().start()
            seen.append(info)
            return info

    kept = tmp_path / "database"
    kept.mkdir()
    monkeypatch.setattr(bot.demo, "Sandbox", Recorded)
    # The demo's database lives in a temporary folder: keep it, to read every table.
    monkeypatch.setattr(
        bot.demo,
        "tempfile",
        SimpleNamespace(TemporaryDirectory=lambda: contextlib.nullcontext(str(kept))),
    )
    log = tmp_path / "demo.log"
    out = tmp_path / "out"
    with _debug_log(log):
        result = await bot.demo.run_demo(out, "ru", say=lambda line: None, lead=1.0)
    assert result.ok
    [info] = seen
    tokens = [
        info["telegram"]["token"],
        info["vk"]["user_token"],
        info["vk"]["community_token"],
        info["max"]["token"],
    ]
    text = log.read_text(encoding="utf-8")
    debug_lines = sum(1 for line in text.splitlines() if " DEBUG " in line)
    assert debug_lines > 100  # DEBUG really was on: python-telegram-bot, vk_api, APScheduler...
    assert _leaks(text, tokens) == []
    database = kept / "bibliobot.db"
    assert _leaks(_dump(database), tokens) == []
    files = _files_text(out)
    assert {"report.csv", "report.html", "report.md", "report.xlsx", "config.toml"} <= set(files)
    assert {name: _leaks(body, tokens) for name, body in files.items()} == dict.fromkeys(files, [])
    private = [p for p in kept.iterdir()] + [
        out / f"report.{f}" for f in ("csv", "html", "md", "xlsx")
    ]
    assert {p.name: _mode(p) for p in private} == {p.name: 0o600 for p in private}
    figures(
        "secrets[demo]",
        log_lines=len(text.splitlines()),
        debug_lines=debug_lines,
        tables=len(sqlite_utils.Database(database).table_names()),
        files=len(files),
        tokens_found=0,
    )


DRIVER = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1],
                    format="%(asctime)s %(name)s %(levelname)s %(message)s")
sys.argv = ["bibliobot", "run", "-c", sys.argv[2]]
from bot.cli import main
main()
"""


def test_a_rejected_token_at_debug_stays_out_of_log_database_and_files(tmp_path: Path) -> None:
    with Sandbox(seed=41) as box:
        info = box.info()
        box.vk.set_rate_limits(enabled=False)
        config = write_config(
            tmp_path,
            telegram_url=info["telegram"]["api_url"],
            vk_url=info["vk"]["api_url"],
            channel=str(info["telegram"]["channel_id"]),
            group_id=info["vk"]["group_id"],
            snapshots="[]",
            max_section=max_table(info["max"]["api_url"], info["max"]["channel_id"]),
        )
        at = (datetime.now(UTC) + timedelta(seconds=2)).astimezone(ZoneInfo("Europe/Moscow"))
        write_event(
            tmp_path,
            at=at.replace(tzinfo=None, microsecond=0).isoformat(),
            networks='["telegram", "vk", "max"]',
        )
        env = {
            **os.environ,
            TG_ENV: REJECTED,
            MAX_ENV: REJECTED_MAX,
            VK_USER_ENV: info["vk"]["user_token"],
            VK_COMMUNITY_ENV: info["vk"]["community_token"],
        }
        log = tmp_path / "run.log"
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(log), str(config)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        database = tmp_path / "bibliobot.db"
        try:
            deadline = time.monotonic() + 40  # waits for the outcome, not for a schedule
            while time.monotonic() < deadline:
                done = database.exists() and _final(database) == {"telegram", "vk", "max"}
                logged = log.read_text(encoding="utf-8") if done else ""
                if "token was rejected" in logged and f"right token in {MAX_ENV}" in logged:
                    break
                time.sleep(0.2)
            modes = {
                p.name: _mode(p) for p in tmp_path.iterdir() if p.name.startswith("bibliobot.db")
            }
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        vk_posts = box.vk.posts(info["vk"]["group_id"])
        box_messages = box.max.messages(info["max"]["channel_id"])
        wake_long_polls(box)
    tokens = [REJECTED, REJECTED_MAX, info["vk"]["user_token"], info["vk"]["community_token"]]
    text = log.read_text(encoding="utf-8") + output.decode("utf-8", "replace")
    assert len(vk_posts) == 1  # VK went on
    assert f"put the right token in {TG_ENV}" in text  # the intake's one ERROR names it
    assert _leaks(text, tokens) == []
    assert _leaks(_dump(database), tokens) == []
    rows = list(sqlite_utils.Database(database)["actions"].rows_where("network = 'telegram'"))
    assert [(r["state"], "rejected" in (r["error"] or "")) for r in rows] == [("failed", True)]
    # MAX likewise: one ERROR naming the variable stops its reader; its post failed.
    errors = [line for line in text.splitlines() if " ERROR " in line and "MAX" in line]
    assert len([e for e in errors if f"put the right token in {MAX_ENV}" in e]) == 1, errors
    assert box_messages == []
    rows = list(sqlite_utils.Database(database)["actions"].rows_where("network = 'max'"))
    assert [r["state"] for r in rows] == ["failed"], rows
    # The database, its -wal and -shm, and the run lock: the owner's only.
    assert modes == dict.fromkeys(
        ("bibliobot.db", "bibliobot.db-wal", "bibliobot.db-shm", "bibliobot.db.lock"), 0o600
    )
    report = tmp_path / "report"
    report.mkdir()
    made = subprocess.run(
        [sys.executable, "-m", "bot", "report", "-c", str(config), "--period", f"{at:%Y-%m}",
         "--format", "html", "--format", "md", "--format", "xlsx", "--format", "csv",
         "--out", str(report / "month"), "--with-names"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    files = _files_text(report)
    assert len(files) == 4 and all(_mode(p) == 0o600 for p in report.iterdir())
    assert {name: _leaks(body, tokens) for name, body in files.items()} == dict.fromkeys(files, [])
    figures(
        "secrets[rejected token]",
        log_lines=len(text.splitlines()),
        debug_lines=sum(1 for line in text.splitlines() if " DEBUG " in line),
        files=len(files),
        tokens_found=0,
    )


def _final(database: Path) -> set[str]:
    """The networks whose announcement is no longer pending or being sent."""
    try:
        db = sqlite_utils.Database(database)
        rows = db.execute(
            "select network from actions where kind = 'publish' "
            "and state not in ('pending', 'sending')"
        ).fetchall()
        db.close()
    except Exception:  # the bot is still creating it
        return set()
    return {network for (network,) in rows}


WEBHOOK_SECRET = "whsec-Bibliobot_0123456789abcdefXYZ"  # MAX's alphabet: A-Z a-z 0-9 _ -
SECRET_ENV = "TEST_MAX_WEBHOOK_SECRET"


async def test_the_max_webhook_secret_at_debug_stays_out_of_log_database_and_files(
    tmp_path: Path,
) -> None:
    """A run with MAX webhooks, every logger at DEBUG: MAX gets the secret at the subscribe
    and sends it back with every update (readers' messages, an admin's Start and command,
    through bibliobot's own server); a request with a wrong secret is refused. The secret
    is in no log line, no table, no file the bot wrote; a line that would quote it is masked,
    and so is a secret of the five characters MAX allows."""
    import asyncio
    from dataclasses import replace

    import httpx

    from bot.app import build_app, make_intakes
    from bot.intake.max import MaxIntake
    from bot.intake.max_webhook import SECRET_HEADER, WebhookServer
    from bot.logredact import protect_config
    from core.config_file import load_config
    from core.storage import open_db

    folder = tmp_path / "bot"
    folder.mkdir()
    log = tmp_path / "run.log"
    with Sandbox(seed=43) as box, _debug_log(log):
        box.max.set_rate_limit(enabled=False)
        box.max.allow_insecure_webhooks(True)
        box.max.set_webhook_retry(0.05)
        info = box.info()
        mx = info["max"]
        admin = box.max.add_user(first_name="Мария")["user_id"]
        reader_id = box.max.add_user(first_name="Анна")["user_id"]
        hook = (
            'updates = "webhook"\nwebhook_url = "https://library.example/max/central"\n'
            f'webhook_secret_env = "{SECRET_ENV}"\nadmins = [{admin}]'
        )
        path = write_config(
            folder,
            telegram_url=info["telegram"]["api_url"],
            vk_url=info["vk"]["api_url"],
            channel=str(info["telegram"]["channel_id"]),
            group_id=info["vk"]["group_id"],
            max_section=max_table(mx["api_url"], mx["channel_id"], mx["chat_id"], hook),
        )
        config = load_config(path)
        env = {
            TG_ENV: info["telegram"]["token"],
            VK_USER_ENV: info["vk"]["user_token"],
            VK_COMMUNITY_ENV: info["vk"]["community_token"],
            MAX_ENV: mx["token"],
            SECRET_ENV: WEBHOOK_SECRET,
        }
        protect_config(config, env)  # as run_bot does first
        db = open_db(config.storage)
        app = build_app(config, db, env=env, intakes=False, rate_limit=False)
        # The readers as run builds them, bibliobot's server on a free port of 127.0.0.1
        # (where the library's HTTPS proxy would pass MAX's requests on).
        served = replace(config, webhook=replace(config.webhook, listen="127.0.0.1:0"))
        readers = make_intakes(
            db, served, app.platforms, env, wait=0, alerts=app.alerts, admin=app.admin
        )
        [reader] = [r for r in readers if isinstance(r, MaxIntake)]
        [server] = [r for r in readers if isinstance(r, WebhookServer)]
        stop = asyncio.Event()
        serving = asyncio.create_task(server.run(stop))
        for _ in range(100):
            if server.port:
                break
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{server.port}/max/central"
        reader.webhook_url = url
        subscribing = asyncio.create_task(reader.run(stop))

        async def until(done, what: str) -> None:
            for _ in range(300):
                if done():
                    return
                await asyncio.sleep(0.02)
            pytest.fail(f"never happened: {what}")

        await until(lambda: box.max.state()["subscriptions"], "subscribed")
        box.max.start_bot(admin)  # bot_started through the webhook: the help
        box.max.join(reader_id, mx["chat_id"])
        box.max.write(reader_id, mx["chat_id"], "Через вебхук")
        box.max.write(admin, None, "/status")

        def bot_said() -> list[dict]:
            chats = [
                c["chat_id"]
                for c in box.max.state()["chats"]
                if c["type"] == "dialog" and c["dialog_with_user"]["user_id"] == admin
            ]
            said = box.max.messages(chats[0]) if chats else []
            return [m for m in said if m["sender"]["user_id"] == mx["bot_id"]]

        await until(lambda: len(bot_said()) == 2, "the admin answered twice")
        await until(
            lambda: db["interactions"].count_where("network = 'max'") == 2, "join and message"
        )
        async with httpx.AsyncClient() as http:
            wrong = await http.post(url, json={"update_type": "x"}, headers={SECRET_HEADER: "no"})
        assert wrong.status_code == 401
        deliveries = box.max.webhook_deliveries()
        # A bot line quoting it (a future bug) is masked, a five-character secret too.
        logging.getLogger("bot.intake.max").warning("MAX secret %s", WEBHOOK_SECRET)
        protect_config(config, {**env, SECRET_ENV: "k9_Zq"})  # the shortest MAX accepts
        logging.getLogger("bot.intake.max").warning("short secret k9_Zq")
        stop.set()
        await asyncio.wait_for(asyncio.gather(serving, subscribing), 5)
        await app.alerts.drain()
        await app.close()
        db.close()
    assert [d["status"] for d in deliveries].count(200) >= 4  # Start, join, message, /status
    text = log.read_text(encoding="utf-8")
    assert sum(1 for line in text.splitlines() if " DEBUG " in line) > 20
    assert "MAX secret <token>" in text and "short secret <token>" in text
    assert WEBHOOK_SECRET not in text and "k9_Zq" not in text
    assert _leaks(_dump(folder / "bibliobot.db"), [WEBHOOK_SECRET]) == []
    files = _files_text(folder)
    assert "bibliobot.db" in files and "config.toml" in files
    assert {name: _leaks(body, [WEBHOOK_SECRET]) for name, body in files.items()} == dict.fromkeys(
        files, []
    )
