"""Fires planned actions on time and records what happened.

The database decides *what*: every action's state lives there, and an action
is claimed by an atomic update before anything is sent. APScheduler decides
only *when*: one date job per pending action, armed from the database on
start and kept in step with it by ``sync()``. Delivery rules:

* lateness: a post (publication, reminder) later than its kind's grace on its
  first attempt is marked missed; snapshots run however late;
* paused library: its actions stay pending and unarmed; on resume the grace rule applies;
* RetryLater: retried with backoff and jitter until ``retry_deadline``
  (the platform's own ``retry_after`` is honoured in full);
* AmbiguousOutcome: where the network takes an idempotency key (``idempotent_posts``),
  the action is re-sent with the same key (the network drops the duplicate); elsewhere
  it becomes uncertain (unless the library set ``resend_uncertain``);
* any other platform error fails the action at once, with its reason.

Whoever must hear of an outcome (the ``run`` command's lines, the admins' alerts in
``bot.alerts``) is one of ``observers``: the runner itself tells nobody.

An action the database refuses to claim (a full disk, a read-only file, a lock held too
long) is armed again ``CLAIM_RETRY`` later. Once a send is over its outcome is known
here; if the database refuses to record it, the outcome is kept in memory and written
again with backoff until it is stored, so a published post still ends ``sent`` with its
publication. Only a stop gives up, with an ERROR naming the outcome (the action then
stays ``sending`` and the next start treats it as interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sqlite3
from collections.abc import Awaitable, Callable, Generator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlite_utils
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlite_utils.db import NotFoundError

from core import buttons, messages, networks
from core.clock import Clock, SystemClock
from core.config import Config
from core.errors import AmbiguousOutcome, PlatformError, RetryLater
from core.interactions import library_secret
from core.model import (
    ANNOUNCE,
    COMMUNITY,
    CONTEST_ENTRY,
    CONTEST_GALLERY,
    CONTEST_POLL,
    CONTEST_RESULTS,
    DRAW,
    QUESTION,
    RESULTS,
    RETRYING,
    ActionOutcome,
    Handled,
    guid_for,
)
from core.platform import Platform, PollSpec, Post, Published, dispatching
from core.storage import FAILED, MISSED, PENDING, SENDING, SENT, UNCERTAIN, from_db, to_db
from scheduler import snapshots
from scheduler.plan import POSTS, plan_snapshots

# Kinds that put a new message in front of readers: repeated, they would show twice.
NEW_MESSAGES = (
    *(*POSTS, QUESTION, RESULTS),
    *(CONTEST_GALLERY, CONTEST_ENTRY, CONTEST_POLL, CONTEST_RESULTS),
    *(ANNOUNCE, DRAW),  # a giveaway's announcement and its draw's results post
)

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
STORE_BACKOFF = 60.0  # seconds: the longest pause between attempts to record an outcome
CLAIM_RETRY = 5.0  # seconds until an action the database refused to claim is tried again
SYNC_CHUNK = 2_000  # actions a refresh's sync handles before giving the event loop its turn


class Runner:
    """Runs the plan of every library on one asyncio loop."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: dict[tuple[str, str], Platform],
        clock: Clock | None = None,
        seed: int | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.platforms = platforms
        self.clock = clock or SystemClock()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task] = set()
        self._armed: dict[int, str] = {}  # action id → the time its job was armed for
        self._synced: tuple | None = None  # what the last sync read (see sync_if_changed)
        # While a gentle sync pauses: the actions fired, armed or disarmed meanwhile.
        self._touched: set[int] | None = None
        # Further action kinds (quiz questions, closes, results): kind → handler(row).
        self.handlers: dict[str, Callable[[dict], Awaitable[Published | Handled | None]]] = {}
        self.store_delay = 1.0  # first pause before recording an outcome again; doubles
        self.store_pause: Callable[[float], Awaitable[None]] = self._pause  # tests record it
        self._stopping = asyncio.Event()
        # Told of every outcome once it is stored (the run's lines, the admins' alerts).
        self.observers: list[Callable[[ActionOutcome], None]] = []

    # -- arming ------------------------------------------------------------

    async def start(self) -> int:
        """Recover interrupted work, arm every pending action, start the scheduler."""
        self.recover()
        armed = self.rearm()  # before start(): jobs are then added in one go, without wakeups
        self.scheduler.start()
        return armed

    async def stop(self) -> None:
        """Stop firing; let the actions being sent finish."""
        self._stopping.set()  # outcomes the database refuses are tried once more, then left
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def recover(self) -> None:
        """Actions left 'sending' by a crash are re-sent where the network takes an
        idempotency key (the same key); elsewhere a new message that may have left is
        uncertain. Closing a question is re-run."""
        now = to_db(self.clock.now())
        for row in list(self.db["actions"].rows_where("state = ?", [SENDING])):
            # A post still waiting in the local rate limiter never left: safe to re-send.
            left = row["dispatched_at"] is not None
            if row["kind"] in NEW_MESSAGES and left and not self._resend(row):
                reason = self._say("run.reason_stopped_while_sending")
                self._finish(row, UNCERTAIN, reason, now)
            else:
                self.db["actions"].update(row["id"], {"state": PENDING, "retry_at": now})

    def rearm(self) -> int:
        """Arm every pending action of active libraries; missed ones are marked. Returns the count."""
        return self.sync()

    def sync_if_changed(self) -> int | None:
        """``sync`` unless nothing it depends on may have changed since the last one;
        None: skipped (a refresh that changed nothing need not read 100,000 rows).

        Changes from this connection that reach ``sync`` only: new actions not armed yet
        (those a publication plans are armed as they are made) and paused libraries.
        Whatever else this process does to actions, it arms or disarms itself (fire,
        retries), or ``load_plan`` reports it (its caller syncs). Any write from another
        connection (a `bibliobot cancel`, `pause`...) counts.
        """
        return self.sync() if self.changed_since_sync() else None

    def changed_since_sync(self) -> bool:
        """Whether ``sync`` may find something to do (see ``sync_if_changed``)."""
        if self._synced is None or self._synced[:2] != self._state():
            return True
        paused = set((self._synced[1] or "").split(","))
        added = self.db.execute(
            "select id, library_id, coalesce(retry_at, due_at) from actions "
            "where id > ? and state = ?",
            [self._synced[2], PENDING],
        ).fetchall()
        return any(
            library_id not in paused and self._armed.get(action_id) != when
            for action_id, library_id, when in added
        )

    def _state(self) -> tuple:
        """Other connections' writes (SQLite's data_version) and the paused libraries."""
        version = self.db.execute("pragma data_version").fetchone()[0]
        paused = self.db.execute(
            "select group_concat(id, ',') from (select id from libraries where paused = 1 "
            "order by id)"
        ).fetchone()[0]
        return (version, paused)

    def sync(self) -> int:
        """Bring the jobs in line with the database (after a reload, cancel, pause, resume)."""
        steps = self._sync_steps(chunk=None)  # never pauses
        while (armed := _advance(steps)) is None:
            pass
        return armed

    async def sync_gently(self) -> int:
        """``sync`` for the running bot's refresh: the same outcome, with the event loop
        given back every ``SYNC_CHUNK`` actions (100,000 pending took 0.3 s in one go, and
        a post due meanwhile waited for it)."""
        steps = self._sync_steps(chunk=SYNC_CHUNK)
        while (armed := _advance(steps)) is None:
            await asyncio.sleep(0)
        return armed

    def _sync_steps(self, chunk: int | None) -> Generator[None, None, int]:
        """The work of ``sync``, pausing (``yield``) after every ``chunk`` actions. While it
        pauses, whatever fires, arms or disarms an action is newer than the rows read
        before: those actions are left as the pause left them."""
        # Taken before reading: whatever changes after it shows at the next sync_if_changed.
        newest = self.db.execute("select coalesce(max(id), 0) from actions").fetchone()[0]
        self._synced = (*self._state(), newest)
        now = self.clock.now()
        paused = {r["id"] for r in self.db["libraries"].rows_where("paused = 1")}
        wanted: dict[int, str] = {}
        late: list[int] = []
        # Every pending action (100,000 for 1,000 libraries), only the columns needed, as
        # plain tuples; read at once, so that a pause leaves no statement open.
        pending = self.db.execute(
            "select id, library_id, kind, due_at, retry_at from actions where state = ? "
            "order by due_at",
            [PENDING],
        ).fetchall()
        touched: set[int] = set()
        step = chunk or len(pending) or 1
        for first in range(0, len(pending), step):
            for action_id, library_id, kind, due_at, retry_at in pending[first : first + step]:
                if library_id in paused or action_id in touched:
                    continue
                if self._too_late({"kind": kind, "due_at": due_at, "retry_at": retry_at}, now):
                    late.append(action_id)  # marked once the reading is over
                    continue
                when = retry_at or due_at
                wanted[action_id] = when
                if self._armed.get(action_id) != when:
                    self._arm(action_id, when)
            if chunk is not None and first + step < len(pending):
                self._touched = touched
                try:
                    yield
                finally:
                    self._touched = None
        for action_id in late:
            if action_id not in touched:
                self._miss(self._action(action_id), now)
        for action_id in set(self._armed) - set(wanted) - touched:
            self._disarm(action_id)
        return len(wanted)

    def _arm(self, action_id: int, when: str) -> None:
        self.scheduler.add_job(
            self.fire,
            trigger=DateTrigger(run_date=from_db(when), timezone=UTC),
            args=[action_id],
            id=str(action_id),
            replace_existing=True,
            misfire_grace_time=None,  # lateness is judged by _too_late, from the database
        )
        self._armed[action_id] = when
        if self._touched is not None:
            self._touched.add(action_id)

    def _disarm(self, action_id: int) -> None:
        self._armed.pop(action_id, None)
        if self._touched is not None:
            self._touched.add(action_id)
        job = self.scheduler.get_job(str(action_id))
        if job is not None:
            job.remove()

    def _too_late(self, row: dict, now: datetime) -> bool:
        grace = self.config.schedule.grace(row["kind"])
        if grace is None or row["retry_at"]:
            return False
        return now - from_db(row["due_at"]) > grace

    def _miss(self, row: dict, now: datetime) -> None:
        late = now - from_db(row["due_at"])
        grace = self.config.schedule.grace(row["kind"]) or timedelta(0)
        said = self._say("run.reason_late", late=self._span(late), grace=self._span(grace))
        self._finish(row, MISSED, said, to_db(now))

    # -- firing ------------------------------------------------------------

    async def fire(self, action_id: int) -> None:
        """Claim and carry out one action (APScheduler calls this at its time)."""
        self._armed.pop(action_id, None)
        if self._touched is not None:
            self._touched.add(action_id)
        task = asyncio.current_task()
        if task:
            self._tasks.add(task)
        try:
            try:
                row = self._claim(action_id)
            except sqlite3.OperationalError as exc:
                # Nothing was done: armed again here, not left to the next refresh (which
                # may be an hour away, past the grace).
                retry = to_db(self.clock.now() + timedelta(seconds=CLAIM_RETRY))
                log.warning(
                    "action %s: not claimed (%s); trying again at %s", action_id, exc, retry
                )
                self._arm(action_id, retry)
                return
            if row is None:
                return
            if row["kind"] in POSTS:
                await self._post(row)
            elif row["kind"] in self.handlers:
                await self._handle(row)
            elif row["kind"] in snapshots.KINDS:
                await self._snapshot(row)
        except Exception:  # a bug must not kill the scheduler; the action says what happened
            log.exception("action %s crashed", action_id)
            row = self.db["actions"].get(action_id)
            if row["state"] == SENDING:
                reason = self._say("run.reason_internal")
                await self._store(
                    row, reason, lambda: self._finish(row, FAILED, reason, to_db(self.clock.now()))
                )
        finally:
            if task:
                self._tasks.discard(task)

    def _claim(self, action_id: int) -> dict | None:
        """pending → sending, atomically; None if taken, paused, or too late."""
        now = self.clock.now()
        row = self._action(action_id)
        if row["state"] != PENDING or self._paused(row["library_id"]):
            return None
        if self._too_late(row, now):
            self._miss(row, now)
            return None
        with self.db.atomic():
            cursor = self.db.execute(
                "update actions set state = ?, claimed_at = ?, dispatched_at = null, "
                "attempts = attempts + 1 where id = ? and state = ?",
                [SENDING, to_db(now), action_id, PENDING],
            )
        if cursor.rowcount != 1:
            return None
        return self._action(action_id)

    def _paused(self, library_id: str) -> bool:
        found = self.db.execute(
            "select 1 from libraries where id = ? and paused = 1", [library_id]
        ).fetchone()
        return found is not None

    # Plain SQL for the rows a firing reads and writes: sqlite-utils' table helpers read
    # the schema on every call (eight queries for one ``get``), and each query on the way
    # to a post is one more wait for the interpreter lock among 1,000 readers' threads.
    def _action(self, action_id: int) -> dict:
        """One action's row; ``NotFoundError`` if it is gone, as sqlite-utils' ``get``."""
        cursor = self.db.execute("select * from actions where id = ?", [action_id])
        found = cursor.fetchone()
        if found is None:
            raise NotFoundError(action_id)
        return dict(zip([column[0] for column in cursor.description], found, strict=True))

    def _set(self, action_id: int, values: dict[str, Any]) -> None:
        """Write ``values`` into one action's row."""
        columns = ", ".join(f"{name} = ?" for name in values)
        self.db.execute(f"update actions set {columns} where id = ?", [*values.values(), action_id])

    def _resend(self, row: dict) -> bool:
        """Whether a send of unknown outcome is sent again: harmless where the network
        drops a repeat with the same key, else only if the library asked for it."""
        if networks.network(row["network"]).capabilities.idempotent_posts:
            return True
        library = self.config.library(row["library_id"])
        settings = library.settings(row["network"]) if library else None
        return bool(settings and settings.resend_uncertain)

    async def _post(self, row: dict) -> None:
        platform = self.platforms.get((row["library_id"], row["network"]))
        if platform is None:
            reason = self._not_connected(row["network"])
            self._finish(row, FAILED, reason, to_db(self.clock.now()))
            return
        payload = json.loads(row["payload"])
        image = Path(payload["image"]) if payload.get("image") else None
        poll = payload.get("poll")
        try:
            spec = self._poll_spec(row, poll) if poll else None
        except sqlite3.OperationalError as exc:  # the library's secret could not be made
            error = RetryLater(f"the database refused a write ({exc})", row["network"])
            await self._store(row, str(error), partial(self._failed, row, error))
            return
        post = Post(
            row["target"],
            payload["text"],
            image,
            guid=guid_for(row["key"]),
            poll=spec,
            on_dispatch=lambda: self._mark_dispatched(row["id"]),
        )
        try:
            published = await platform.publish(post)
        except PlatformError as exc:
            await self._store(row, str(exc), partial(self._failed, row, exc))
        else:
            await self._store(
                row,
                f"published as {published.url}",
                partial(self._record_publication, row, published),
            )

    def _poll_spec(self, row: dict, poll: dict) -> PollSpec:
        """The poll of a post; where the network has no native polls, with one signed
        button per option (the presses are the votes, see ``core.buttons``)."""
        options = tuple(poll["options"])
        spec = PollSpec(poll["question"], options, poll["multiple"], poll.get("closes_at"))
        if networks.network(row["network"]).capabilities.native_polls:
            return spec
        secret = library_secret(self.db, row["library_id"])
        return replace(spec, buttons=buttons.poll_buttons(secret, row["id"], len(options)))

    async def _handle(self, row: dict) -> None:
        """A kind with its own handler; errors are treated as for posts."""
        if (row["library_id"], row["network"]) not in self.platforms:
            reason = self._not_connected(row["network"])
            self._finish(row, FAILED, reason, to_db(self.clock.now()))
            return
        try:
            with dispatching(lambda: self._mark_dispatched(row["id"])):
                handled = await self.handlers[row["kind"]](row)
        except PlatformError as exc:
            await self._store(row, str(exc), partial(self._failed, row, exc))
            return
        except sqlite3.OperationalError as exc:
            # The handler's own write was refused (a full disk, a lock). Before anything
            # left, nothing happened: try again later; after, what the platform did is
            # unknown to the database, as after a lost answer.
            error: PlatformError = RetryLater(
                f"the database refused a write ({exc})", row["network"], delay=CLAIM_RETRY
            )
            if self._action(row["id"])["dispatched_at"] is not None:
                error = AmbiguousOutcome(f"the database refused a write ({exc})", row["network"])
            await self._store(row, str(error), partial(self._failed, row, error))
            return
        if not isinstance(handled, Handled):
            handled = Handled(handled)
        published = handled.published
        if published is not None:
            outcome, write = (
                f"published as {published.url}",
                partial(self._record_publication, row, published),
            )
        else:
            outcome, write = "done", partial(self._done, row)
        await self._store(row, outcome, partial(self._record_handled, handled.record, write))

    def _record_handled(self, record: Callable[[], None] | None, write: Callable[[], None]) -> None:
        """The handler's own record, then the action's outcome (a record is written so
        that writing it again, after the outcome was refused, changes nothing)."""
        if record is not None:
            record()
        write()

    def _failed(self, row: dict, exc: PlatformError) -> None:
        """Record a send that did not succeed: retried, uncertain or failed by its kind."""
        if isinstance(exc, RetryLater):
            self._retry(row, exc, exc.delay)
        elif isinstance(exc, AmbiguousOutcome):
            if self._resend(row):
                self._retry(row, exc, 1.0)
            else:
                reason = self._say("run.reason_not_resent", error=exc)
                self._finish(row, UNCERTAIN, reason, to_db(self.clock.now()), exc)
        else:
            self._finish(row, FAILED, str(exc), to_db(self.clock.now()), exc)

    def _done(self, row: dict) -> None:
        done = {"state": SENT, "finished_at": to_db(self.clock.now()), "error": None}
        with self.db.atomic():
            self._set(row["id"], done)
        self._observe(row, SENT)

    async def _store(self, row: dict, outcome: str, write: Callable[[], None]) -> None:
        """Record an outcome already known; while the database refuses the write (a full
        disk, a lock), keep it and try again with backoff, until stored or stopped."""
        delay = self.store_delay
        while True:
            try:
                write()
                return
            except sqlite3.OperationalError as exc:
                if self._stopping.is_set():
                    log.error(
                        "action %s: %s; the database did not record it (%s), so it stays "
                        "'sending' and is treated as interrupted at the next start",
                        row["key"],
                        outcome,
                        exc,
                    )
                    return
                log.warning(
                    "action %s: %s; not recorded yet (%s), trying again in %.0f s",
                    row["key"],
                    outcome,
                    exc,
                    delay,
                )
            await self.store_pause(delay)
            delay = min(delay * 2, STORE_BACKOFF)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the runner is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _mark_dispatched(self, action_id: int) -> None:
        with self.db.atomic():
            self._set(action_id, {"dispatched_at": to_db(self.clock.now())})

    def _record_publication(self, row: dict, published: Published) -> None:
        now = self.clock.now()
        with self.db.atomic():
            table = self.db["publications"]
            table.insert(
                {
                    "action_id": row["id"],
                    "event_id": row["event_id"],
                    "library_id": row["library_id"],
                    "network": row["network"],
                    "target": row["target"],
                    "remote_id": published.remote_id,
                    "url": published.url,
                    "published_at": to_db(now),
                    "poll_id": published.poll_id,
                }
            )
            publication = table.get(table.last_pk)
            done = {"state": SENT, "finished_at": to_db(now), "error": None}
            self._set(row["id"], done)
            new = plan_snapshots(self.db, publication, self.config.schedule.snapshot_after, now)
        for snapshot in new:
            self._arm(snapshot.action_id, snapshot.due_at)
        self._observe(row, SENT, url=published.url or "")
        log.info("published %s → %s", row["key"], published.url)

    async def _snapshot(self, row: dict) -> None:
        """Read every due snapshot of this network at once, batched per reading client."""
        rows = [row, *snapshots.claim_due(self.db, row, self.clock.now())]
        for r in rows[1:]:
            self._disarm(r["id"])
        grouped = snapshots.groups_of(rows, self.platforms)
        orphans = {r["id"] for r in rows} - {r["id"] for batch in grouped for r in batch.rows}
        for r in rows:
            if r["id"] in orphans:
                reason = self._not_connected(r["network"])
                self._finish(r, FAILED, reason, to_db(self.clock.now()))
        for group in grouped:
            platform, batch = group.platform, group.rows
            publications, communities = snapshots.rows_to_work(self.db, batch)
            try:
                got = await snapshots.collect(
                    self.db, platform, publications, communities, self.clock.now
                )
                if got.unread:  # still refused after the retries within the read: later
                    raise RetryLater(
                        f"{got.unread} publication(s) or community(ies) not read", platform.network
                    )
            except (RetryLater, AmbiguousOutcome) as exc:
                for r in batch:
                    self._retry(r, exc, getattr(exc, "delay", 5.0))
            except PlatformError as exc:
                for r in batch:
                    self._finish(r, FAILED, str(exc), to_db(self.clock.now()), exc)
            else:
                snapshots.finish(self.db, batch, to_db(self.clock.now()))
                for r in batch:
                    self._observe(r, SENT)

    # -- outcomes ----------------------------------------------------------

    def _retry(self, row: dict, exc: PlatformError, delay: float) -> None:
        now = self.clock.now()
        attempts = row["attempts"] or 1
        # The platform's own delay (retry_after, flood) is honoured in full.
        backoff = max(delay, min(MAX_BACKOFF, 2.0 ** (attempts - 1)))
        when = now + timedelta(seconds=backoff * (1 + self._random.random() * 0.25))
        deadline = from_db(row["due_at"]) + self.config.schedule.retry_deadline
        if when > deadline:
            reason = self._say("run.reason_gave_up", attempts=attempts, error=exc)
            self._finish(row, FAILED, reason, to_db(now), exc)
            return
        retry_at = to_db(when)
        with self.db.atomic():
            self._set(row["id"], {"state": PENDING, "retry_at": retry_at, "error": str(exc)})
        self._arm(row["id"], retry_at)
        self._observe(row, RETRYING, reason=str(exc), error=exc, retry_at=when)
        # A first retry is routine (a rate limit, a question asked late); a third is news.
        level = logging.INFO if attempts < 3 else logging.WARNING
        log.log(level, "action %s: %s; retry at %s", row["key"], exc, retry_at)

    def _finish(
        self, row: dict, state: str, reason: str, stamp: str, error: Exception | None = None
    ) -> None:
        with self.db.atomic():
            self._set(row["id"], {"state": state, "finished_at": stamp, "error": reason})
        self._observe(row, state, reason=reason, error=error)
        if state in (FAILED, UNCERTAIN, MISSED) and row["kind"] in (*POSTS, *self.handlers):
            log.warning("action %s %s: %s", row["key"], state, reason)

    def _observe(self, row: dict, state: str, **detail: Any) -> None:
        """Tell the observers what became of ``row`` (a failing observer costs only itself)."""
        if not self.observers:
            return
        outcome = ActionOutcome(
            row["id"],
            row["key"],
            row["kind"],
            row["library_id"],
            row["event_id"],
            row["network"],
            state,
            self.clock.now(),
            **detail,
        )
        for observer in self.observers:
            try:
                observer(outcome)
            except Exception:
                log.exception("an observer of action %s failed", row["key"])

    # -- words -------------------------------------------------------------

    def _say(self, key: str, **fields: Any) -> str:
        """A reason in the config's language (kept with the action, read by people)."""
        return messages.text_in(self.config.language, key, **fields)

    def _span(self, delta: timedelta) -> str:
        seconds = delta.total_seconds()
        if seconds >= 60:
            return self._say("run.minutes", count=seconds / 60)
        return self._say("run.seconds", count=seconds)

    def _not_connected(self, network: str) -> str:
        said = (
            networks.title(network, self.config.language)
            if network in networks.names()
            else network
        )
        return self._say("run.reason_not_connected", network=said)

    # -- progress ----------------------------------------------------------

    def open_actions(self) -> int:
        """Actions not yet final (pending or being sent), leaving out the daily members counts."""
        return self.db["actions"].count_where(
            "state in (?, ?) and kind != ?", [PENDING, SENDING, COMMUNITY]
        )

    async def wait_until_done(self, timeout: float, poll: float = 0.1) -> bool:
        """Wait until no action is open; False on timeout. (For the demo and tests.)"""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.open_actions():
            if loop.time() > end:
                return False
            await asyncio.sleep(poll)
        return True


def _advance(steps: Generator[None, None, int]) -> int | None:
    """Run a sync to its next pause (None) or to its end (the count it returns)."""
    try:
        next(steps)
    except StopIteration as done:
        return done.value
    return None
