"""The report's figures, gathered from the database by a few set-based queries.

What counts (definitions the report prints and tests recompute by another route):

* An **online event** is one occurrence of an event (a repeating event has many) with at
  least one sent ``publish`` post, or a quiz whose questions were asked. It belongs to the
  period when its planned time (the earliest publish post of the occurrence, else the first
  question) falls between the library's local midnights. A row is an event on one network.
* An event's **posts** are its publish posts and the reminders before them; a post's figures
  are its latest metric samples (what a network does not show stays None).
* **Participations** are the acts readers made on the event's posts (any kind but join and
  leave, whenever made) plus the quiz answers of the event; people are counted once per
  network, as a reader's VK and Telegram accounts cannot be linked. Acts not tied to a post
  (a chat message) count for the library when made within the period.
* **Followers** are the last members count before the period's end; growth is that minus
  the last count before its start (or the first one within it).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.config import ReportRules
from bot.errors import BibliobotError
from bot.storage import from_db, to_db
from reports.details import polls, quizzes
from reports.model import (
    COUNTERS,
    EventRow,
    LibraryReport,
    Report,
    SixNK,
    Summary,
    Tally,
)
from reports.period import Period

PIVOTED = (*COUNTERS, "deleted")


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
) -> Report:
    """Gather every figure of ``period`` for the given libraries (None: all of them)."""
    libraries = _libraries(db, library_ids)
    spans = {lib["id"]: period.bounds(ZoneInfo(lib["timezone"])) for lib in libraries}
    conn = db.conn
    _temp_tables(conn, spans)
    try:
        rows = _event_rows(conn, libraries, spans)
        tallies = _apply_posts(conn, rows, _metrics(conn))
        acts = _acts(conn, rows)
        followers, growth, by_day = _followers(conn, libraries, spans)
        details = quizzes(conn, rows.__getitem__, with_names), polls(conn, rows.__getitem__)
    finally:
        for name in ("_span", "_cand", "_pubrow", "_quizrow", "_pairs", "_rowlib"):
            conn.execute(f"drop table if exists temp.{name}")
    reports = []
    for lib in libraries:
        mine = sorted(
            (r for r in rows.values() if r.library_id == lib["id"]),
            key=lambda r: (r.at, r.title, r.network),
        )
        for row in mine:
            row.followers = followers.get((lib["id"], row.network))
        summary = _summary(lib["name"], period.days, mine, acts.get(lib["id"], {}), rules)
        summary.tallies = {n: t for (i, n), t in tallies.items() if i == lib["id"]}
        summary.followers = {n: v for (i, n), v in followers.items() if i == lib["id"]}
        summary.growth = {n: v for (i, n), v in growth.items() if i == lib["id"]}
        events = {r.event_id for r in mine}
        reports.append(
            LibraryReport(
                library_id=lib["id"],
                name=lib["name"],
                timezone=lib["timezone"],
                summary=summary,
                rows=mine,
                winners=[w for w in details[0][0] if w.event_id in events],
                questions=[q for q in details[0][1] if q.event_id in events],
                polls=[p for p in details[1] if p.event_id in events],
                followers_by_day=by_day.get(lib["id"], {}),
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


def _libraries(db: sqlite_utils.Database, library_ids: list[str] | None) -> list[dict]:
    known = list(db["libraries"].rows_where(order_by="id"))
    if not library_ids:
        if not known:
            raise NoSuchLibrary("no libraries in the database yet; run `bibliobot plan` first")
        return known
    by_id = {lib["id"]: lib for lib in known}
    missing = [i for i in library_ids if i not in by_id]
    if missing:
        names = ", ".join(sorted(by_id)) or "none"
        raise NoSuchLibrary(f"no library {missing[0]!r} in the database; known: {names}")
    return [by_id[i] for i in library_ids]


def _temp_tables(conn, spans: dict[str, tuple[datetime, datetime]]) -> None:
    """Each library's [start, end) in UTC text, and the candidate events of the period."""
    conn.execute("create temp table if not exists _span (library_id text primary key, s, e)")
    conn.execute("delete from temp._span")
    conn.executemany(
        "insert into temp._span values (?, ?, ?)",
        [(lib, to_db(start), to_db(end)) for lib, (start, end) in spans.items()],
    )
    conn.execute("create temp table if not exists _cand (event_id text primary key)")
    conn.execute("delete from temp._cand")
    # Events with a publish post planned, or a question opened, within their library's span.
    conn.execute(
        "insert or ignore into temp._cand select a.event_id from actions a "
        "join temp._span s on s.library_id = a.library_id "
        "where a.state = 'sent' and a.kind = 'publish' and a.due_at >= s.s and a.due_at < s.e"
    )
    conn.execute(
        "insert or ignore into temp._cand select q.event_id from quiz_questions q "
        "join temp._span s on s.library_id = q.library_id "
        "where q.opened_at >= s.s and q.opened_at < s.e"
    )


