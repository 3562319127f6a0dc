"""CSV and Markdown renderings of a report.

CSV: UTF-8 with a BOM, ``;`` between fields and a header row — what Excel in a Russian
locale opens correctly by double click. It holds the per-event table (one row per event
and network: the diary's columns and the engagement figures); with ``language = "ru"``
decimals have a comma, as Excel and LibreOffice with Russian settings read numbers (with
a dot they take ``0.17`` for text), in English a dot.
Markdown: the whole report as readable text.

Numbers read the same in every format: counts whole, rates in per cent with one
decimal, other fractions (points, seconds) with one or two.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo

from reports.model import EventRow, Report
from reports.tables import (
    Percent,
    Table,
    contests_table,
    diary_table,
    events_table,
    giveaways_table,
    polls_table,
    questions_table,
    roll_up_table,
    six_nk_table,
    summary_table,
    winners_table,
)
from reports.words import Words


def show(value: object, kind: str, words: Words) -> str:
    """A cell as text: n/a for None, numbers without noise, local dates."""
    if value is None:
        return words["na"]
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return words.when(value)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if words.language == "ru" else value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        if kind == "pct" or isinstance(value, Percent):
            return f"{value:.1f}"
        if value.is_integer():
            return str(int(value))
        shown = f"{value:.2f}"  # one or two decimals: 1.5, 1.37
        return shown[:-1] if shown.endswith("0") else shown
    return str(value)


def to_csv(report: Report) -> str:
    """The per-event table as CSV (BOM, ';', header row; a decimal comma in Russian)."""
    words = Words(report.language)
    table = events_table(report.rows, words, "")
    comma = words.language == "ru"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        cells = []
        for value, kind in zip(row, table.kinds, strict=True):
            cell = show(value, kind, words)
            if comma and isinstance(value, float):
                cell = cell.replace(".", ",")
            cells.append(cell)
        writer.writerow(cells)
    return "\ufeff" + buffer.getvalue()


class Heading(NamedTuple):
    """The report's title and its lines of context."""

    title: str
    lines: list[str]


class Section(NamedTuple):
    """Tables under a section title (the network, a library, the quizzes and polls)."""

    title: str
    tables: list[Table]


def heading(report: Report, words: Words) -> Heading:
    """The report's title and its lines of context (period, libraries, time made).

    The time it was made is the first library's local time (a network's libraries are
    in id order), with its zone named.
    """
    names = ", ".join(lib.name for lib in report.libraries)
    zones = ", ".join(sorted({lib.timezone for lib in report.libraries}))
    title = f"{words['report']}: {report.period.label}"
    zone: tzinfo = ZoneInfo(report.libraries[0].timezone) if report.libraries else UTC
    made = report.generated_at.astimezone(zone)
    lines = [
        f"{words['period']}: {show(report.period.first, 'date', words)} — "
        f"{show(report.period.last, 'date', words)} ({zones})",
        f"{words['libraries']}: {names}",
        f"{words['generated']}: {words.when(made)} ({zone_name(made)})",
    ]
    return Heading(title, lines)


def zone_name(moment: datetime) -> str:
    """A moment's time zone as a reader knows it: "Europe/Moscow, UTC+3"."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"
    key = getattr(moment.tzinfo, "key", None)
    return f"{key}, {utc}" if key and key != "UTC" else utc


# A browser struggles with tens of MB of table: per library the HTML lists the events with
# the most response; the XLSX and CSV list every one, and the HTML says so where it cuts.
ROWS_PER_LIBRARY = 500


def shown_rows(rows: list[EventRow], limit: int = ROWS_PER_LIBRARY) -> list[EventRow]:
    """A library's rows for the HTML: all, or the ``limit`` with most response, in order."""
    if len(rows) <= limit:
        return rows
    ranked = sorted(
        range(len(rows)),
        key=lambda i: -(rows[i].participations + (rows[i].engagement or 0.0)),
    )
    return [rows[i] for i in sorted(ranked[:limit])]


