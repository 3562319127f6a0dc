"""The series behind the report's four charts: activity by week, engagement by kind,
followers by day, top events. The XLSX draws them as native charts, the HTML as SVG."""

from __future__ import annotations

import heapq
from collections import defaultdict
from datetime import date, timedelta
from typing import NamedTuple

from reports.model import EventRow, LibraryReport
from reports.words import Words


# A chart's points, tuples still: the XLSX writes each as a row of its data table.
class Week(NamedTuple):
    """A week of the activity chart."""

    monday: date
    events: int
    participations: int


class Day(NamedTuple):
    """A day of the followers chart."""

    day: date
    followers: float


class Bar(NamedTuple):
    """A labelled bar (an event kind's engagement, a top event's response)."""

    label: str
    value: float


def weekly(rows: list[EventRow]) -> list[Week]:
    """(Monday, events, participations) of every week of the rows, gaps filled."""
    by_week: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    seen: set = set()
    for row in rows:
        day = row.at.date()
        monday = day - timedelta(days=day.weekday())
        if (row.event_id, row.occurrence) not in seen:
            seen.add((row.event_id, row.occurrence))
            by_week[monday][0] += 1
        by_week[monday][1] += row.participations
    if not by_week:
        return []
    weeks, current, last = [], min(by_week), max(by_week)
    while current <= last:
        events, acts = by_week.get(current, (0, 0))
        weeks.append(Week(current, events, acts))
        current += timedelta(days=7)
    return weeks


def by_kind(rows: list[EventRow], words: Words) -> list[Bar]:
    """Engagement summed by event kind."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[words.name(row.kind)] += row.engagement or 0.0
    return [Bar(label, value) for label, value in sorted(totals.items())]


def followers_series(libraries: list[LibraryReport]) -> list[Day]:
    """Followers of all the libraries by day (each carried forward between samples)."""
    days = sorted({d for lib in libraries for d in lib.followers_by_day})
    current: dict[str, float] = {}
    series = []
    for day in days:
        for lib in libraries:
            if day in lib.followers_by_day:
                current[lib.library_id] = lib.followers_by_day[day]
        series.append(Day(day, sum(current.values())))
    return series


def top(rows: list[EventRow], words: Words, count: int = 10) -> list[Bar]:
    """The events with the most response (participations + engagement), each labelled
    with its title, day and network (as the report's language names it)."""
    # Only the best few are wanted: a full sort of a year's rows cost a third of a second.
    scored = [(r.participations + (r.engagement or 0.0), r) for r in rows]
    best = heapq.nsmallest(count, scored, key=lambda pair: (-pair[0], pair[1].at))
    return [
        Bar(f"{_cut(r.title, 40)} ({r.at:%d.%m}, {words.name(r.network)})", score)
        for score, r in best
    ]


def _cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters long, an ellipsis saying where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
