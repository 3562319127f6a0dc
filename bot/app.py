"""The bot put together: the plan loaded from the events folder, and the one application
(adapters, runner, engines, update readers) that ``run``, the demo, the tests and the
benchmarks build with ``build_app``.

``validate`` and ``plan`` import this module for the plan alone: the adapters, the engines
and the update readers (python-telegram-bot, vk_api) are imported once an application is
built, not before.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import sqlite_utils

from bot.alerts import Alerts, Notify
from bot.alerts import make_notifier as alerts_notifier
from bot.giveaway.engine import forget_names as forget_winner_names
from bot.intake.waits import release_threads
from bot.logredact import protect_config
from bot.problems import ProblemTeller
from bot.quiz.store import forget_names
from core.clock import Clock, SystemClock
from core.config import Config, LibraryConfig
from core.errors import InputError
from core.model import PlannedAction
from core.platform import Platform
from core.storage import open_db, planned_event_ids, to_db
from core.texts import TEMPLATES_DIR
from scheduler.events import Event, ParsedFiles, as_problem, load_events
from scheduler.plan import (
    PlanChange,
    apply_plan,
    cancel_event,
    expand,
    plan_community_snapshots,
)

if TYPE_CHECKING:  # imported when an application is built (see the module's docstring)
    from bot.admin.desk import AdminDesk
    from bot.contest.engine import ContestEngine
    from bot.contest.entries import ContestBook
    from bot.giveaway.engine import GiveawayEngine
    from bot.intake import Intake
    from bot.quiz.answers import AnswerBook
    from bot.quiz.engine import QuizEngine
    from bot.run_lines import RunLines
    from scheduler.runner import Runner

log = logging.getLogger(__name__)
# Events planned in one transaction: fewer commits, yet another writer (the CLI) waits
# for at most a moment.
PLAN_CHUNK = 50


@dataclass
class LoadResult:
    """What loading the events folder did: changes per event and problems per file."""

    changes: list[PlanChange] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    cancelled: dict[str, int] = field(default_factory=dict)  # event id → pending actions dropped
    unchanged: int = 0  # events whose file and settings did not change since the last load


def check_events(
    config: Config, clock: Clock | None = None
) -> tuple[list[tuple[Event, list[PlannedAction]]], list[InputError]]:
    """Parse and expand every event file: the good ones with their actions, and all problems.

    An event that has passed is a problem unless the plan (if there is one yet) has it.
    """
    now = (clock or SystemClock()).now()
    events, problems = load_events(config, now=now, planned=planned_event_ids(config.storage))
    planned = []
    for event in events:
        try:
            planned.append((event, expand(event, config)))
        except Exception as exc:  # a bad file costs only itself
            problems.append(as_problem(event.source, exc))
    return planned, problems


def load_plan(
    db: sqlite_utils.Database,
    config: Config,
    clock: Clock | None = None,
    kept: ParsedFiles | None = None,
) -> LoadResult:
    """Bring the database plan in line with the events folder; bad files change nothing.

    An event whose file was deleted is cancelled (its pending actions with it);
    a file that is present but invalid keeps its previous plan. A new event that has
    passed is refused; one already planned is not, however long ago its time was.
    ``kept``: the events parsed at the last load, re-used for unchanged files.
    """
    clock = clock or SystemClock()
    known, sources = _known_events(db)
    return _apply_events(
        db, config, clock, known, _read_folder(config, clock, known, sources, kept)
    )


async def reload_plan(
    db: sqlite_utils.Database, config: Config, clock: Clock, kept: ParsedFiles
) -> LoadResult:
    """``load_plan`` for the running bot: the files are read, parsed and weighed against
    the plan in a worker thread, the database written on the loop (its connection
    belongs to the loop)."""
    known, sources = _known_events(db)
    # Reading 1,000 event files, their digests and whether each planned event's file is
    # still there is up to a second of work: on the event loop it would hold back every
    # post due meanwhile; in a thread the loop keeps its turn.
    read = await asyncio.to_thread(_read_folder, config, clock, known, sources, kept)
    return _apply_events(db, config, clock, known, read)


@dataclass
class _FolderRead:
    """The events folder as read (in a worker thread): the events that need planning,
    each with its plan digest, the file digest of each, the problems, and the planned
    events whose file is gone."""

    events: list[Event]
    file_digests: dict[str, str]  # event id → the digest of its file alone
    problems: list[InputError]
    unchanged: int
    deleted: list[str]


def _known_events(db: sqlite_utils.Database) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Every planned event's digest and status, and each active event's file."""
    known, sources = {}, {}
    for event_id, digest, status, source in db.execute(
        "select id, digest, status, source from events"
    ):
        known[event_id] = (digest, status)
        if status == "active" and source:
            sources[event_id] = source
    return known, sources