def cut_note(words: Words, shown: int, total: int) -> str:
    """What a cut table leaves out, and where the rest is."""
    if words.language == "ru":
        return (
            f"Показаны {shown} из {total} строк: у каждой библиотеки не более "
            f"{ROWS_PER_LIBRARY} мероприятий с наибольшим откликом (участия + вовлечённость). "
            "Полный список — в XLSX и CSV этого отчёта."
        )
    return (
        f"{shown} of {total} rows shown: up to {ROWS_PER_LIBRARY} events per library with "
        "the most response (participations + engagement). The full list is in the XLSX "
        "and CSV of this report."
    )


def details_note(words: Words) -> str:
    """Under cut quiz and poll tables: which events they cover."""
    if words.language == "ru":
        return "Только мероприятия, показанные выше; полный список — в XLSX этого отчёта."
    return "Only the events shown above; the full list is in the XLSX of this report."


def sections(report: Report, shown: dict[str, list[EventRow]] | None = None) -> list[Section]:
    """The report's tables in reading order, grouped under section titles.

    ``shown``: the rows each library's events table lists (default: all of them).
    """
    words = Words(report.language)
    parts: list[Section] = []
    if report.network is not None:
        parts.append(
            Section(
                words["network"],
                [
                    roll_up_table(report, words),
                    summary_table(report.network, words, words["summary"]),
                    six_nk_table(report.network, report, words),
                ],
            )
        )
    for lib in report.libraries:
        parts.append(
            Section(
                lib.name,
                [
                    summary_table(lib.summary, words, words["summary"]),
                    six_nk_table(lib.summary, report, words),
                    _events(lib.rows, (shown or {}).get(lib.library_id, lib.rows), words),
                ],
            )
        )
    only = None
    if shown is not None and any(
        len(shown[lib.library_id]) < len(lib.rows) for lib in report.libraries
    ):
        only = {row.event_id for rows in shown.values() for row in rows}  # as the events above
    extra = [
        winners_table(report.libraries, words, report.with_names, only),
        questions_table(report.libraries, words, only),
        polls_table(report.libraries, words, only),
        contests_table(report.libraries, words, report.with_names, only),
        giveaways_table(report.libraries, words, only),
    ]
    if only is not None:
        for table in extra:
            table.note = details_note(words)
    title = [words["quizzes"], words["polls"]]
    title += [t.title for t in extra[3:] if t.rows]  # contests, giveaways: when held
    parts.append(Section(" / ".join(title), [t for t in extra if t.rows]))
    return parts


def _events(rows: list[EventRow], shown: list[EventRow], words: Words) -> Table:
    """A library's events table, saying so when it lists only some of them."""
    table = events_table(shown, words, words["events"])
    if len(shown) < len(rows):
        table.note = cut_note(words, len(shown), len(rows))
    return table


def to_markdown(report: Report) -> str:
    """The whole report as Markdown."""
    words = Words(report.language)
    title, context = heading(report, words)
    out = [f"# {title}", "", *(f"{line}  " for line in context), ""]
    for section, tables in sections(report):
        out += [f"## {section}", ""]
        for table in tables:
            out += [f"### {table.title}", ""]
            out += _md_table(table, words)
    diary = diary_table(report.rows, words)
    out += [f"## {diary.title}", "", *_md_table(diary, words)]
    out += [words["na_note"], ""]
    return "\n".join(out)


def _md_table(table: Table, words: Words) -> list[str]:
    if not table.rows:
        return [f"_{words['none']}_", ""]
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    for row in table.rows:
        cells = [_md_cell(show(v, k, words), k) for v, k in zip(row, table.kinds, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


# Readers' names and texts are shown as text: a Markdown viewer renders HTML and markup
# in them (``<script>``, ``*bold*``, ``[x](javascript:…)``). Entities for HTML (every
# Markdown renderer passes them on), backslashes for Markdown; an underscore inside a
# word (``views_are_visits``) is no markup and stays; links stay clickable.
_MD_TEXT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*[]|~"}}
)
_MD_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")


def _md_cell(text: str, kind: str) -> str:
    """A cell's text as Markdown shows it: as written, never as markup."""
    if kind == "link":
        return text.replace("|", "\\|")
    return _MD_UNDERSCORE.sub(r"\\_", text.translate(_MD_TEXT))
