"""Metric snapshots: read the counters of publications, batched across libraries.

One snapshot firing claims every other due snapshot of the same network, so a
thousand posts of ten communities cost a handful of requests (the adapter batches
them), not a thousand. Samples are append-only: a report can always be recomputed.
What a network does not show is stored as not available, never as zero.
Figures come through ``Platform.read_figures``; where the network's API reads no
post counters (``metrics_from_api``), they come from the updates the bot saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from core.buttons import votes_key
from core.interactions import latest_poll_totals, latest_reactions
from core.model import COMMUNITY, SNAPSHOT
from core.networks import network
from core.platform import FiguresPart, Platform, PollRef, PostMetrics, PostRef
from core.samples import store_samples
from core.storage import PENDING, SENDING, SENT, to_db

KINDS = (SNAPSHOT, COMMUNITY)
HANDED = "handed:"  # the remote id of a post handed to the admins until linked (bot.alerts)


@dataclass(frozen=True, order=True)
class Community:
    """A channel or community whose members are counted, for one library."""

    library_id: str
    target: str


@dataclass(frozen=True)
class Batch:
    """Snapshot actions (or publications and communities) read by one client together."""

    platform: Platform
    rows: list[dict] = field(default_factory=list)


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


def groups_of(rows: Iterable[dict], platforms: dict[tuple[str, str], Platform]) -> list[Batch]:
    """Rows grouped by the client that reads them (libraries sharing a token read together)."""
    groups: dict[int, Batch] = {}
    for row in rows:
        platform = platforms.get((row["library_id"], row["network"]))
        if platform is None:
            continue
        key = getattr(platform, "reader_key", id(platform))
        groups.setdefault(key, Batch(platform)).rows.append(row)
    return list(groups.values())


async def collect(
    db: sqlite_utils.Database,
    platform: Platform,
    publications: list[dict],
    communities: Sequence[Community],
    now: Callable[[], datetime],
    source: str = "snapshot",
) -> Collected:
    """Read and store the figures of ``publications`` and members of ``communities``.

    Returns the number of samples written (``unread``: how many publications and
    communities could not be read).
    """
    from_api = network(platform.network).capabilities.metrics_from_api
    # An adapter may read no post counters where its network could (a community's own
    # token only): then they are the acts the bot saw.
    if from_api and getattr(platform, "reads_post_counters", True):
        return await _collect_read(db, platform, publications, communities, now, source)
    return await _collect_seen(db, platform, publications, communities, now, source, acts=from_api)


def finish(db: sqlite_utils.Database, rows: list[dict], stamp: str) -> None:
    """Mark snapshot actions done."""
    with db.atomic():
        for row in rows:
            db["actions"].update(row["id"], {"state": SENT, "finished_at": stamp, "error": None})


def rows_to_work(db: sqlite_utils.Database, rows: list[dict]) -> tuple[list[dict], list[Community]]:
    """The publications and the member counts a batch of actions asks for."""
    publications, communities = {}, set()
    for row in rows:
        communities.add(Community(row["library_id"], row["target"]))
        if row["kind"] == SNAPSHOT:
            pub_id = json.loads(row["payload"])["publication_id"]
            publications[pub_id] = db["publications"].get(pub_id)
    return list(publications.values()), sorted(communities)


async def _collect_read(db, platform, publications, communities, now, source: str) -> Collected:
    """Store each request's figures as its answer comes in: writing overlaps rate waits."""
    by_post = {PostRef(str(p["target"]), str(p["remote_id"])): p for p in publications}
    by_poll = {
        PollRef(str(p["target"]), str(p["poll_id"])): p for p in publications if p.get("poll_id")
    }
    owners = _owners(communities)
    unread: set[tuple[str, object]] = set()
    written = 0
    parts = platform.read_figures(list(by_post), list(owners), list(by_poll))
    async for part in parts:
        unread.update(("post", by_post[ref]["id"]) for ref in part.unread_posts)
        unread.update(("post", by_poll[ref]["id"]) for ref in part.unread_polls)
        unread.update(("community", target) for target in part.unread_communities)
        stamp = to_db(now())
        samples = []
        for ref, counters in part.counters.items():
            values = {"deleted": 1} if counters.deleted else _counters(counters)
            samples += of_publication(by_post[ref], values, stamp, source)
        for ref, value in part.reach.items():
            samples += of_publication(by_post[ref], {"reach": value}, stamp, source)
        for ref, votes in part.polls.items():
            samples += of_publication(by_poll[ref], _poll_values(votes), stamp, source)
        samples += _members(part, owners, platform.network, stamp, source)
        store_samples(db, samples)
        written += len(samples)
    if not network(platform.network).capabilities.native_polls:
        # Button polls: the votes are the presses the bot counted, not read from the API.
        stamp = to_db(now())
        samples = [
            s
            for pub in publications
            if pub.get("poll_id")
            for s in of_publication(pub, _poll_values(button_votes(db, pub)), stamp, source)
        ]
        store_samples(db, samples)
        written += len(samples)
    return Collected(written, len(unread))


