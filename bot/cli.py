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

from core.errors import BibliobotError, InputError, MissingSecret, Problems

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
    from core.config_file import load_config

    try:
        return load_config(config_path)
    except Problems as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except InputError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def _known_library(config, library_id: str | None) -> None:
    """Exit (code 2) naming the config's libraries when ``library_id`` is not one of them."""
    if library_id is not None and config.library(library_id) is None:
        known = ", ".join(library.id for library in config.libraries)
        click.echo(f"no library {library_id!r} in the config; known: {known}", err=True)
        sys.exit(2)


@main.command()
@config_option
def validate(config_path: Path) -> None:
    """Check the config and every event file; one line per problem."""
    from bot.app import check_events
    from core.config import library_tokens

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
@click.option(
    "--ics", type=click.Path(path_type=Path), help="Write the coming posts as an iCalendar file."
)
def plan(config_path: Path, days: int, library_id: str | None, ics: Path | None) -> None:
    """Load the events into the plan and show the coming actions in local time."""
    from bot.app import load_plan
    from core.clock import SystemClock
    from scheduler.agenda import calendar, coming, line

    config = _load(config_path)
    _known_library(config, library_id)
    db = _writable_db(config.storage)
    result = load_plan(db, config)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    for change in result.changes:
        for conflict in change.conflicts:
            click.echo(conflict, err=True)
    now = SystemClock().now()
    items = coming(db, config, now, days, library_id, posts_only=ics is not None)
    if ics:
        ics.write_bytes(calendar(items, config.language, "bibliobot", now))
        click.echo(f"{len(items)} post(s) → {ics}")
        return
    for item in items:
        click.echo(line(item, config.language))


@main.command()
@config_option
@click.option("--library", "library_id", help="Only this library.")
@click.option("--days", type=int, default=30, show_default=True, help="Posts of the last N days.")
def collect(config_path: Path, library_id: str | None, days: int) -> None:
    """Read the metrics of recent posts now (e.g. just before a report)."""
    from bot.platforms import build_platforms
    from core.clock import SystemClock
    from scheduler.snapshots import collect_recent

    config = _load(config_path)
    _known_library(config, library_id)
    db = _open_plan(config_path)
    platforms = build_platforms(config)
    clock = SystemClock()

    def progress(done: int, total: int) -> None:
        click.echo(f"\r{done}/{total} publications read", nl=False)

    async def go() -> int:
        try:
            since = clock.now() - timedelta(days=days)
            return await collect_recent(db, platforms, since, clock.now, library_id, progress)
        finally:
            for platform in set(platforms.values()):
                await platform.close()

    try:
        written = asyncio.run(go())
    except BibliobotError as exc:
        click.echo(f"\n{exc}", err=True)
        sys.exit(1)
    click.echo(f"\n{written} sample(s) stored")
    if getattr(written, "unread", 0):
        click.echo(
            f"{written.unread} publication(s) or community(ies) not read: the platform kept "
            "refusing; run collect again later",
            err=True,
        )


@main.command()
@config_option
@click.argument("event_id")
def cancel(config_path: Path, event_id: str) -> None:
    """Cancel an event (LIBRARY/FILE-NAME): nothing more of it is posted."""
    from core.clock import SystemClock
    from core.storage import to_db
    from scheduler.plan import cancel_event

    db = _open_plan(config_path, event_id.split("/")[0] if "/" in event_id else None)
    if not db["events"].count_where("id = ?", [event_id]):
        known = ", ".join(r["id"] for r in db["events"].rows_where(order_by="id", limit=20))
        click.echo(f"no event {event_id!r} in the plan; known: {known}", err=True)
        sys.exit(1)
    dropped = cancel_event(db, event_id, to_db(SystemClock().now()), "cancelled by the librarian")
    click.echo(f"{event_id}: cancelled, {dropped} planned action(s) dropped")


@main.command()
@config_option
@click.argument("library_id")
def pause(config_path: Path, library_id: str) -> None:
    """Pause a library: its planned posts wait until `resume`."""
    _set_paused(config_path, library_id, True)


@main.command()
@config_option
@click.argument("library_id")
def resume(config_path: Path, library_id: str) -> None:
    """Resume a paused library; posts whose time passed beyond the grace are marked missed."""
    _set_paused(config_path, library_id, False)


def _open_plan(config_path: Path, library_id: str | None = None):
    """The plan's database; exits if there is none yet, or if ``library_id`` is unknown."""
    config = _load(config_path)
    _known_library(config, library_id)
    if not config.storage.exists():
        click.echo(f"{config.storage}: no database yet; run `bibliobot plan` first", err=True)
        sys.exit(1)
    return _writable_db(config.storage)


def _writable_db(path: Path):
    """The database, opened to be written; exits (code 2) in one line if it cannot be."""
    from core.storage import ReadOnlyDatabase, open_db

    try:
        return open_db(path, check_writable=True)
    except ReadOnlyDatabase as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def _set_paused(config_path: Path, library_id: str, paused: bool) -> None:
    from scheduler.plan import set_paused

    db = _open_plan(config_path, library_id)
    if not db["libraries"].count_where("id = ?", [library_id]):
        click.echo(f"no library {library_id!r} in the plan", err=True)
        sys.exit(1)
    set_paused(db, library_id, paused)
    word = "paused" if paused else "resumed"
    click.echo(f"{library_id}: {word} (a running bot picks this up within its refresh interval)")