def _event_rows(conn, libraries: list[dict], spans) -> dict[tuple, EventRow]:
    """One row per (event, occurrence, network) held in the period; posts noted in _pubrow."""
    names = {lib["id"]: lib["name"] for lib in libraries}
    zones = {lib["id"]: ZoneInfo(lib["timezone"]) for lib in libraries}
    events = {
        e[0]: e
        for e in conn.execute(
            "select e.id, e.library_id, e.kind, e.title from events e "
            "join temp._cand c on c.event_id = e.id"
        )
    }
    posts: dict[str, list[tuple]] = defaultdict(list)
    for post in conn.execute(
        "select a.event_id, a.kind, a.due_at, a.network, a.target, p.id, p.url from actions a "
        "join temp._cand c on c.event_id = a.event_id join publications p on p.action_id = a.id "
        "where a.state = 'sent' and a.kind in ('publish', 'reminder') "
        "order by a.due_at, a.network, a.target"
    ):
        posts[post[0]].append(post)
    firsts = {
        (event_id, network): first
        for event_id, network, first in conn.execute(
            "select q.event_id, q.network, min(q.opened_at) from quiz_questions q "
            "join temp._cand c on c.event_id = q.event_id group by q.event_id, q.network"
        )
    }
    quiz_networks: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (event_id, network), first in firsts.items():
        quiz_networks[event_id].append((network, first))
    rows: dict[tuple, EventRow] = {}
    links: list[tuple[int, int]] = []  # (publication id, row number)
    numbers: dict[tuple, int] = {}

    def row_for(event, occurrence: str, network: str) -> EventRow:
        key = (event[0], occurrence, network)
        if key not in rows:
            library = event[1]
            at = from_db(occurrence).astimezone(zones[library])
            rows[key] = EventRow(library, names[library], event[0], event[2], event[3], network, at)
            rows[key].occurrence = occurrence
            numbers[key] = len(numbers)
        return rows[key]

    for event_id, event in events.items():
        start, end = (to_db(t) for t in spans[event[1]])
        occurrences = sorted({p[2] for p in posts[event_id] if p[1] == "publish"})
        if not occurrences:  # a quiz asked without an announcing post
            opened = [first for _, first in quiz_networks[event_id]]
            occurrences = [min(opened)] if opened else []
        for post in posts[event_id]:
            # A reminder belongs to the first occurrence at or after it.
            occurrence = next((o for o in occurrences if o >= post[2]), None)
            if occurrence is None or not start <= occurrence < end:
                continue
            row = row_for(event, occurrence, post[3])
            row.posts += 1
            if post[1] == "reminder":
                row.reminders += 1
            elif not row.url:
                row.url = post[6] or ""
            links.append((post[5], numbers[(event_id, occurrence, post[3])]))
        for network, _ in quiz_networks[event_id]:
            if occurrences and start <= occurrences[0] < end:
                row_for(event, occurrences[0], network)
    conn.execute("create temp table if not exists _pubrow (publication_id integer primary key, n)")
    conn.execute("delete from temp._pubrow")
    conn.executemany("insert or ignore into temp._pubrow values (?, ?)", links)
    conn.execute("create temp table if not exists _quizrow (event_id, network, n)")
    conn.execute("delete from temp._quizrow")
    # Quiz answers go to the event's first held occurrence on that network.
    firsts_by_row: dict[tuple[str, str], int] = {}
    for key, number in sorted(numbers.items(), key=lambda kv: kv[0][1]):
        firsts_by_row.setdefault((key[0], key[2]), number)
    conn.executemany(
        "insert into temp._quizrow values (?, ?, ?)",
        [(e, n, number) for (e, n), number in firsts_by_row.items() if (e, n) in firsts],
    )
    ordered = sorted(numbers, key=numbers.get)
    return {numbers[key]: rows[key] for key in ordered}


def _metrics(conn) -> dict[int, dict[str, float | None]]:
    """Latest value of each counter per post (one pass over the samples of these posts)."""
    columns = ", ".join(f"max(case when metric = '{m}' then value end)" for m in PIVOTED)
    wanted = ", ".join(f"'{m}'" for m in PIVOTED)
    sql = (
        f"select publication_id, {columns} from ("
        "  select m.publication_id, m.metric, m.value, max(m.collected_at) "
        "  from temp._pubrow r join metric_samples m on m.publication_id = r.publication_id "
        f"  where m.metric in ({wanted}) group by m.publication_id, m.metric"
        ") group by publication_id"
    )
    return {row[0]: dict(zip(PIVOTED, row[1:], strict=True)) for row in conn.execute(sql)}


def _apply_posts(
    conn, rows: dict[int, EventRow], figures: dict[int, dict]
) -> dict[tuple[str, str], Tally]:
    """Add each post's figures to its row; the per-post tallies of each library and network."""
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for publication_id, number in conn.execute("select publication_id, n from temp._pubrow"):
        row = rows[number]
        found = figures.get(publication_id, {})
        for name in COUNTERS:
            value = found.get(name)
            if value is not None:
                row.figures[name] = (row.figures.get(name) or 0.0) + value
            else:
                row.figures.setdefault(name, None)
        row.deleted = row.deleted or bool(found.get("deleted"))
        tallies[(row.library_id, row.network)].add_post(found)
    return tallies


