"""Metric snapshots: read the counters of due publications, batched per target.

One snapshot firing claims every other due snapshot of the same library and
network, so a thousand posts cost a handful of API calls, not a thousand.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

from bot.platforms.base import Platform
from bot.storage import PENDING, SENDING, SENT, to_db
from scheduler.plan import SNAPSHOT

POST_METRICS = ("views", "likes", "reposts", "comments")


def claim_due(db: sqlite_utils.Database, row: dict, now: datetime) -> list[dict]:
    """Claim the other due snapshots of ``row``'s library and network (one UPDATE)."""
    stamp = to_db(now)
    with db.conn:
        db.execute(
            "update actions set state = ?, claimed_at = ?, attempts = attempts + 1 "
            "where kind = ? and state = ? and library_id = ? and network = ? and due_at <= ? "
            "and id != ?",
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
        db["actions"].rows_where(
            "kind = ? and state = ? and library_id = ? and network = ? and claimed_at = ? and id != ?",
            [SNAPSHOT, SENDING, row["library_id"], row["network"], stamp, row["id"]],
        )
    )


async def collect(db: sqlite_utils.Database, platform: Platform, batch: list[dict], now) -> None:
    """Read and store the counters of ``batch`` (same library, network, target)."""
    first = batch[0]
    publications = {}
    for row in batch:
        pub_id = json.loads(row["payload"])["publication_id"]
        publications[pub_id] = db["publications"].get(pub_id)
    remote_ids = sorted({p["remote_id"] for p in publications.values()})
    metrics = {m.remote_id: m for m in await platform.post_metrics(first["target"], remote_ids)}
    members = await platform.audience_size(first["target"])
    stamp = to_db(now())
    samples = []
    for pub in publications.values():
        found = metrics[pub["remote_id"]]
        values = {name: getattr(found, name) for name in POST_METRICS}
        if found.deleted:
            values = {"deleted": 1}
        samples += [
            sample(pub["id"], first, metric, value, stamp) for metric, value in values.items()
        ]
    samples.append(sample(None, first, "members", members, stamp))
    with db.conn:
        db["metric_samples"].insert_all(samples)
        for row in batch:
            db["actions"].update(row["id"], {"state": SENT, "finished_at": stamp, "error": None})


def sample(pub_id: int | None, row: dict, metric: str, value: float | None, stamp: str) -> dict:
    """One metric sample row; None is stored as not available, never as zero."""
    return {
        "publication_id": pub_id,
        "library_id": row["library_id"],
        "network": row["network"],
        "target": row["target"],
        "metric": metric,
        "value": None if value is None else float(value),
        "available": 0 if value is None else 1,
        "collected_at": stamp,
        "source": "api",
    }
