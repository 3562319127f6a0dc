"""A report laid out as titled tables, which every writer (xlsx, html, csv, md) renders.

Cells keep their types (numbers, datetimes, None for "not shown"), and each column says
how to show them, so the formats agree figure for figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reports.model import (
    EventRow,
    LibraryReport,
    Report,
    Summary,
    channel_networks,
    report_networks,
)
from reports.words import Words

# Column kinds: text, link, int, num (one decimal), pct, datetime, date, time.


@dataclass
class Table:
    """A titled table: headers, the kind of each column, and rows of typed cells."""

    title: str
    headers: list[str]
    kinds: list[str]
    rows: list[list] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)  # characters, for the XLSX columns
    note: str = ""  # shown under the title (e.g. that only some rows are listed)


class Percent(float):
    """A rate in per cent among plain numbers (a summary's ER rows): shown as one."""


def as_percent(value: float | None) -> Percent | None:
    """``value`` marked as a rate in per cent (None stays None)."""
    return None if value is None else Percent(value)


def local(moment: datetime) -> datetime:
    """A local aware datetime as the naive wall-clock time a spreadsheet shows."""
    return moment.replace(tzinfo=None)


def summary_table(summary: Summary, words: Words, title: str) -> Table:
    """Figures by network and in total, each with its formula."""
    nets = [n for n in report_networks() if n in summary.tallies or n in summary.followers]
    columns = [*nets, None]
    table = Table(
        title,
        [words["figure"], *(words.name(n) for n in nets), words["all"], words["formula"]],
        ["text", *(["num"] * (len(nets) + 1)), "text"],
        widths=[44, *([14] * (len(nets) + 1)), 70],
    )

    def line(label: str, value, formula: str = "") -> None:
        table.rows.append([label, *(value(n) for n in columns), formula])

    line(
        words["events_held"],
        lambda n: (
            summary.events_total
            if n is None
            else sum(v for (_, net), v in summary.events.items() if net == n)
        ),
    )
    for kind in sorted(summary.events_by_kind):
        line(
            f"  {words.name(kind)}",
            lambda n, kind=kind: (
                summary.events_by_kind[kind] if n is None else summary.events[(kind, n)]
            ),
        )
    line(words["posts"], lambda n: summary.tally(n).posts)
    line(
        words["participations"],
        lambda n: summary.participations[n] if n else sum(summary.participations.values()),
        words.formula("participations"),
    )
    line(
        words["anonymous"],
        lambda n: summary.anonymous[n] if n else sum(summary.anonymous.values()),
        words.formula("anonymous"),
    )
    line(words["outside"], lambda n: summary.outside_events if n is None else None)
    # Contest entries and giveaway participants are acts counted above already: shown
    # for reference, added to nothing.
    for name in ("contest_entries", "giveaway_participants"):
        counts = getattr(summary, name)
        if counts:
            line(
                words[name],
                lambda n, counts=counts: counts[n] if n else sum(counts.values()),
                words.formula(name),
            )
    line(
        words["people"],
        lambda n: summary.people[n] if n else sum(summary.people.values()),
        words.formula("people"),
    )
    line(words["answers"], lambda n: summary.answers if n is None else None)
    for metric in ("views", "likes", "reactions", "reposts", "comments", "poll_votes"):
        line(words[metric], lambda n, metric=metric: summary.tally(n).value(metric))
    line(
        words["engagement"],
        lambda n: summary.tally(n).value("engagement"),
        words.formula("engagement"),
    )
    line(words["followers"], summary.total_followers, words.formula("followers"))
    if any(v is not None for v in summary.group_members.values()):
        line(words["group_members"], summary.total_group_members, words.formula("group_members"))
    line(words["growth"], summary.total_growth, words.formula("growth"))
    for rate in ("er_post", "er_view", "er_day"):
        line(
            words[rate],
            lambda n, rate=rate: as_percent(getattr(summary.rates(n), rate)),
            words.formula(rate),
        )
    # A channel's own ER and ERR: in the columns of the networks that have them, and in all.
    channels = channel_networks()
    if any(n in channels for n in nets):
        for rate in ("er_channel", "err"):
            line(
                words[rate],
                lambda n, rate=rate: (
                    as_percent(getattr(summary.rates(n), rate))
                    if n is None or n in channels
                    else None
                ),
                words.formula(rate),
            )
    # Rows that are not per network leave those cells empty rather than n/a.
    for row in table.rows:
        if row[0] in (words["outside"], words["answers"]):
            for i in range(1, len(nets) + 1):
                row[i] = ""
    return table


def six_nk_table(summary: Summary, report: Report, words: Words) -> Table:
    """The 6-НК figures and the rules used to count them."""
    nk = summary.six_nk
    table = Table(
        words["six_nk_title"],
        [words["figure"], words["value"], words["formula"]],
        ["text", "num", "text"],
        widths=[58, 14, 70],
    )
    if nk is None:
        return table
    ru = words.language == "ru"
    visits = (
        ("участия + просмотры" if ru else "participations + views")
        if report.rules.views_are_visits
        else ("участия" if ru else "participations")
    )
    per_person = report.rules.participation == "per_person_per_event"
    if ru:
        counted = "читатель — один раз на мероприятие" if per_person else "каждое действие читателя"
    else:
        counted = "a reader once per event" if per_person else "every act of a reader"
    table.rows += [
        [words["nk_events"], nk.events, ""],
        [words["nk_participations"], nk.participations, counted],
        [words["nk_visits"], nk.visits, visits],
        [words["rules"], "", ""],
    ]
    table.rows += [[f"  {rule.setting}", "", rule.meaning] for rule in words.rules(report.rules)]
    return table


EVENT_KEYS = (
    "datetime",
    "library",
    "title",
    "kind",
    "net",
    "link",
    "post_count",
    "participants",
    "people_short",
    "views",
    "likes",
    "reactions",
    "reposts",
    "comments",
    "engagement",
    "er_view",
    "er_post",
    "note",
)
EVENT_KINDS = (
    "datetime",
    "text",
    "text",
    "text",
    "text",
    "link",
    "int",
    "int",
    "int",
    "int",
    "int",
    "int",
    "int",
    "int",
    "int",
    "pct",
    "pct",
    "text",
)
EVENT_WIDTHS = (17, 24, 40, 12, 11, 40, 11, 9, 11, 11, 8, 9, 9, 12, 13, 10, 10, 14)


def event_cells(row: EventRow, words: Words) -> list:
    """One event row's cells, in EVENT_KEYS order."""
    f = row.figures
    return [
        row.wall,
        row.library,
        row.title,
        words.name(row.kind),
        words.name(row.network),
        row.url,
        row.posts,
        row.participations,
        row.people,
        f.get("views"),
        f.get("likes"),
        f.get("reactions"),
        f.get("reposts"),
        f.get("comments"),
        row.engagement,
        row.er_view,
        row.er_post,
        words["deleted"] if row.deleted else (words["in_chat"] if row.chat and not row.url else ""),
    ]


def events_table(rows: list[EventRow], words: Words, title: str) -> Table:
    """Every event of the period, one row per network."""
    return Table(
        title,
        [words[k] for k in EVENT_KEYS],
        list(EVENT_KINDS),
        [event_cells(r, words) for r in rows],
        list(EVENT_WIDTHS),
    )


DIARY_KEYS = ("date", "time", "title", "kind", "net", "link", "participants", "views", "library")


def diary_table(rows: list[EventRow], words: Words) -> Table:
    """The work-diary export: date, title, format, network, link, participants, views."""
    table = Table(
        words["diary_title"],
        [words[k] for k in DIARY_KEYS],
        ["date", "time", "text", "text", "text", "link", "int", "int", "text"],
        widths=[11, 7, 44, 12, 11, 40, 9, 11, 24],
    )
    table.rows = [diary_cells(row, words) for row in rows]
    return table


def diary_cells(row: EventRow, words: Words) -> list:
    """One event row's cells in the diary, in DIARY_KEYS order."""
    moment = row.wall
    return [
        moment.date(),
        moment.time(),
        row.title,
        words.name(row.kind),
        words.name(row.network),
        row.url,
        row.participations,
        row.figures.get("views"),
        row.library,
    ]


def roll_up_table(report: Report, words: Words) -> Table:
    """One line per library and the network's total."""
    keys = ("events_held", "posts", "participations", "people", "answers", "views")
    keys += ("engagement", "followers", "growth", "er_post", "er_view", "er_day")
    table = Table(
        words["libraries"],
        [
            words["library"],
            *(words[k] for k in keys),
            words["nk_events"],
            words["nk_participations"],
            words["nk_visits"],
        ],
        ["text", *(["num"] * (len(keys) - 3)), "pct", "pct", "pct", "num", "num", "num"],
        widths=[30, *([13] * (len(keys) + 3))],
    )
    summaries = [(lib.name, lib.summary) for lib in report.libraries]
    summaries.append((words["all"], report.total))
    for name, s in summaries:
        tally, rates, nk = s.tally(), s.rates(), s.six_nk
        table.rows.append(
            [
                name,
                s.events_total,
                tally.posts,
                sum(s.participations.values()),
                sum(s.people.values()),
                s.answers,
                tally.value("views"),
                tally.value("engagement"),
                s.total_followers(),
                s.total_growth(),
                rates.er_post,
                rates.er_view,
                rates.er_day,
                nk.events if nk else None,
                nk.participations if nk else None,
                nk.visits if nk else None,
            ]
        )
    return table


def winners_table(
    libraries: list[LibraryReport], words: Words, with_names: bool, only: set[str] | None = None
) -> Table:
    """Quiz winners: pseudonyms, and names only when asked for."""
    headers = ["datetime", "title", "net", "place", "player", "points", "correct", "time_s"]
    kinds = ["datetime", "text", "text", "int", "text", "num", "int", "num"]
    if with_names:
        headers.insert(5, "name")
        kinds.insert(5, "text")
    table = Table(words["winners"], [words[h] for h in headers], kinds)
    table.widths = [17, 40, 11, 7, 20, 24, 8, 8, 9][: len(headers)]
    for lib in libraries:
        for w in _of(lib.winners, only):
            cells = [local(w.at), w.title, words.name(w.network), w.place, w.person]
            if with_names:
                cells.append(w.name or "")
            seconds = None if w.time_ms is None else w.time_ms / 1000
            table.rows.append([*cells, w.points, w.correct, seconds])
    return table


def questions_table(
    libraries: list[LibraryReport], words: Words, only: set[str] | None = None
) -> Table:
    """Per question: players, answers and the share answered right."""
    table = Table(
        words["questions"],
        [
            words[k]
            for k in (
                "datetime",
                "title",
                "net",
                "number",
                "question",
                "players",
                "answers_short",
                "correct_share",
                "source",
            )
        ],
        ["datetime", "text", "text", "int", "text", "int", "int", "pct", "text"],
        widths=[17, 30, 11, 5, 50, 9, 9, 10, 22],
    )
    for lib in libraries:
        for q in _of(lib.questions, only):
            source = words["source_poll"] if q.source == "poll" else words["source_answers"]
            table.rows.append(
                [
                    local(q.at),
                    q.title,
                    words.name(q.network),
                    q.number,
                    q.text,
                    q.players,
                    q.answers,
                    q.correct_share,
                    source,
                ]
            )
    return table


def polls_table(
    libraries: list[LibraryReport], words: Words, only: set[str] | None = None
) -> Table:
    """Votes per option of each poll."""
    table = Table(
        words["polls"],
        [words[k] for k in ("datetime", "title", "net", "number", "option", "votes")],
        ["datetime", "text", "text", "int", "text", "int"],
        widths=[17, 40, 11, 5, 40, 9],
    )
    for lib in libraries:
        for p in _of(lib.polls, only):
            table.rows.append(
                [local(p.at), p.title, words.name(p.network), p.number, p.text, p.votes]
            )
    return table


def contests_table(
    libraries: list[LibraryReport], words: Words, with_names: bool, only: set[str] | None = None
) -> Table:
    """Per contest and network: entries, approved, votes, entrants and the places."""
    keys = ("date", "title", "net", "entries", "approved", "votes", "entrants", "places")
    table = Table(
        words["contests"],
        [words[k] for k in keys],
        ["date", "text", "text", "int", "int", "int", "int", "text"],
        widths=[11, 36, 11, 8, 9, 8, 8, 44],
    )
    for lib in libraries:
        for c in _of(lib.contests, only):
            places = "; ".join(
                f"{w.place} — {words['entry_no']}{w.number} "
                + (w.name if with_names and w.name else w.person)
                for w in c.winners
            )
            table.rows.append(
                [
                    local(c.at).date(),
                    c.title,
                    words.name(c.network),
                    c.entries,
                    c.approved,
                    c.votes,
                    c.entrants,
                    places,
                ]
            )
    return table


def giveaways_table(
    libraries: list[LibraryReport], words: Words, only: set[str] | None = None
) -> Table:
    """Per giveaway and network: the draw's date, participants, winners, commitment, proof."""
    keys = ("draw_date", "title", "net", "eligible", "winners_count", "reserves")
    table = Table(
        words["giveaways"],
        [words[k] for k in (*keys, "commitment", "proof")],
        ["date", "text", "text", "int", "int", "int", "text", "text"],
        widths=[11, 36, 11, 12, 10, 9, 20, 40],
    )
    for lib in libraries:
        for g in _of(lib.giveaways, only):
            drawn = g.drawn_at is not None
            table.rows.append(
                [
                    local(g.drawn_at).date() if drawn else None,
                    g.title,
                    words.name(g.network),
                    g.participants,
                    g.winners if drawn else None,
                    g.reserves if drawn else None,
                    ", ".join(c[:16] for c in g.commitments),
                    ", ".join(g.proofs) if g.proofs else ("" if drawn else words["not_drawn"]),
                ]
            )
    return table


def _of(items: list, only: set[str] | None) -> list:
    """Quiz and poll details, of only these events if given."""
    return items if only is None else [item for item in items if item.event_id in only]
