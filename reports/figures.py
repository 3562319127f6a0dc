"""The report's figures, gathered from the database by a few set-based queries.

What counts (definitions the report prints and tests recompute by another route):

* An **online event** is one occurrence of an event (a repeating event has many) with at
  least one sent ``publish`` post (or a giveaway's announcement), or a quiz whose
  questions were asked. It belongs to the
  period when its planned time (the earliest publish post of the occurrence, else the first
  question) falls between the library's local midnights. A row is an event on one network.
* An event's **posts** are everything the bot put in front of readers for it: its publish
  posts, the reminders before them, and a quiz's or poll's own posts (questions, standings,
  results); a post's figures are its latest metric samples (what a network does not show
  stays None). Messages in a chat or group (a live quiz's) are posts without figures or a
  link; the rates per follower leave them out (``reports.model``).
* **Participations** are the acts readers made on the event's posts (any kind but join and
  leave, whenever made) plus the quiz answers of the event, plus the acts a post's counters
  show whose authors the network does not name (votes in an anonymous poll, reaction
  totals where the network's are anonymous): those count as acts under either
  ``participation`` rule, and give no people. People are counted once per network, as a
  reader's accounts on two networks cannot be linked. Acts not tied to a post (a chat message) count for the library when
  made within the period. A contest entry is such an act already (a comment on the call
  post, or a message to the bot or the community), and so are a giveaway participant's
  like, comment and repost on the announcement: the contest and giveaway figures are shown
  apart and add nothing to the participations.
* **Followers** are the last members count of the library's channels and community walls
  before the period's end; growth is that minus the last count before its start (or the
  first one within it). Members of the groups and chats where quizzes are held are kept
  apart (``group_members``).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from core import messages
from core.config import ReportRules
from core.errors import BibliobotError
from core.storage import from_db
from reports import forked, gather
from reports.details import contests, giveaways, polls, quizzes
from reports.model import (
    ContestRow,
    EventRow,
    GiveawayRow,
    Library,
    LibraryReport,
    PollOption,
    QuestionFigures,
    Report,
    SixNK,
    Summary,
    Tally,
    Winner,
)
from reports.period import Period

# (library id, network) → a figure of that library's channels and walls on that network
ByNetwork = dict[tuple[str, str], float | None]


class NoSuchLibrary(BibliobotError):
    """The report names a library the database does not know."""


def build_report(
    db: sqlite_utils.Database,
    period: Period,
    rules: ReportRules,
    *,
    library_ids: list[str] | None = None,
    language: str = "ru",
    with_names: bool = False,
    now: datetime | None = None,
    workers: int | None = None,
) -> Report:
    """Gather every figure of ``period`` for the given libraries (None: all of them).

    Up to ``workers`` processes (None: one per core) gather groups of libraries side by
    side, where that is safe (see ``processes``).
    """
    libraries = _libraries(db, library_ids)
    spans = {lib.id: period.bounds(ZoneInfo(lib.timezone)) for lib in libraries}
    found = gather_all(db, libraries, spans, with_names, workers)
    by_library: dict[str, list[EventRow]] = defaultdict(list)
    for row in found.rows:  # in report order within each library: time, title, network
        by_library[row.library_id].append(row)
    home = {row.event_id: row.library_id for row in found.rows}
    winners, questions = _by_library(found.winners, home), _by_library(found.questions, home)
    options = _by_library(found.options, home)
    held = _by_library(found.contests, home)
    drawn = _by_library(found.giveaways, home)
    tallies, acts, followers, growth = found.tallies, found.acts, found.followers, found.growth
    by_day = found.by_day
    for (library, network), tally in tallies.items():
        tally.per_follower(followers.get((library, network)))
    reports = []
    for lib in libraries:
        mine = by_library.get(lib.id, [])
        for row in mine:
            row.followers = followers.get((lib.id, row.network))
        summary = _summary(lib.name, period.days, mine, acts.get(lib.id, {}), rules)
        summary.tallies = {n: t for (i, n), t in tallies.items() if i == lib.id}
        summary.followers = {n: v for (i, n), v in followers.items() if i == lib.id}
        summary.growth = {n: v for (i, n), v in growth.items() if i == lib.id}
        summary.group_members = {n: v for (i, n), v in found.group_members.items() if i == lib.id}
        for contest in held.get(lib.id, []):
            summary.contest_entries[contest.network] += contest.entries
        for giveaway in drawn.get(lib.id, []):
            summary.giveaway_participants[giveaway.network] += giveaway.participants or 0
        reports.append(
            LibraryReport(
                library_id=lib.id,
                name=lib.name,
                timezone=lib.timezone,
                summary=summary,
                rows=mine,
                winners=winners.get(lib.id, []),
                questions=questions.get(lib.id, []),
                polls=options.get(lib.id, []),
                contests=held.get(lib.id, []),
                giveaways=drawn.get(lib.id, []),
                followers_by_day=by_day.get(lib.id, {}),
            )
        )
    network = (
        roll_up([r.summary for r in reports], period.days, rules) if len(reports) > 1 else None
    )
    return Report(
        period=period,
        rules=rules,
        language=language,
        generated_at=now or datetime.now(UTC),
        libraries=reports,
        network=network,
        with_names=with_names,
    )


@dataclass
class Gathered:
    """What the database gave for a group of libraries."""

    rows: list[EventRow] = field(default_factory=list)
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    acts: dict[str, dict[str, gather.Acts]] = field(default_factory=dict)  # library → network
    followers: ByNetwork = field(default_factory=dict)
    growth: ByNetwork = field(default_factory=dict)
    by_day: dict[str, dict[date, float]] = field(default_factory=dict)  # library → day → all
    group_members: ByNetwork = field(default_factory=dict)
    winners: list[Winner] = field(default_factory=list)
    questions: list[QuestionFigures] = field(default_factory=list)
    options: list[PollOption] = field(default_factory=list)
    contests: list[ContestRow] = field(default_factory=list)
    giveaways: list[GiveawayRow] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)  # the rows as ``gather.rows`` gave them

    def add(self, other: Gathered, libraries: list[Library]) -> None:
        """Take in another group's figures (groups never share a library)."""
        if other.lines and not other.rows:
            other.rows = list(gather.event_rows(other.lines, libraries).values())
        for name in ("rows", "winners", "questions", "options", "contests", "giveaways"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("tallies", "acts", "followers", "growth", "by_day", "group_members"):
            getattr(self, name).update(getattr(other, name))


def gather_all(db, libraries: list[Library], spans, with_names: bool, workers: int | None):
    """Every library's figures; groups of libraries in child processes where it is safe."""
    path = _file_of(db)
    count = processes(len(libraries), workers)
    if count <= 1 or path is None or db.conn.in_transaction:
        # In memory, or inside the caller's transaction: only this connection sees it all.
        return gather_group(db.conn, libraries, spans, with_names)
    groups = [libraries[i::count] for i in range(count)]
    # The children take all groups but the first, which this process gathers meanwhile.
    with ProcessPoolExecutor(count - 1, mp_context=forked.context()) as pool:
        others = count - 1
        names = [with_names] * others
        parts = pool.map(_gather_file, [path] * others, groups[1:], [spans] * others, names)
        found = gather_group(db.conn, groups[0], spans, with_names)
        for part in parts:
            found.add(part, libraries)
    return found


def processes(libraries: int, workers: int | None) -> int:
    """How many processes gather a report of this many libraries (1: this one alone).

    Processes, not threads: two threads with their own connections ran no faster
    than one (most likely SQLite's process-wide memory lock; see ``reports.forked``).
    """
    if not forked.safe():
        return 1
    return max(1, min(workers or forked.cores(), libraries))


def _gather_file(path: str, libraries: list[Library], spans, with_names: bool) -> Gathered:
    """One group's figures on a connection of its own (in a child process)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("pragma busy_timeout = 5000")
        found = gather_group(conn, libraries, spans, with_names)
    finally:
        conn.close()
    # The rows go back as the query's plain tuples: pickling a year's EventRow objects
    # took longer than making them again from the tuples.
    found.rows = []
    return found


def gather_group(conn, libraries: list[Library], spans, with_names: bool) -> Gathered:
    """The figures of these libraries, read through one connection."""
    mine = {lib.id: spans[lib.id] for lib in libraries}
    # Filling temporary tables opens a transaction; close it after, unless it was the
    # caller's (nothing but temporary tables is written).
    ours = not conn.in_transaction
    try:
        gather.prepare(conn, mine)
        gather.pairs(conn)
        lines = gather.rows(conn)
        rows = gather.event_rows(lines, libraries)
        found = Gathered(list(rows.values()), gather.tallies(conn), gather.acts(conn))
        found.lines = lines
        people = _followers(conn, libraries, mine)
        found.followers, found.growth, found.by_day, found.group_members = people
        found.winners, found.questions = quizzes(conn, rows.__getitem__, with_names)
        found.options = polls(conn, rows.__getitem__)
        found.contests = contests(conn, rows.__getitem__, with_names)
        found.giveaways = giveaways(conn, rows.__getitem__)
    finally:
        gather.drop(conn)
        if ours and conn.in_transaction:
            conn.commit()
    return found


def _file_of(db: sqlite_utils.Database) -> str | None:
    """The database's file, or None when it lives in memory."""
    for _, name, file in db.conn.execute("pragma database_list"):
        if name == "main":
            return file or None
    return None


def _by_library(items: list, home: dict[str, str]) -> dict[str, list]:
    """Quiz and poll details grouped by their event's library."""
    grouped: dict[str, list] = defaultdict(list)
    for item in items:
        grouped[home[item.event_id]].append(item)
    return grouped


def _libraries(db: sqlite_utils.Database, library_ids: list[str] | None) -> list[Library]:
    """The libraries a report covers (all of them when none is named), by id."""
    known = [
        Library(row["id"], row["name"], row["timezone"])
        for row in db["libraries"].rows_where(order_by="id")
    ]
    if not library_ids:
        if not known:
            raise NoSuchLibrary(messages.text("cli.report_no_libraries"))
        return known
    by_id = {lib.id: lib for lib in known}
    missing = [i for i in library_ids if i not in by_id]
    if missing:
        names = ", ".join(sorted(by_id)) or "none"
        raise NoSuchLibrary(messages.text("cli.report_no_library", library=missing[0], known=names))
    return [by_id[i] for i in library_ids]


def _followers(conn, libraries: list[Library], spans):
    """Followers at the end, growth over the period, followers by local day, and members
    of the quiz groups and chats at the end (not followers: kept apart)."""
    samples = conn.execute(
        "select m.library_id, m.network, m.target, m.value, m.collected_at, "
        f"{gather.is_chat_sql('m.network', 'm.target')} "
        "from metric_samples m join temp._span s on s.library_id = m.library_id "
        "where m.publication_id is null and m.metric = 'members' and m.available = 1 "
        "and m.collected_at < s.e order by m.collected_at, m.id"
    )
    zones = {lib.id: ZoneInfo(lib.timezone) for lib in libraries}
    before: dict[tuple, float] = {}
    first: dict[tuple, float] = {}
    last: dict[tuple, float] = {}
    daily: dict[str, dict[tuple, dict]] = defaultdict(lambda: defaultdict(dict))
    groups: dict[tuple, float] = {}
    for library, network, target, value, stamp, chat in samples:
        key = (library, network, target)
        if chat:
            groups[key] = value  # the last one before the end
            continue
        start = spans[library][0]
        moment = from_db(stamp)
        if moment < start:
            before[key] = value
        else:
            first.setdefault(key, value)
            daily[library][key][moment.astimezone(zones[library]).date()] = value
        last[key] = value
    followers: dict[tuple[str, str], float | None] = {}
    growth: dict[tuple[str, str], float | None] = {}
    for (library, network, target), value in last.items():
        pair = (library, network)
        followers[pair] = (followers.get(pair) or 0.0) + value
        base = before.get((library, network, target), first.get((library, network, target)))
        growth[pair] = (growth.get(pair) or 0.0) + (value - base)
    by_day: dict[str, dict] = {}
    for library, targets in daily.items():
        current = {key: before[key] for key in targets if key in before}
        total: dict = {}
        for day in sorted({d for series in targets.values() for d in series}):
            for key, series in targets.items():
                if day in series:
                    current[key] = series[day]  # carried forward to days without a sample
            total[day] = sum(current.values())
        by_day[library] = total
    group_members: dict[tuple[str, str], float] = {}
    for (library, network, _), value in groups.items():
        group_members[(library, network)] = group_members.get((library, network), 0.0) + value
    return followers, growth, by_day, group_members


def _summary(
    name: str, days: int, rows: list[EventRow], acts: dict[str, gather.Acts], rules: ReportRules
) -> Summary:
    """A library's summary from its rows and acts."""
    summary = Summary(name=name, days=days)
    occurrences: dict[str, set] = defaultdict(set)
    for row in rows:
        summary.events[(row.kind, row.network)] += 1
        occurrences[row.kind].add((row.event_id, row.occurrence))
    summary.events_by_kind = Counter({kind: len(seen) for kind, seen in occurrences.items()})
    for network, one in acts.items():
        summary.participations[network] = one.participations
        summary.anonymous[network] = one.anonymous
        summary.people[network] = one.people
        summary.answers += one.answers
        summary.outside_events += one.outside
    summary.six_nk = six_nk(rows, rules)
    return summary


def six_nk(rows: list[EventRow], rules: ReportRules) -> SixNK:
    """The 6-НК figures of these rows under ``rules`` (printed with the report)."""
    counted = [r for r in rows if not rules.event_kinds or r.kind in rules.event_kinds]
    events = len({(r.event_id, r.occurrence) for r in counted})
    if rules.count_reminders_as_events:
        events += sum(r.reminders for r in counted)
    if rules.participation == "per_person_per_event":
        # Rows are per event and network. Acts of no known author cannot be told apart
        # by reader: they count as acts under this rule too.
        participations = sum(r.people + r.anonymous for r in counted)
    else:
        participations = sum(r.participations for r in counted)
    views = None
    if rules.views_are_visits:
        views = sum(r.figures.get("views") or 0.0 for r in counted)
    return SixNK(events, participations, views, rules)


def roll_up(summaries: list[Summary], days: int, rules: ReportRules) -> Summary:
    """The network's summary: every figure is the sum of the libraries' figures."""
    total = Summary(name="", days=days)
    views: float | None = None
    events = participations = 0
    for one in summaries:
        total.events.update(one.events)
        total.events_by_kind.update(one.events_by_kind)
        for network, tally in one.tallies.items():
            total.tallies.setdefault(network, Tally()).merge(tally)
        total.participations.update(one.participations)
        total.anonymous.update(one.anonymous)
        total.people.update(one.people)  # pseudonyms are per library: people add up
        total.contest_entries.update(one.contest_entries)
        total.giveaway_participants.update(one.giveaway_participants)
        total.answers += one.answers
        total.outside_events += one.outside_events
        pairs = (total.followers, one.followers), (total.growth, one.growth)
        for target, source in (*pairs, (total.group_members, one.group_members)):
            for network, value in source.items():
                if value is not None:
                    target[network] = (target.get(network) or 0.0) + value
                else:
                    target.setdefault(network, None)
        if one.six_nk is not None:
            events += one.six_nk.events
            participations += one.six_nk.participations
            if one.six_nk.views_added is not None:
                views = (views or 0.0) + one.six_nk.views_added
    total.six_nk = SixNK(events, participations, views, rules)
    return total
