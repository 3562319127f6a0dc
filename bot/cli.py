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

from bot.cli_words import (
    DEFAULT_CONFIG,
    LocalGroup,
    LocalOption,
    config_option,
    option,
    speak,
    words,
)
from core import messages
from core.errors import BibliobotError, InputError, MissingSecret, Problems

config_option = config_option()


@click.group(cls=LocalGroup, help=words("main_help"))
@click.version_option(package_name="bibliobot", help=words("version_option"), cls=LocalOption)
def main() -> None:
    """bibliobot's commands (the help text is the catalogue's ``cli.main_help``)."""
    from bot.cli_words import help_language

    speak(help_language())  # until a command reads its config


def _load(config_path: Path):
    """The config, validated; its language is spoken from here on. Exits on problems."""
    from core.config_file import load_config

    try:
        config = load_config(config_path)
        speak(config.language)
        return config
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
        click.echo(messages.text("cli.no_library", library=library_id, known=known), err=True)
        sys.exit(2)


@main.command(help=words("validate_help"))
@config_option
def validate(config_path: Path) -> None:
    """Check the config and every event file."""
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
    summary = messages.text(
        "cli.validate_summary", events=len(planned), posts=actions, problems=len(problems)
    )
    click.echo(summary)
    sys.exit(1 if problems else 0)


@main.command(help=words("plan_help"))
@config_option
@option("--days", type=int, default=30, show_default=True, help=words("plan_days"))
@option("--library", "library_id", help=words("opt_library"))
@option("--ics", type=click.Path(path_type=Path), help=words("plan_ics"))
def plan(config_path: Path, days: int, library_id: str | None, ics: Path | None) -> None:
    """Load the events into the plan and show the coming actions."""
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
        click.echo(messages.text("cli.ics_written", count=len(items), path=ics))
        return
    for item in items:
        click.echo(line(item, config.language))


@main.command(help=words("collect_help"))
@config_option
@option("--library", "library_id", help=words("opt_library"))
@option("--days", type=int, default=30, show_default=True, help=words("collect_days"))
def collect(config_path: Path, library_id: str | None, days: int) -> None:
    """Read the metrics of recent posts now."""
    from bot.platforms import build_platforms
    from core.clock import SystemClock
    from scheduler.snapshots import collect_recent

    config = _load(config_path)
    _known_library(config, library_id)
    db = _open_plan(config_path)
    platforms = build_platforms(config)
    clock = SystemClock()

    def progress(done: int, total: int) -> None:
        click.echo("\r" + messages.text("cli.collect_progress", done=done, total=total), nl=False)

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
    click.echo("\n" + messages.text("cli.collect_stored", count=int(written)))
    if getattr(written, "unread", 0):
        click.echo(messages.text("cli.collect_unread", count=written.unread), err=True)


@main.command(help=words("cancel_help"))
@config_option
@click.argument("event_id")
def cancel(config_path: Path, event_id: str) -> None:
    """Cancel an event: nothing more of it is posted."""
    from bot.operations import cancel_event
    from core.clock import SystemClock

    db = _open_plan(config_path, event_id.split("/")[0] if "/" in event_id else None)
    if not db["events"].count_where("id = ?", [event_id]):
        known = ", ".join(r["id"] for r in db["events"].rows_where(order_by="id", limit=20))
        click.echo(messages.text("cli.no_event", event=event_id, known=known), err=True)
        sys.exit(1)
    dropped = cancel_event(db, event_id, SystemClock().now(), "the librarian (CLI)")
    click.echo(messages.text("cli.cancelled", event=event_id, count=dropped))


@main.command(help=words("pause_help"))
@config_option
@click.argument("library_id")
def pause(config_path: Path, library_id: str) -> None:
    """Pause a library."""
    _set_paused(config_path, library_id, True)


@main.command(help=words("resume_help"))
@config_option
@click.argument("library_id")
def resume(config_path: Path, library_id: str) -> None:
    """Resume a paused library."""
    _set_paused(config_path, library_id, False)


def _open_plan(config_path: Path, library_id: str | None = None):
    """The plan's database; exits if there is none yet, or if ``library_id`` is unknown."""
    config = _load(config_path)
    _known_library(config, library_id)
    if not config.storage.exists():
        click.echo(messages.text("cli.no_database", path=config.storage), err=True)
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
    from bot.operations import set_paused

    db = _open_plan(config_path, library_id)
    if not db["libraries"].count_where("id = ?", [library_id]):
        click.echo(messages.text("cli.no_library_in_plan", library=library_id), err=True)
        sys.exit(1)
    set_paused(db, library_id, paused)
    click.echo(messages.text("cli.paused" if paused else "cli.resumed", library=library_id))


