"""A contest's own figures for the reports: entries, votes and entrants per network.

The entry posts, the gallery intro and the results post are publications of the contest
event, so their views, likes, reactions and comments already enter the event's row like
any post's. What only the contest knows is here: entries received in time (late ones are
never stored), how many the librarian approved, the votes counted at ``voting_until``
(likes or reaction totals: counts, not people) and the entrants (distinct pseudonymous
ids; the same person on two networks counts twice, as elsewhere).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class ContestFigures:
    """One contest on one network."""

    event_id: str
    network: str
    entries: int
    approved: int
    votes: int | None  # None until the votes are counted
    entrants: int


def contest_figures(
    db: sqlite_utils.Database | sqlite3.Connection, event_ids: list[str]
) -> list[ContestFigures]:
    """The figures of these contests, by event and network (``reports`` passes the
    connection its temporary tables live on)."""
    if not event_ids:
        return []
    marks = ", ".join("?" for _ in event_ids)
    rows = db.execute(
        "select event_id, network, count(*), sum(state = 'approved'), "
        "sum(votes), count(votes), count(distinct person) from contest_entries "
        f"where event_id in ({marks}) group by event_id, network order by event_id, network",
        event_ids,
    ).fetchall()
    return [
        ContestFigures(event, network, entries, approved or 0, votes if counted else None, people)
        for event, network, entries, approved, votes, counted, people in rows
    ]
