"""Metric snapshots: read the counters of publications, batched across libraries.

One snapshot firing claims every other due snapshot of the same network, so a
thousand posts of ten communities cost a handful of requests (VK ``execute``),
not a thousand. Samples are append-only: a report can always be recomputed.
What a network does not show is stored as not available, never as zero.
Messages in a VK community chat (a live quiz's) are neither wall posts nor a community:
nothing is read for them, as asking VK would fail for every community read with them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime

import sqlite_utils

from bot.platforms.vk_quiz import is_chat
from core.interactions import latest_poll_totals, latest_reactions
from core.platform import Platform, PostMetrics
from core.samples import store_samples
from core.storage import PENDING, SENDING, SENT, to_db
from scheduler.plan import COMMUNITY, SNAPSHOT

KINDS = (SNAPSHOT, COMMUNITY)


class Collected(int):
    """The number of samples written; ``unread``: publications and communities whose figures
    the platform kept refusing (after retries), so not read this time (nothing stored)."""

    unread: int

    def __new__(cls, written: int, unread: int = 0) -> Collected:
        self = super().__new__(cls, written)
        self.unread = unread
        return self


def claim_due(db: sqlite_utils.Database, row: dict, now: datetime) -> list[dict]:
    """Claim the other due snapshots of ``row``'s network, all libraries (one UPDATE)."""
    stamp = to_db(now)
    with db.atomic():
        db.execute(
            "update actions set state = ?, claimed_at = ?, attempts = attempts + 1 "
            "where kind in (?, ?) and state = ? and network = ? and due_at <= ? and id != ?",
            [SENDING, stamp, *KINDS, PENDING, row["network"], stamp, row["id"]],
        )
    return list(
        db["actions"].rows_where(
            "kind in (?, ?) and state = ? and network = ? and claimed_at = ? and id != ?",
            [*KINDS, SENDING, row["network"], stamp, row["id"]],
        )
    )


def groups_of(
    rows: Iterable[dict], platforms: dict[tuple[str, str], Platform]
) -> list[tuple[Platform, list[dict]]]:
    """Rows grouped by the client that reads them (libraries sharing a token read together)."""
    groups: dict[int, tuple[Platform, list[dict]]] = {}
    for row in rows:
        platform = platforms.get((row["library_id"], row["network"]))
        if platform is None:
            continue
        key = getattr(platform, "reader_key", id(platform))
        groups.setdefault(key, (platform, []))[1].append(row)
    return list(groups.values())


async def collect(
    db: sqlite_utils.Database,
    platform: Platform,
    publications: list[dict],
    targets: list[tuple[str, str]],
    now: Callable[[], datetime],
    source: str = "snapshot",
) -> Collected:
    """Read and store the figures of ``publications`` and members of ``targets``.

    ``targets`` are (library_id, target) pairs. Returns the number of samples written
    (``unread``: how many publications and communities could not be read).
    """
    network = platform.network
    if network == "vk":
        return await _collect_vk(db, platform, publications, targets, now, source)
    else:
        metrics = {p["id"]: _telegram_metrics(db, p) for p in publications}
        members = {}
        for _, target in sorted(set(targets)):
            members[target] = await platform.audience_size(target)
    stamp = to_db(now())
    samples = []
    for pub in publications:
        samples += of_publication(pub, metrics[pub["id"]], stamp, source)
    for library_id, target in sorted(set(targets)):
        value = members.get(target)
        samples.append(sample(None, library_id, network, target, "members", value, stamp, source))
    store_samples(db, samples)
    return Collected(len(samples))


def finish(db: sqlite_utils.Database, rows: list[dict], stamp: str) -> None:
    """Mark snapshot actions done."""
    with db.atomic():
        for row in rows:
            db["actions"].update(row["id"], {"state": SENT, "finished_at": stamp, "error": None})


def rows_to_work(
    db: sqlite_utils.Database, rows: list[dict]
) -> tuple[list[dict], list[tuple[str, str]]]:
    """The publications and (library, target) member counts a batch of actions asks for."""
    publications, targets = {}, set()
    for row in rows:
        targets.add((row["library_id"], row["target"]))
        if row["kind"] == SNAPSHOT:
            pub_id = json.loads(row["payload"])["publication_id"]
            publications[pub_id] = db["publications"].get(pub_id)
    return list(publications.values()), sorted(targets)