@main.command(help=words("run_help"))
@config_option
@option("-v", "--verbose", is_flag=True, help=words("run_verbose"))
def run(config_path: Path, verbose: bool) -> None:
    """Run the bot until stopped."""
    from bot.app import run_bot
    from bot.run_lines import RunLines
    from bot.runlock import AlreadyRunning, hold
    from core.storage import open_db

    # Without -v only warnings reach the log: what happened is said by the run's lines.
    # -v adds the bot's own detail, not APScheduler's line per job (100,000 at start-up).
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("bot").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("scheduler").setLevel(logging.INFO if verbose else logging.WARNING)
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
        lines = RunLines(open_db(config.storage), config, click.echo, verbose)
        await run_bot(config, stop=stop, lines=lines)

    try:
        with lock:
            asyncio.run(main_loop())
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


from bot.cli_report import report  # noqa: E402  (its own module; registered here)

main.add_command(report)


@main.command(help=words("sandbox_help"))
@option("--seed", type=int, default=0, show_default=True, help=words("sandbox_seed"))
@option("--telegram-port", type=int, default=0, help=words("sandbox_port", name="Telegram"))
@option("--vk-port", type=int, default=0, help=words("sandbox_port", name="VK"))
@option("--control-port", type=int, default=0, help=words("sandbox_control_port"))
@option("--max-port", type=int, default=0, help=words("sandbox_port", name="MAX"))
@option("--faults", default="", help=words("sandbox_faults"))
def sandbox(
    seed: int, telegram_port: int, vk_port: int, control_port: int, max_port: int, faults: str
) -> None:
    """Run the local stand-ins and print one JSON line describing them."""
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


@main.command(help=words("demo_help"))
@option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help=words("demo_out"),
)
@option(
    "--language",
    type=click.Choice(["ru", "en"]),
    default="ru",
    show_default=True,
    help=words("demo_language"),
)
def demo(out: Path, language: str) -> None:
    """The demo on the stand-ins."""
    from bot.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    result = asyncio.run(run_demo(out, language, say=click.echo))
    sys.exit(0 if result.ok else 1)


from bot.cli_import import import_command  # noqa: E402  (its own module; registered here)

main.add_command(import_command)

from bot.cli_giveaway import verify_draw  # noqa: E402  (its own module; registered here)

main.add_command(verify_draw)

from bot.cli_doctor import doctor  # noqa: E402  (its own module; registered here)

main.add_command(doctor)


@main.command("contest", help=words("contest_help"))
@click.argument("event_id")
@click.argument("action", type=click.Choice(["list", "approve", "reject"]))
@click.argument("number", type=int, required=False)
@option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help=words("opt_config_or_env"),
)
def contest_command(
    event_id: str, action: str, number: int | None, config_path: Path | None
) -> None:
    """List a contest's entries, or approve / reject one."""
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
        listing = ", ".join(sorted(set(known))) or messages.text("cli.none")
        click.echo(messages.text("cli.no_contest", event=event_id, known=listing), err=True)
        sys.exit(1)
    if action == "list":
        _list(db, found)
        return
    if number is None:
        click.echo(messages.text("cli.contest_needs_number", action=action), err=True)
        sys.exit(2)
    try:
        entry = moderation.decide(
            db, event_id, number, action == "approve", "cli", SystemClock().now()
        )
    except BibliobotError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    state = _entry_state(entry["state"])
    click.echo(messages.text("cli.contest_decided", event=event_id, number=number, state=state))


def _entry_state(state: str) -> str:
    """A contest entry's state in the reader's words."""
    key = f"cli.contest_state_{state}"
    return messages.text(key) if key in messages.catalogue() else state


def _list(db, found) -> None:
    """A contest's entries, one line each."""
    from bot.contest import store
    from core.storage import from_db

    rows = store.entries(db, found.event_id)
    zone = found.entries_until.tzinfo
    until = f"{found.entries_until:%Y-%m-%d %H:%M}"
    click.echo(
        messages.text("cli.contest_listing", title=found.title, count=len(rows), until=until)
    )
    for row in rows:
        when = from_db(row["received_at"]).astimezone(zone)
        votes = (
            "" if row["votes"] is None else messages.text("cli.contest_votes", votes=row["votes"])
        )
        place = messages.text("cli.contest_place", place=row["place"]) if row["place"] else ""
        text = " ".join((row["text"] or "").split())[:60]
        name = row["name"] or "—"
        click.echo(
            f"{row['number']:>3}  {row['network']:<8} {row['type']:<5} {_entry_state(row['state']):<12} "
            f"{when:%Y-%m-%d %H:%M}  {name}{votes}{place}  {text}"
        )