def _acts(conn, rows: dict[int, EventRow]) -> dict[str, dict[str, tuple[int, int, int, int]]]:
    """Participations, people and answers per row; and per library and network.

    One pass over the acts and answers makes (row, person) pairs with their counts; both
    the rows' and the libraries' figures come from those pairs.
    """
    conn.execute("drop table if exists temp._pairs")
    conn.execute(
        "create temp table _pairs as select n, person, count(*) as acts, sum(answer) as answers "
        "from (select r.n, i.person, i.kind = 'answer' as answer from interactions i "
        "  join temp._pubrow r on r.publication_id = i.publication_id "
        "  where i.kind not in ('join', 'leave') "
        "  union all select r.n, q.person, 1 from quiz_answers q "
        "  join temp._quizrow r on r.event_id = q.event_id and r.network = q.network) "
        "group by n, person"
    )
    for number, acts, people, answers in conn.execute(
        "select n, sum(acts), count(*), sum(answers) from temp._pairs group by n"
    ):
        row = rows[number]
        row.participations, row.people, row.answers = acts, people, int(answers or 0)
    conn.execute("create temp table if not exists _rowlib (n integer primary key, lib, net)")
    conn.execute("delete from temp._rowlib")
    conn.executemany(
        "insert into temp._rowlib values (?, ?, ?)",
        [(n, row.library_id, row.network) for n, row in rows.items()],
    )
    sql = (
        "select library_id, network, sum(acts), count(distinct person), sum(answers), "
        "sum(outside) from ("
        "  select l.lib as library_id, l.net as network, p.person, p.acts, p.answers, "
        "  0 as outside from temp._pairs p join temp._rowlib l on l.n = p.n "
        "  union all select i.library_id, i.network, i.person, 1, i.kind = 'answer', 1 "
        "  from interactions i join temp._span s on s.library_id = i.library_id "
        "  where i.publication_id is null and i.kind not in ('join', 'leave') "
        "  and i.at >= s.s and i.at < s.e"
        ") group by library_id, network"
    )
    found: dict[str, dict[str, tuple[int, int, int, int]]] = defaultdict(dict)
    for library, network, acts, people, answers, outside in conn.execute(sql):
        found[library][network] = (acts, people, int(answers or 0), int(outside or 0))
    return found


def _followers(conn, libraries: list[dict], spans):
    """Followers at the end, growth over the period, and followers by local day."""
    samples = conn.execute(
        "select m.library_id, m.network, m.target, m.value, m.collected_at "
        "from metric_samples m join temp._span s on s.library_id = m.library_id "
        "where m.publication_id is null and m.metric = 'members' and m.available = 1 "
        "and m.collected_at < s.e order by m.collected_at, m.id"
    )
    zones = {lib["id"]: ZoneInfo(lib["timezone"]) for lib in libraries}
    before: dict[tuple, float] = {}
    first: dict[tuple, float] = {}
    last: dict[tuple, float] = {}
    daily: dict[str, dict[tuple, dict]] = defaultdict(lambda: defaultdict(dict))
    for library, network, target, value, stamp in samples:
        key = (library, network, target)
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
    return followers, growth, by_day


def _summary(name: str, days: int, rows: list[EventRow], acts: dict, rules: ReportRules):
    """A library's summary from its rows and acts."""
    summary = Summary(name=name, days=days)
    occurrences: dict[str, set] = defaultdict(set)
    for row in rows:
        summary.events[(row.kind, row.network)] += 1
        occurrences[row.kind].add((row.event_id, row.occurrence))
    summary.events_by_kind = Counter({kind: len(seen) for kind, seen in occurrences.items()})
    for network, (count, people, answers, outside) in acts.items():
        summary.participations[network] = count
        summary.people[network] = people
        summary.answers += answers
        summary.outside_events += outside
    summary.six_nk = six_nk(rows, rules)
    return summary


def six_nk(rows: list[EventRow], rules: ReportRules) -> SixNK:
    """The 6-НК figures of these rows under ``rules`` (printed with the report)."""
    counted = [r for r in rows if not rules.event_kinds or r.kind in rules.event_kinds]
    events = len({(r.event_id, r.occurrence) for r in counted})
    if rules.count_reminders_as_events:
        events += sum(r.reminders for r in counted)
    if rules.participation == "per_person_per_event":
        participations = sum(r.people for r in counted)  # rows are per event and network
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
        total.people.update(one.people)  # pseudonyms are per library: people add up
        total.answers += one.answers
        total.outside_events += one.outside_events
        for target, source in ((total.followers, one.followers), (total.growth, one.growth)):
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
