"""Votes and places: what each network lets a bot see, counted honestly.

VK: the likes counter of each entry post (``wall.getById`` through the adapter's
``read_figures``), read at ``voting_until``. Telegram: a bot cannot see who reacted to a
channel post, only the anonymous totals Telegram sends (``message_reaction_count``,
delayed up to a few minutes, and only to a bot that administers the channel): an entry's
votes are the sum of every reaction on its post in the last totals received by
``voting_until``. Neither network tells whether one person voted on several entries, and
the counts cannot be checked against people: the results say votes, not voters.

With ``voting = "poll"`` the votes are a poll's totals per finalist, read when the poll
is stopped at ``voting_until`` (Telegram's stopPoll answers with them; VK's polls.getById),
else the last totals Telegram sent. Polls in a channel are anonymous: totals, not voters.

Places: most votes first; a tie goes to the entry that came first.
"""

from __future__ import annotations

from collections import defaultdict

import sqlite_utils

from bot.contest import store
from core import interactions, networks
from core.platform import Platform, PostRef, QuizPlatform


async def read_votes(
    db: sqlite_utils.Database,
    platform: Platform,
    event_id: str,
    network: str,
    chat_ids: dict[str, str],
) -> dict[int, int]:
    """Votes per entry id, summed over its posts on ``network``: their likes where the API
    reads them, else the reaction totals the updates brought.

    ``chat_ids`` maps a target as the config names it to the chat id updates name it by.
    """
    posts = store.entry_posts(db, event_id, network)
    votes: dict[int, int] = defaultdict(int)
    if networks.network(network).capabilities.likes_readable:
        by_target: dict[str, list[dict]] = defaultdict(list)
        for post in posts:
            by_target[post["target"]].append(post)
        for target, group in by_target.items():
            refs = [PostRef(target, p["remote_id"]) for p in group]
            likes = {
                ref.remote_id: metrics.likes or 0
                async for part in platform.read_figures(refs, [])
                for ref, metrics in part.counters.items()
            }
            for post in group:
                votes[post["entry_id"]] += likes.get(post["remote_id"], 0)
    else:
        for post in posts:
            chat = chat_ids.get(post["target"], post["target"])
            totals = interactions.latest_reactions(db, chat, post["remote_id"]) or {}
            votes[post["entry_id"]] += sum(totals.values())
    for post in posts:
        votes.setdefault(post["entry_id"], 0)
    return dict(votes)


async def read_poll_votes(
    db: sqlite_utils.Database, platform: QuizPlatform, event_id: str, network: str
) -> dict[int, int]:
    """Votes per finalist from the contest's poll(s) on ``network``, stopping them."""
    votes: dict[int, int] = defaultdict(int)
    for poll in store.poll_posts(db, event_id, network):
        totals = await platform.stop_poll(poll["target"], poll["remote_id"], poll["poll_id"])
        if totals is None:  # stopped already: the last totals Telegram sent
            seen = interactions.latest_poll_totals(db, poll["poll_id"]) or {}
            totals = tuple(seen.get(str(n), 0) for n in range(len(poll["entries"])))
        for entry_id, count in zip(poll["entries"], totals, strict=False):
            votes[entry_id] += count
    return dict(votes)


def store_votes(db: sqlite_utils.Database, votes: dict[int, int]) -> None:
    """Keep the count of each entry (the results and the reports read it)."""
    with db.atomic():
        for entry_id, count in votes.items():
            db["contest_entries"].update(entry_id, {"votes": count})


def ranking(
    db: sqlite_utils.Database, event_id: str, network: str, poll: bool = False
) -> list[dict]:
    """Approved entries of ``network`` that were voted on, best first (ties: earlier entry).

    Voted on: an entry post went out, or (``poll``) the entry is an option of the poll.
    """
    if poll:
        shown = {e for p in store.poll_posts(db, event_id, network) for e in p["entries"]}
    else:
        shown = {p["entry_id"] for p in store.entry_posts(db, event_id, network)}
    rows = [
        e
        for e in store.entries(db, event_id, network)
        if e["state"] == store.APPROVED and e["id"] in shown
    ]
    return sorted(rows, key=lambda e: (-(e["votes"] or 0), e["received_at"], e["number"]))