def _read_folder(
    config: Config,
    clock: Clock,
    known: dict[str, tuple[str, str]],
    sources: dict[str, str],
    kept: ParsedFiles | None,
) -> _FolderRead:
    """Parse the folder and weigh each event against the plan; touches no database."""
    events, problems = load_events(config, now=clock.now(), planned=known, kept=kept)
    salt = _plan_salt(config)
    settings = {library.id: str(library) for library in config.libraries}  # once, not per event
    read = _FolderRead([], {}, problems, 0, [])
    for event in events:
        library = settings.get(event.library, str(None))
        planned = replace(event, digest=_plan_digest(event, library, salt))
        if known.get(event.id) == (planned.digest, "active"):
            read.unchanged += 1  # same file, same settings: its plan stands (fast restarts)
            continue
        read.events.append(planned)
        # The file's own digest tells an edit of the file from a change of settings.
        read.file_digests[event.id] = event.digest
    read_ids = {event.id for event in events}  # a renamed file keeps its event
    for event_id, source in sources.items():
        path = Path(source)
        if event_id not in read_ids and path.parent == config.events_dir and not path.exists():
            read.deleted.append(event_id)
    return read


def _apply_events(
    db: sqlite_utils.Database,
    config: Config,
    clock: Clock,
    known: dict[str, tuple[str, str]],
    read: _FolderRead,
) -> LoadResult:
    """Plan the events read from the files; cancel those whose file was deleted."""
    result = LoadResult(problems=read.problems, unchanged=read.unchanged)
    for first in range(0, len(read.events), PLAN_CHUNK):
        # Each event is its own savepoint; a commit per event wrote most index pages
        # again each time (1,000 series: a second and a half of 5 s).
        with db.atomic():
            for event in read.events[first : first + PLAN_CHUNK]:
                try:
                    actions = expand(event, config)
                except Exception as exc:  # a bad file costs only itself
                    result.problems.append(as_problem(event.source, exc))
                    continue
                file_digest = read.file_digests[event.id]
                result.changes.append(apply_plan(db, config, event, actions, clock, file_digest))
    plan_community_snapshots(db, config, clock.now())
    for event_id in read.deleted:
        why = "the event file was deleted"
        result.cancelled[event_id] = cancel_event(db, event_id, to_db(clock.now()), why)
    return result


