"""Fires planned actions on time and records what happened.

The database decides *what*: every action's state lives there, and an action
is claimed by an atomic update before anything is sent. APScheduler decides
only *when*: one date job per pending action, re-armed from the database on
start. Delivery rules:

* late first attempts: a publication more than ``misfire_grace`` late is
  marked missed (metric snapshots run however late they are);
* RetryLater: retried with backoff and jitter until ``retry_deadline``;
* AmbiguousOutcome: VK is re-sent with the same guid (VK drops the duplicate);
  Telegram has no such key, so the action becomes uncertain and admins are told;
* any other platform error fails the action at once, with its reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.config import Config
from bot.errors import AmbiguousOutcome, PlatformError, RetryLater
from bot.platforms.base import Platform, Post
from bot.storage import FAILED, MISSED, PENDING, SENDING, SENT, UNCERTAIN, from_db, to_db
from scheduler.clock import Clock, SystemClock
from scheduler.plan import PUBLISH, SNAPSHOT, guid_for, plan_snapshots

log = logging.getLogger(__name__)

Notify = Callable[[str, str], Awaitable[None]]
MAX_BACKOFF = 300.0


class Runner:
    """Runs the plan of every library on one asyncio loop."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        config: Config,
        platforms: dict[tuple[str, str], Platform],
        clock: Clock | None = None,
        notify: Notify | None = None,
        seed: int | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.platforms = platforms
        self.clock = clock or SystemClock()
        self.notify = notify
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task] = set()

    # -- arming ------------------------------------------------------------

    async def start(self) -> int:
        """Recover interrupted work, start the scheduler, arm every pending action."""
        self.recover()
        self.scheduler.start()
        return self.rearm()

    async def stop(self) -> None:
        """Stop firing; let the actions being sent finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def recover(self) -> None:
        """Actions left 'sending' by a crash: VK is re-sent (same guid), Telegram is uncertain."""
        now = to_db(self.clock.now())
        rows = list(self.db["actions"].rows_where("state = ?", [SENDING]))
        for row in rows:
            if row["kind"] == PUBLISH and row["network"] == "telegram":
                self._finish(
                    row,
                    UNCERTAIN,
                    "the bot stopped while sending; not re-sent to avoid a double post",
                    now,
                )
            else:
                self.db["actions"].update(row["id"], {"state": PENDING, "retry_at": now})

    def rearm(self) -> int:
        """Arm a job for every pending action; a first attempt past its grace is missed."""
        now = self.clock.now()
        armed = 0
        for row in self.db["actions"].rows_where("state = ?", [PENDING], order_by="due_at"):
            if self._too_late(row, now):
                late = now - from_db(row["due_at"])
                self._finish(
                    row,
                    MISSED,
                    f"{_minutes(late)} late (grace {_minutes(self.config.schedule.misfire_grace)})",
                    to_db(now),
                )
                continue
            self._arm(row)
            armed += 1
        return armed

    def _arm(self, row: dict) -> None:
        when = from_db(row["retry_at"] or row["due_at"])
        self.scheduler.add_job(
            self.fire,
            trigger=DateTrigger(run_date=when, timezone=UTC),
            args=[row["id"]],
            id=str(row["id"]),
            replace_existing=True,
            misfire_grace_time=None,  # lateness is judged by _too_late, from the database
        )

    def _too_late(self, row: dict, now: datetime) -> bool:
        if row["kind"] != PUBLISH or row["retry_at"]:
            return False
        return now - from_db(row["due_at"]) > self.config.schedule.misfire_grace

    # -- firing ------------------------------------------------------------

    async def fire(self, action_id: int) -> None:
        """Claim and carry out one action (APScheduler calls this at its time)."""
        task = asyncio.current_task()
        if task:
            self._tasks.add(task)
        try:
            row = self._claim(action_id)
            if row is None:
                return
            if row["kind"] == PUBLISH:
                await self._publish(row)
            elif row["kind"] == SNAPSHOT:
                await self._snapshot(row)
        except Exception:  # a bug must not kill the scheduler; the action says what happened
            log.exception("action %s crashed", action_id)
            row = self.db["actions"].get(action_id)
            if row["state"] == SENDING:
                self._finish(row, FAILED, "internal error; see the log", to_db(self.clock.now()))
        finally:
            if task:
                self._tasks.discard(task)

    def _claim(self, action_id: int) -> dict | None:
        """pending → sending, atomically; None if someone else has it or it is too late."""
        now = self.clock.now()
        row = self.db["actions"].get(action_id)
        if row["state"] != PENDING:
            return None
        if self._too_late(row, now):
            late = now - from_db(row["due_at"])
            self._finish(
                row,
                MISSED,
                f"{_minutes(late)} late (grace {_minutes(self.config.schedule.misfire_grace)})",
                to_db(now),
            )
            return None
        with self.db.conn:
            cursor = self.db.execute(
                "update actions set state = ?, claimed_at = ?, attempts = attempts + 1 where id = ? and state = ?",
                [SENDING, to_db(now), action_id, PENDING],
            )
        if cursor.rowcount != 1:
            return None
        return self.db["actions"].get(action_id)

    async def _publish(self, row: dict) -> None:
        platform = self.platforms.get((row["library_id"], row["network"]))
        if platform is None:
            self._finish(
                row,
                FAILED,
                f"{row['network']} is not connected for this library",
                to_db(self.clock.now()),
            )
            return
        payload = json.loads(row["payload"])
        image = Path(payload["image"]) if payload.get("image") else None
        post = Post(
            target=row["target"], text=payload["text"], image=image, guid=guid_for(row["key"])
        )
        try:
            published = await platform.publish(post)
        except RetryLater as exc:
            self._retry(row, exc, exc.delay)
        except AmbiguousOutcome as exc:
            if row["network"] == "vk":
                self._retry(row, exc, 1.0)  # the same guid makes the repeat harmless
            else:
                self._finish(
                    row,
                    UNCERTAIN,
                    f"{exc}; not re-sent to avoid a double post",
                    to_db(self.clock.now()),
                )
        except PlatformError as exc:
            self._finish(row, FAILED, str(exc), to_db(self.clock.now()))
        else:
            self._record_publication(row, published.remote_id, published.url)

    def _record_publication(self, row: dict, remote_id: str, url: str) -> None:
        now = self.clock.now()
        with self.db.conn:
            table = self.db["publications"]
            table.insert(
                {
                    "action_id": row["id"],
                    "event_id": row["event_id"],
                    "library_id": row["library_id"],
                    "network": row["network"],
                    "target": row["target"],
                    "remote_id": remote_id,
                    "url": url,
                    "published_at": to_db(now),
                }
            )
            publication = table.get(table.last_pk)
            self.db["actions"].update(
                row["id"], {"state": SENT, "finished_at": to_db(now), "error": None}
            )
            plan_snapshots(
                self.db, publication, self.config.schedule.snapshot_after, now, to_db(now)
            )
        for snapshot in self.db["actions"].rows_where(
            "kind = ? and state = ? and payload = ?",
            [SNAPSHOT, PENDING, json.dumps({"publication_id": publication["id"]})],
        ):
            self._arm(snapshot)
        log.info("published %s → %s", row["key"], url)

    async def _snapshot(self, row: dict) -> None:
        """Read counters of every due publication of this library and network at once."""
        now = self.clock.now()
        rows = [row, *self._claim_due_snapshots(row, now)]
        platform = self.platforms.get((row["library_id"], row["network"]))
        if platform is None:
            for r in rows:
                self._finish(
                    r, FAILED, f"{row['network']} is not connected for this library", to_db(now)
                )
            return
        by_target: dict[str, list[dict]] = {}
        for r in rows:
            by_target.setdefault(r["target"], []).append(r)
        for target, batch in by_target.items():
            try:
                await self._collect(platform, row["library_id"], target, batch)
            except (RetryLater, AmbiguousOutcome) as exc:
                for r in batch:
                    self._retry(r, exc, getattr(exc, "delay", 5.0))
            except PlatformError as exc:
                for r in batch:
                    self._finish(r, FAILED, str(exc), to_db(self.clock.now()))

    def _claim_due_snapshots(self, row: dict, now: datetime) -> list[dict]:
        stamp = to_db(now)
        with self.db.conn:
            self.db.execute(
                "update actions set state = ?, claimed_at = ?, attempts = attempts + 1 "
                "where kind = ? and state = ? and library_id = ? and network = ? and due_at <= ? and id != ?",
                [
                    SENDING,
                    stamp,
                    SNAPSHOT,
                    PENDING,
                    row["library_id"],
                    row["network"],
                    stamp,
                    row["id"],
                ],
            )
        return list(
            self.db["actions"].rows_where(
                "kind = ? and state = ? and library_id = ? and network = ? and claimed_at = ? and id != ?",
                [SNAPSHOT, SENDING, row["library_id"], row["network"], stamp, row["id"]],
            )
        )

    async def _collect(
        self, platform: Platform, library_id: str, target: str, batch: list[dict]
    ) -> None:
        publications = {}
        for r in batch:
            pub_id = json.loads(r["payload"])["publication_id"]
            publications[pub_id] = self.db["publications"].get(pub_id)
        remote_ids = sorted({p["remote_id"] for p in publications.values()})
        metrics = {m.remote_id: m for m in await platform.post_metrics(target, remote_ids)}
        members = await platform.audience_size(target)
        stamp = to_db(self.clock.now())
        network = batch[0]["network"]
        samples = []
        for pub in publications.values():
            m = metrics[pub["remote_id"]]
            values = {
                "views": m.views,
                "likes": m.likes,
                "reposts": m.reposts,
                "comments": m.comments,
            }
            if m.deleted:
                values = {"deleted": 1}
            for metric, value in values.items():
                samples.append(
                    _sample(pub["id"], library_id, network, target, metric, value, stamp)
                )
        samples.append(_sample(None, library_id, network, target, "members", members, stamp))
        with self.db.conn:
            self.db["metric_samples"].insert_all(samples)
            for r in batch:
                self.db["actions"].update(
                    r["id"], {"state": SENT, "finished_at": stamp, "error": None}
                )

    # -- outcomes ----------------------------------------------------------

    def _retry(self, row: dict, exc: PlatformError, delay: float) -> None:
        now = self.clock.now()
        attempts = row["attempts"] or 1
        # The platform's own delay (retry_after, flood) is honoured in full.
        backoff = max(delay, min(MAX_BACKOFF, 2.0 ** (attempts - 1)))
        when = now + timedelta(seconds=backoff * (1 + self._random.random() * 0.25))
        deadline = from_db(row["due_at"]) + self.config.schedule.retry_deadline
        if when > deadline:
            self._finish(row, FAILED, f"gave up after {attempts} attempts: {exc}", to_db(now))
            return
        self.db["actions"].update(
            row["id"], {"state": PENDING, "retry_at": to_db(when), "error": str(exc)}
        )
        self._arm(self.db["actions"].get(row["id"]))
        log.warning("action %s: %s; retry at %s", row["key"], exc, to_db(when))

    def _finish(self, row: dict, state: str, reason: str, stamp: str) -> None:
        self.db["actions"].update(
            row["id"], {"state": state, "finished_at": stamp, "error": reason}
        )
        if state in (FAILED, UNCERTAIN, MISSED) and row["kind"] == PUBLISH:
            log.warning("action %s %s: %s", row["key"], state, reason)
            self._tell_admins(row, state, reason)

    def _tell_admins(self, row: dict, state: str, reason: str) -> None:
        if self.notify is None:
            return
        event = self.db["events"].get(row["event_id"])
        text = notice_text(self.config.language, event["title"], row["network"], state, reason)
        task = asyncio.get_event_loop().create_task(self.notify(row["library_id"], text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- progress ----------------------------------------------------------

    def open_actions(self) -> int:
        """Actions not yet final (pending or being sent)."""
        return self.db["actions"].count_where("state in (?, ?)", [PENDING, SENDING])

    async def wait_until_done(self, timeout: float, poll: float = 0.1) -> bool:
        """Wait until no action is open; False on timeout. (For the demo and tests.)"""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.open_actions():
            if loop.time() > end:
                return False
            await asyncio.sleep(poll)
        return True


_STATE_WORDS = {
    "ru": {FAILED: "не опубликовано", UNCERTAIN: "статус неизвестен", MISSED: "пропущено"},
    "en": {FAILED: "not published", UNCERTAIN: "outcome unknown", MISSED: "missed"},
}


def notice_text(language: str, title: str, network: str, state: str, reason: str) -> str:
    """What admins are told when a publication did not go out as planned."""
    word = _STATE_WORDS[language][state]
    name = {"telegram": "Telegram", "vk": "VK"}[network]
    if language == "ru":
        return f"⚠️ «{title}» в {name}: {word}. Причина: {reason}"
    return f"⚠️ “{title}” on {name}: {word}. Reason: {reason}"


def _sample(pub_id, library_id, network, target, metric, value, stamp) -> dict:
    return {
        "publication_id": pub_id,
        "library_id": library_id,
        "network": network,
        "target": target,
        "metric": metric,
        "value": None if value is None else float(value),
        "available": 0 if value is None else 1,
        "collected_at": stamp,
        "source": "api",
    }


def _minutes(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{delta.total_seconds():.0f} s"