@main.command()
@config_option
@click.option("-v", "--verbose", is_flag=True, help="Log every action.")
def run(config_path: Path, verbose: bool) -> None:
    """Run the bot: post on schedule and collect metrics until stopped (Ctrl-C)."""
    from bot.app import run_bot
    from bot.runlock import AlreadyRunning, hold

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    logging.getLogger("bot").setLevel(logging.INFO)
    # -v adds the bot's own detail, not APScheduler's line per job (100,000 at start-up).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    config = _load(config_path)
    _writable_db(config.storage).close()  # a read-only database: one line, not a traceback
    try:  # one bot per database: a second would send the same posts (see bot.runlock)
        lock = hold(config.storage)
    except AlreadyRunning as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)

    async def main_loop() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bot(config, stop=stop)

    try:
        with lock:
            asyncio.run(main_loop())
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


from bot.cli_report import report  # noqa: E402  (its own module; registered here)

main.add_command(report)


@main.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated world.")
@click.option(
    "--telegram-port", type=int, default=0, help="Port of the Telegram stand-in (0: any free)."
)
@click.option("--vk-port", type=int, default=0, help="Port of the VK stand-in (0: any free).")
@click.option("--control-port", type=int, default=0, help="Port of the control API (0: any free).")
@click.option("--max-port", type=int, default=0, help="Port of the MAX stand-in (0: any free).")
@click.option(
    "--faults",
    default="",
    help="Faults to inject, METHOD:KIND:RATE[:DELAY],... (kinds: 5xx, 429, slow, reset, "
    "ambiguous; MAX methods by operationId with max/, e.g. max/sendMessage:5xx:0.1).",
)
def sandbox(
    seed: int, telegram_port: int, vk_port: int, control_port: int, max_port: int, faults: str
) -> None:
    """Run the local Telegram, VK and MAX stand-ins; print one JSON line describing them
    (a ``max`` part: api_url, token, channel_id, chat_id)."""
    import threading

    from sandbox.faults import FaultSpecError
    from sandbox.server import Sandbox

    box = Sandbox(seed=seed, ports=(telegram_port, vk_port, control_port, max_port))
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
    """Post the sample announcement to the three stand-ins, run a short quiz, measure, write the report."""
    from bot.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    result = asyncio.run(run_demo(out, language, say=click.echo))
    sys.exit(0 if result.ok else 1)


from bot.cli_import import import_command  # noqa: E402  (its own module; registered here)

main.add_command(import_command)

from bot.cli_giveaway import verify_draw  # noqa: E402  (its own module; registered here)

main.add_command(verify_draw)


@main.command("contest")
@click.argument("event_id")
@click.argument("action", type=click.Choice(["list", "approve", "reject"]))
@click.argument("number", type=int, required=False)
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Configuration file (default: $BIBLIOBOT_CONFIG or config.toml).",
)
def contest_command(
    event_id: str, action: str, number: int | None, config_path: Path | None
) -> None:
    """List a contest's entries (LIBRARY/EVENT), or approve / reject entry N."""
    # The same decision as the Approve / Reject buttons the admins get in Telegram; a running
    # bot sees it at once (the gallery reads the entries from the database when it fires).
    from bot.contest import moderation, store
    from core.clock import SystemClock

    path = config_path or Path(os.environ.get("BIBLIOBOT_CONFIG", DEFAULT_CONFIG))
    library_id = event_id.split("/")[0] if "/" in event_id else None
    db = _open_plan(path, library_id)
    found = store.contest(db, event_id)
    if found is None:
        known = [c.event_id for c in store.contests(db, [library_id or ""], "telegram")]
        known += [c.event_id for c in store.contests(db, [library_id or ""], "vk")]
        click.echo(
            f"no contest {event_id!r} in the plan; known: {', '.join(sorted(set(known))) or 'none'}",
            err=True,
        )
        sys.exit(1)
    if action == "list":
        _list(db, found)
        return
    if number is None:
        click.echo(f"{action} needs the entry's number, e.g. `{action} 3`", err=True)
        sys.exit(2)
    try:
        entry = moderation.decide(
            db, event_id, number, action == "approve", "cli", SystemClock().now()
        )
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"{event_id}: entry No. {number} {entry['state']}")


def _list(db, found) -> None:
    """A contest's entries, one line each."""
    from bot.contest import store
    from core.storage import from_db

    rows = store.entries(db, found.event_id)
    zone = found.entries_until.tzinfo
    click.echo(f"{found.title}: {len(rows)} entries (until {found.entries_until:%Y-%m-%d %H:%M})")
    for row in rows:
        when = from_db(row["received_at"]).astimezone(zone)
        votes = "" if row["votes"] is None else f" votes {row['votes']}"
        place = f" place {row['place']}" if row["place"] else ""
        text = " ".join((row["text"] or "").split())[:60]
        name = row["name"] or "—"
        click.echo(
            f"{row['number']:>3}  {row['network']:<8} {row['type']:<5} {row['state']:<8} "
            f"{when:%Y-%m-%d %H:%M}  {name}{votes}{place}  {text}"
        )