def _plan_salt(config: Config) -> str:
    """What besides the event file shapes a plan: language, schedule and the post frames."""
    digest = hashlib.sha256(f"{config.language}|{config.schedule}".encode())
    for path in sorted((TEMPLATES_DIR / "posts").rglob("*.j2")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _plan_digest(event: Event, library: str, salt: str) -> str:
    """Changes whenever re-planning the event could give a different plan (``library``:
    the settings of the event's library, as text)."""
    return hashlib.sha256(f"{event.digest}|{library}|{salt}".encode()).hexdigest()[:24]


def forget_old_names(db: sqlite_utils.Database, config: Config, now) -> int:
    """Players' names are kept only ``keep_names`` after their quiz (personal data)."""
    return sum(_forget_names_of(db, library, now) for library in config.libraries)


async def forget_old_names_gently(db: sqlite_utils.Database, config: Config, now) -> int:
    """``forget_old_names`` giving the event loop its turn after each library (1,000
    libraries: 2,000 queries, too long for a post due meanwhile to wait)."""
    forgotten = 0
    for library in config.libraries:
        forgotten += _forget_names_of(db, library, now)
        await asyncio.sleep(0)
    return forgotten


def _forget_names_of(db: sqlite_utils.Database, library: LibraryConfig, now) -> int:
    before = now - library.keep_names
    return forget_names(db, library.id, before) + forget_winner_names(db, library.id, before)


def make_notifier(config: Config, platforms: Mapping[tuple[str, str], Platform]) -> Notify:
    """Tell a library's admins on every network that names them (``bot.alerts``)."""
    return alerts_notifier(config, platforms)


def make_intakes(
    db: sqlite_utils.Database,
    config: Config,
    platforms: Mapping[tuple[str, str], Platform],
    env: Mapping[str, str] | None = None,
    quiz: AnswerBook | None = None,
    notify: Notify | None = None,
    *,
    clock: Clock | None = None,
    wait: int = 25,
    giveaway: GiveawayEngine | None = None,
    contest: ContestBook | None = None,
    alerts: Alerts | None = None,
    admin: AdminDesk | None = None,
) -> list[Intake]:
    """The update readers of every network (``bot.intake.INTAKES``): one per bot or
    community, and the webhook server where updates come as webhooks.

    ``wait``: how long a long poll waits for updates (seconds); ``quiz``, ``giveaway`` and
    ``contest`` take what readers send (answers, giveaway comments, contest entries and
    the admins' moderation); ``alerts`` is told when a platform refuses a token (made from
    ``notify`` if not given); ``admin`` answers the admins' private messages (the admin chat).
    """
    from bot.intake import Wiring, build_intakes

    if alerts is None and notify is not None:
        alerts = Alerts(db, config, notify, clock)
    wiring = Wiring(
        db, config, platforms, env, quiz, notify, clock, wait, giveaway, contest, alerts=alerts,
        admin=admin,
    )  # fmt: skip
    return build_intakes(wiring)


def make_refresh(
    db: sqlite_utils.Database,
    config: Config,
    runner: Runner,
    problems: ProblemTeller,
    kept: ParsedFiles | None = None,
) -> Callable[[], Awaitable[None]]:
    """The job that picks up edited event files and plan changes made by other commands.

    Unchanged event files are not parsed again (``kept``), and the jobs are synced only
    when the plan changed, an action was added, a library paused or resumed, or another
    connection wrote; every ``kept.full_every``-th refresh re-reads everything (1,000
    libraries: ~1 s of parsing, in a worker thread, and a full sync on the loop).
    """
    kept = kept or ParsedFiles()

    async def refresh() -> None:
        # A coroutine, so the scheduler runs it on the event loop: a plain function would
        # run in a worker thread, where the loop's database connection may not be used.
        result = await reload_plan(db, config, runner.clock, kept)
        await problems.tell(result.problems)
        await problems.tell_edits(result.changes)
        full = kept.loads % kept.full_every == 0
        # Re-parsed every file, the plan changed, or another command wrote: a sync, which
        # gives the loop its turn as it goes (100,000 pending actions at 1,000 libraries).
        if full or result.changes or result.cancelled or runner.changed_since_sync():
            await runner.sync_gently()
        if full or kept.loads <= 2:
            # Names are kept for days: at start and with each full reload (every few
            # minutes) is soon enough, and spares 2,000 queries of the loop's every refresh.
            await forget_old_names_gently(db, config, runner.clock.now())

    return refresh


@dataclass
class App:
    """The bot wired once: adapters, the runner with every engine's handlers, update readers."""

    db: sqlite_utils.Database
    config: Config
    platforms: dict[tuple[str, str], Platform]
    runner: Runner
    quiz: QuizEngine
    giveaway: GiveawayEngine
    contest: ContestEngine
    intakes: list[Intake]
    notify: Notify | None  # tells a library's admins (None: nobody is told)
    alerts: Alerts | None = None  # what went wrong, told to the admins once per fault
    admin: AdminDesk | None = None  # the admin chat

    @property
    def clock(self) -> Clock:
        """The clock every part reads."""
        return self.runner.clock

    async def start(self) -> int:
        """Arm the plan's actions and the contests' housekeeping; returns the actions armed."""
        armed = await self.runner.start()
        self.runner.scheduler.add_job(
            self.contest.housekeeping,
            "interval",
            seconds=5,
            id="contest",
            coalesce=True,
            max_instances=1,
        )
        return armed

    async def listen(self, stop: asyncio.Event) -> None:
        """Read every intake's updates until ``stop`` is set."""
        readers = [asyncio.create_task(intake.run(stop)) for intake in self.intakes]
        try:
            await stop.wait()
        finally:
            await asyncio.gather(*readers, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the runner and close the adapters' connections."""
        release_threads()  # the readers' API-call threads end once their calls return
        await self.runner.stop()
        if self.admin is not None:
            await self.admin.idle()  # the admins' commands under way are answered
        if self.alerts is not None:
            await self.alerts.drain()
        await self.close()

    async def close(self) -> None:
        """Close the adapters' connections (all an application never started needs)."""
        for platform in set(self.platforms.values()):
            await platform.close()


def build_app(
    config: Config,
    db: sqlite_utils.Database,
    *,
    env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    rate_limit: bool = True,
    tell_admins: bool = True,
    intakes: bool = True,
    wait: int = 25,
    proof_dir: Path | None = None,
    platforms: dict[tuple[str, str], Platform] | None = None,
) -> App:
    """The application for ``config`` on ``db``: every caller's wiring, once.

    ``env``: where the tokens are read (the process environment by default); ``clock``: an
    injected clock (tests, benchmarks); ``rate_limit``: whether the adapters hold to the
    networks' limits; ``tell_admins``: whether failures are told to the libraries' admins;
    ``intakes``: whether update readers are built (``wait``: their long polls' wait, s);
    ``proof_dir``: where giveaway proofs go (next to the database by default); ``platforms``:
    adapters already built (a restart in a test keeps its connections).
    """
    from bot.admin.desk import AdminDesk
    from bot.contest.engine import ContestEngine
    from bot.giveaway.engine import GiveawayEngine
    from bot.platforms import build_platforms
    from bot.quiz.engine import QuizEngine
    from scheduler.runner import Runner

    clock = clock or SystemClock()
    if platforms is None:
        platforms = build_platforms(config, env, rate_limit=rate_limit)
    notify = make_notifier(config, platforms) if tell_admins else None
    runner = Runner(db, config, platforms, clock=clock)
    alerts = Alerts(db, config, notify, clock)
    runner.observers.append(alerts.observe)
    alerts.replan = runner.sync  # a handed-over VK post linked: its snapshots armed anew
    for library in config.libraries:  # VK without a user token hands posts to the admins
        vk = platforms.get((library.id, "vk"))
        if library.vk is not None and hasattr(vk, "hand_over"):
            vk.hand_over = partial(alerts.hand_over, library.id, library.vk.group_id)  # type: ignore[union-attr]
    quiz = QuizEngine(db, config, platforms, clock)
    giveaway = GiveawayEngine(db, config, platforms, clock, proof_dir=proof_dir, notify=notify)
    contest = ContestEngine(db, config, platforms, clock)
    contest.arm = runner.sync  # the gallery plans entry posts as it fires
    for engine in (quiz, giveaway, contest):
        runner.handlers.update(engine.handlers())
    admin = AdminDesk(db, config, platforms, clock, replan=runner.sync)
    readers = (
        make_intakes(
            db,
            config,
            platforms,
            env,
            quiz.book,
            notify,
            clock=clock,
            wait=wait,
            giveaway=giveaway,
            contest=contest.book,
            alerts=alerts,
            admin=admin,
        )
        if intakes
        else []
    )
    return App(
        db, config, platforms, runner, quiz, giveaway, contest, readers, notify, alerts, admin
    )


async def run_bot(
    config: Config,
    env: Mapping[str, str] | None = None,
    stop: asyncio.Event | None = None,
    lines: RunLines | None = None,
) -> None:
    """Load the plan and run until ``stop`` is set (or forever); ``lines`` says what happens."""
    protect_config(config, env)  # no token in any log line from here on
    db = open_db(config.storage)
    kept = ParsedFiles()  # the refreshes re-use what this first load parsed
    result = load_plan(db, config, kept=kept)
    app = build_app(config, db, env=env)
    problems = ProblemTeller(config, app.notify)
    await problems.tell(result.problems)
    await problems.tell_edits(result.changes)
    if lines is not None:
        app.runner.observers.append(lines.observe)
    armed = await app.start()
    # What start-up made lives as long as the bot (100,000 armed jobs for 1,000 libraries):
    # out of the collector's sight, a full collection no longer walks it, which held the
    # loop, and every post due meanwhile, for a quarter of a second every ten seconds or so.
    gc.collect()
    gc.freeze()
    log.info("bibliobot running: %d actions armed", armed)
    if lines is not None:
        lines.started(armed)
    every = config.schedule.refresh_every.total_seconds()
    refresh = make_refresh(db, config, app.runner, problems, kept)
    if app.admin is not None:
        app.admin.reload = refresh  # an upload confirmed in the admin chat is planned at once
    app.runner.scheduler.add_job(refresh, "interval", seconds=every, id="refresh", coalesce=True)
    try:
        await app.listen(stop or asyncio.Event())
    finally:
        await app.stop()
        gc.unfreeze()  # the stopped bot's jobs may go (a test runs many bots in one process)
        if lines is not None:
            lines.stopped()