def button_votes(db: sqlite_utils.Database, pub: dict) -> tuple[int, ...] | None:
    """Votes per option of a button poll, as last counted; zeros before the first vote
    (None if the poll's options are unknown)."""
    totals = latest_poll_totals(db, votes_key(pub["network"], pub["poll_id"]))
    if totals is None:
        action = db.execute(
            "select payload from actions where id = ?", [pub.get("action_id")]
        ).fetchone()
        poll = json.loads(action[0]).get("poll") if action and action[0] else None
        if not poll:
            return None
        return tuple(0 for _ in poll["options"])
    return tuple(totals[k] for k in sorted(totals, key=int))


async def _collect_seen(
    db, platform, publications, communities, now, source: str, acts: bool = False
) -> Collected:
    """Post figures from the updates the bot saw (``acts``: the likes and comments it
    recorded, else reaction totals and replies); members read through the platform."""
    owners = _owners(communities)
    parts = [part async for part in platform.read_figures([], list(owners), [])]
    stamp = to_db(now())
    samples = []
    # A post handed to the admins is not published until it is linked: unread.
    waiting = [pub for pub in publications if str(pub["remote_id"]).startswith(HANDED)]
    seen = _seen_acts if acts else _seen_figures
    for pub in publications:
        if pub not in waiting:
            samples += of_publication(pub, seen(db, pub), stamp, source)
    for part in parts:
        samples += _members(part, owners, platform.network, stamp, source)
    store_samples(db, samples)
    unread = len(waiting) + sum(len(part.unread_communities) for part in parts)
    return Collected(len(samples), unread)


def _owners(communities: Sequence[Community]) -> dict[str, list[str]]:
    """The libraries of each channel or community, by target."""
    owners: dict[str, list[str]] = {}
    for community in sorted(set(communities)):
        owners.setdefault(community.target, []).append(community.library_id)
    return dict(sorted(owners.items()))


def _members(
    part: FiguresPart, owners: dict[str, list[str]], network: str, stamp: str, source: str
) -> list[dict]:
    """The members samples of one part, one per library of each target (None: no count)."""
    return [
        sample(None, library_id, network, target, "members", count, stamp, source)
        for target, count in part.members.items()
        for library_id in owners[target]
    ]


def _counters(m: PostMetrics) -> dict[str, float | None]:
    return {name: getattr(m, name) for name in ("views", "likes", "reposts", "comments")}


def _seen_figures(db: sqlite_utils.Database, pub: dict) -> dict[str, float | None]:
    """A post's figures from the updates the bot saw: reactions, replies, poll totals.

    For networks whose API reads no post counters: views and reposts are not available.
    """
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
    if pub.get("poll_id") and not network(pub["network"]).capabilities.native_polls:
        values.update(_poll_values(button_votes(db, pub)))
    elif pub.get("poll_id"):
        poll = latest_poll_totals(db, pub["poll_id"])
        votes = None if poll is None else tuple(poll[k] for k in sorted(poll, key=int))
        values.update(_poll_values(votes))
    return values


def _seen_acts(db: sqlite_utils.Database, pub: dict) -> dict[str, float | None]:
    """A post's figures from the acts the bot recorded (likes net of those taken back,
    comments), where the API that reads its counters cannot be used: views and reposts
    are then not available."""
    likes, comments = db.execute(
        "select coalesce(sum(case when kind = 'like' then (case when "
        "json_extract(detail, '$.removed') then -1 else 1 end) end), 0), "
        "coalesce(sum(kind = 'comment'), 0) from interactions where publication_id = ?",
        [pub["id"]],
    ).fetchone()
    return {"views": None, "likes": max(likes, 0), "reposts": None, "comments": comments}


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
    for batch in groups_of(work, platforms):
        pubs = [item for item in batch.rows if "remote_id" in item]
        communities = sorted({Community(item["library_id"], item["target"]) for item in batch.rows})
        for start in range(0, max(len(pubs), 1), chunk):
            part = pubs[start : start + chunk]
            asked = communities if start == 0 else []
            got = await collect(db, batch.platform, part, asked, now, "collect")
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