async def _collect_vk(db, platform, publications, targets, now, source: str) -> Collected:
    """Store each request's figures as its answer comes in: writing overlaps rate waits."""
    # wall.getById would find no such post (stored as deleted), and groups.getById refuses
    # the whole call (error 100) for a chat's peer id, leaving every community unmeasured.
    publications = [p for p in publications if not is_chat(p["target"])]
    targets = [(library, target) for library, target in targets if not is_chat(target)]
    by_post = {(-int(p["target"]), int(p["remote_id"])): p for p in publications}
    by_poll = {(-int(p["target"]), int(p["poll_id"])): p for p in publications if p.get("poll_id")}
    groups = sorted({int(target) for _, target in targets})
    library_of = {target: library for library, target in targets}
    seen_groups: set[int] = set()
    unread: set[tuple[str, object]] = set()
    written = 0
    async for part in platform.read_parts(list(by_post), groups, polls=list(by_poll)):
        unread.update(("post", by_post[key]["id"]) for key in part.unread_posts)
        unread.update(("post", by_poll[key]["id"]) for key in part.unread_polls)
        for group in part.unread_groups:
            seen_groups.add(group)  # not read, which is not "VK gave no members_count"
            unread.add(("group", group))
        stamp = to_db(now())
        samples = []
        for key, counters in part.counters.items():
            values = {"deleted": 1} if counters.deleted else _counters(counters)
            samples += of_publication(by_post[key], values, stamp, source)
        for key, value in part.reach.items():
            samples += of_publication(by_post[key], {"reach": value}, stamp, source)
        for key, votes in part.polls.items():
            samples += of_publication(by_poll[key], _poll_values(votes), stamp, source)
        for group, count in part.members.items():
            seen_groups.add(group)
            samples.append(
                sample(
                    None, library_of[str(group)], "vk", str(group), "members", count, stamp, source
                )
            )
        store_samples(db, samples)
        written += len(samples)
    missing = [g for g in groups if g not in seen_groups]  # VK gave no members_count
    if missing:
        stamp = to_db(now())
        rows = [
            sample(None, library_of[str(g)], "vk", str(g), "members", None, stamp, source)
            for g in missing
        ]
        store_samples(db, rows)
        written += len(rows)
    return Collected(written, len(unread))


def _counters(m: PostMetrics) -> dict[str, float | None]:
    return {name: getattr(m, name) for name in ("views", "likes", "reposts", "comments")}


def _telegram_metrics(db: sqlite_utils.Database, pub: dict) -> dict[str, float | None]:
    """What a bot can know of a Telegram post: reactions and replies it saw; no views."""
    totals = latest_reactions(db, pub["target"], pub["remote_id"]) or {}
    replies = db["interactions"].count_where("publication_id = ? and kind = 'reply'", [pub["id"]])
    values: dict[str, float | None] = {
        "views": None,
        "reposts": None,
        "reactions": sum(totals.values()),
    }
    values["comments"] = replies
    for reaction, count in sorted(totals.items()):
        values[f"reaction:{reaction}"] = count
    if pub.get("poll_id"):
        poll = latest_poll_totals(db, pub["poll_id"])
        votes = None if poll is None else tuple(poll[k] for k in sorted(poll, key=int))
        values.update(_poll_values(votes))
    return values


def _poll_values(votes: tuple[int, ...] | None) -> dict[str, float | None]:
    """Votes per option (``poll:0``, ``poll:1``, …) and their sum; None: not available."""
    if votes is None:
        return {"poll_votes": None}
    values: dict[str, float | None] = {f"poll:{n}": count for n, count in enumerate(votes)}
    values["poll_votes"] = sum(votes)
    return values


def of_publication(
    pub: dict, values: dict[str, float | None], stamp: str, source: str
) -> list[dict]:
    """Samples of one publication's figures."""
    return [
        sample(
            pub["id"],
            pub["library_id"],
            pub["network"],
            pub["target"],
            metric,
            value,
            stamp,
            source,
        )
        for metric, value in values.items()
    ]


def sample(
    pub_id: int | None,
    library_id: str,
    network: str,
    target: str,
    metric: str,
    value: float | None,
    stamp: str,
    source: str = "snapshot",
) -> dict:
    """One metric sample row; None is stored as not available, never as zero."""
    return {
        "publication_id": pub_id,
        "library_id": library_id,
        "network": network,
        "target": str(target),
        "metric": metric,
        "value": None if value is None else float(value),
        "available": 0 if value is None else 1,
        "collected_at": stamp,
        "source": source,
    }


async def collect_recent(
    db: sqlite_utils.Database,
    platforms: dict[tuple[str, str], Platform],
    since: datetime,
    now: Callable[[], datetime],
    library_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 10_000,
) -> Collected:
    """Read now the figures of every publication since ``since`` (``bibliobot collect``).

    Returns the number of samples written, with ``unread``: the publications and
    communities the platform kept refusing (a refused request is retried, within a bound,
    while the rest goes on); ``progress(done, total)`` is told as it goes.
    """
    where, params = "published_at >= ?", [to_db(since)]
    if library_id:
        where += " and library_id = ?"
        params.append(library_id)
    publications = list(db["publications"].rows_where(where, params, order_by="id"))
    libraries = {lib for lib, _ in platforms}
    if library_id:
        libraries &= {library_id}
    targets = _all_targets(db, platforms, libraries)
    work = publications + targets
    total, done, written, unread = len(publications), 0, 0, 0
    for platform, group in groups_of(work, platforms):
        pubs = [item for item in group if "remote_id" in item]
        group_targets = sorted({(item["library_id"], item["target"]) for item in group})
        for start in range(0, max(len(pubs), 1), chunk):
            part = pubs[start : start + chunk]
            got = await collect(
                db, platform, part, group_targets if start == 0 else [], now, "collect"
            )
            written += got
            unread += got.unread
            done += len(part)
            if progress:
                progress(done, total)
    return Collected(written, unread)


def _all_targets(db, platforms, libraries: set[str]) -> list[dict]:
    """Every channel and community of the given libraries, from the plan."""
    rows = db.execute(
        "select distinct library_id, network, target from actions where kind = 'publish'"
    ).fetchall()
    return [
        {"library_id": lib, "network": net, "target": target}
        for lib, net, target in rows
        if lib in libraries and (lib, net) in platforms
    ]
