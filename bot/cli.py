"""The ``bibliobot`` command line: validate, plan, run, report, sandbox, demo."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import click

from bot.errors import BibliobotError, InputError, MissingSecret, Problems

DEFAULT_CONFIG = "config.toml"
config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("BIBLIOBOT_CONFIG", DEFAULT_CONFIG),
    show_default="$BIBLIOBOT_CONFIG or config.toml",
    help="Configuration file.",
)


@click.group()
@click.version_option(package_name="bibliobot")
def main() -> None:
    """bibliobot: library events in VK and Telegram — planned, posted, measured, reported."""


def _load(config_path: Path):
    from bot.config import load_config

    try:
        return load_config(config_path)
    except Problems as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except InputError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@main.command()
@config_option
def validate(config_path: Path) -> None:
    """Check the config and every event file; one line per problem."""
    from bot.app import check_events
    from bot.config import library_tokens

    config = _load(config_path)
    problems: list[str] = []
    for library in config.libraries:
        try:
            library_tokens(library)
        except MissingSecret as exc:
            problems.append(f"{config.path}: {exc}")
    planned, bad = check_events(config)
    problems += [str(p) for p in bad]
    for line in problems:
        click.echo(line, err=True)
    actions = sum(len(a) for _, a in planned)
    click.echo(
        f"{len(planned)} event(s), {actions} publication(s) planned; {len(problems)} problem(s)"
    )
    sys.exit(1 if problems else 0)


@main.command()
@config_option
@click.option("--days", type=int, default=30, show_default=True, help="How far ahead to show.")
@click.option("--library", "library_id", help="Only this library.")
def plan(config_path: Path, days: int, library_id: str | None) -> None:
    """Load the events into the plan and show the coming actions in local time."""
    from zoneinfo import ZoneInfo

    from bot.app import load_plan
    from bot.storage import from_db, open_db, to_db
    from scheduler.clock import SystemClock

    config = _load(config_path)
    db = open_db(config.storage)
    result = load_plan(db, config)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    now = SystemClock().now()
    where = "due_at <= ? and state in ('pending', 'sending')"
    params: list = [to_db(now + timedelta(days=days))]
    if library_id:
        where += " and library_id = ?"
        params.append(library_id)
    zones = {lib.id: lib.timezone for lib in config.libraries}
    for row in db["actions"].rows_where(where, params, order_by="due_at"):
        zone = zones.get(row["library_id"]) or ZoneInfo("UTC")
        local = from_db(row["due_at"]).astimezone(zone)
        click.echo(
            f"{local:%Y-%m-%d %H:%M} {zone.key:<18} {row['state']:<8} {row['kind']:<9} {row['network']:<8} {row['event_id']}"
        )


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log every action.")
def run(config_path: Path, verbose: bool) -> None:
    """Run the bot: post on schedule and collect metrics until stopped (Ctrl-C)."""
    from bot.app import run_bot

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    logging.getLogger("bot").setLevel(logging.INFO)
    config = _load(config_path)

    async def main_loop() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(config, stop=stop)

    try:
        asyncio.run(main_loop())
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@main.command()
@config_option
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day (local), YYYY-MM-DD.",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Last day (local), YYYY-MM-DD.",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "md"]), default="md", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of the screen.")
def report(config_path: Path, start, end, fmt: str, out: Path | None) -> None:
    """Each event of the period with its publications and latest metrics."""
    from bot.storage import open_db
    from reports.basic import build_rows, to_csv, to_markdown

    config = _load(config_path)
    if not config.storage.exists():
        click.echo(
            f"{config.storage}: no database yet; run `bibliobot run` or `bibliobot plan` first",
            err=True,
        )
        sys.exit(1)
    rows = build_rows(open_db(config.storage), start.date(), end.date())
    text = to_csv(rows, config.language) if fmt == "csv" else to_markdown(rows, config.language)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} row(s) → {out}")
    else:
        click.echo(text)


@main.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated world.")
@click.option(
    "--telegram-port", type=int, default=0, help="Port of the Telegram stand-in (0: any free)."
)
@click.option("--vk-port", type=int, default=0, help="Port of the VK stand-in (0: any free).")
@click.option("--control-port", type=int, default=0, help="Port of the control API (0: any free).")
@click.option(
    "--faults",
    default="",
    help="Faults to inject, METHOD:KIND:RATE[:DELAY],... (kinds: 5xx, slow, reset, ambiguous).",
)
def sandbox(seed: int, telegram_port: int, vk_port: int, control_port: int, faults: str) -> None:
    """Run the local VK and Telegram stand-ins; print one JSON line describing them."""
    import threading

    from sandbox.faults import FaultSpecError
    from sandbox.server import Sandbox

    box = Sandbox(seed=seed, ports=(telegram_port, vk_port, control_port))
    if faults:
        try:
            box.set_faults(faults, seed=seed)
        except FaultSpecError as exc:
            raise click.BadParameter(str(exc), param_hint="--faults") from None
    click.echo(json.dumps(box.start(), ensure_ascii=False), nl=True)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("demo-out"), show_default=True)
@click.option("--language", type=click.Choice(["ru", "en"]), default="ru", show_default=True)
def demo(out: Path, language: str) -> None:
    """Post the sample announcement to both stand-ins, measure it, write the report."""
    from bot.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    result = asyncio.run(run_demo(out, language, say=click.echo))
    ok = len(result.rows) >= 2 and all(r.state == "sent" for r in result.rows)
    sys.exit(0 if ok else 1)
