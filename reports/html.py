"""The report as one self-contained HTML file: inline CSS and inline SVG charts.

No script, no font, no image from elsewhere: the file opens offline, prints, and can
be mailed as it is. Figures a network does not show read "н/д" / "n/a".

Printed (from any browser), it is laid out for A4 landscape: smaller type, every table
as wide as the page at most (long words in headers hyphenate, links break anywhere),
each table's header repeated on every page it runs onto, each section on a new page,
no chart cut, the page number at the foot.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from reports import svg
from reports.model import Report
from reports.series import by_kind, followers_series, top, weekly
from reports.tables import (
    Table,
    diary_table,
)
from reports.text import cut_note, heading, sections, show, shown_rows
from reports.words import Words, break_points

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:24px;
color:#1d2733}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:2px solid #3b6ea5}
h3{font-size:15px;margin-top:20px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #cdd6e0;padding:3px 6px;vertical-align:top}
th{background:#e8eef4;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.na{color:#808080;font-style:italic;text-align:right}
.meta{color:#4a5866}.note{color:#4a5866;font-size:12px}
svg.chart{width:100%;max-width:720px;height:auto;display:block;margin:8px 0 20px}
svg text{font:11px system-ui,Arial,sans-serif;fill:#1d2733}svg .t{font-size:13px;font-weight:600}
svg .g{stroke:#e3e8ee}
td a{overflow-wrap:anywhere}
@page{size:A4 landscape;margin:10mm 10mm 14mm;
@bottom-center{content:counter(page) " / " counter(pages);font:8pt system-ui,Arial,sans-serif}}
@media print{
body{font-size:9pt;margin:0}h1{font-size:15pt;margin:0 0 4pt}
h2{font-size:12pt;margin:0 0 6pt;break-before:page;break-after:avoid}
h3{font-size:10pt;margin:10pt 0 3pt;break-after:avoid}.meta{margin:2pt 0}
.note{font-size:8pt}
table{font-size:7.5pt;line-height:1.25;max-width:100%;margin:3pt 0 8pt}
th,td{padding:1.5pt 3pt;overflow-wrap:break-word}
thead{display:table-header-group}tr{break-inside:avoid}
a{color:inherit;text-decoration:none}
.meta+h2{break-before:auto;margin-top:10pt}
svg.chart{width:190mm;max-width:100%;height:auto;break-inside:avoid;margin:0 0 6pt}
}
"""
_SOFT_HYPHEN = "\u00ad"
_NUMERIC = {"int", "num", "pct", "datetime", "date", "time"}


def to_html(report: Report) -> str:
    """The whole report as an HTML document (a string)."""
    return "".join(html_parts(report))


def html_parts(report: Report) -> Iterator[str]:
    """The HTML document as a sequence of strings, a table row group at a time."""
    words = Words(report.language)
    title, context = heading(report, words)
    yield "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{words.language}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            *(f'<p class="meta">{escape(line)}</p>' for line in context),
            f"<h2>{escape(words['charts'])}</h2>",
            *charts(report, words),
            "",
        ]
    )
    shown = {lib.library_id: shown_rows(lib.rows) for lib in report.libraries}
    for section, tables in sections(report, shown):
        yield f"<h2>{escape(section)}</h2>\n"
        for table in tables:
            yield from _table(table, words)
    rows = [row for lib in report.libraries for row in shown[lib.library_id]]
    yield f"<h2>{escape(words['diary'])}</h2>\n"
    if len(rows) < len(report.rows):
        yield f'<p class="note">{escape(cut_note(words, len(rows), len(report.rows)))}</p>'
    yield from _table(diary_table(rows, words), words)
    yield f'<p class="note">{escape(words["na_note"])}</p></body></html>\n'


def charts(report: Report, words: Words) -> list[str]:
    """The four charts as inline SVG (one without data says so)."""
    rows = report.rows
    weeks = weekly(rows)
    date_format = "%d.%m" if words.language == "ru" else "%m-%d"
    kinds = by_kind(rows, words)
    series = followers_series(report.libraries)
    best = top(rows, words)
    none = words["none"]
    return [
        svg.bars(
            words["activity"],
            [week.monday.strftime(date_format) for week in weeks],
            [
                svg.Series(words["events"], [float(week.events) for week in weeks]),
                svg.Series(words["participants"], [float(week.participations) for week in weeks]),
            ],
        )
        if weeks
        else svg.empty(words["activity"], none),
        svg.bars(
            words["by_kind"],
            [bar.label for bar in kinds],
            [svg.Series(words["engagement"], [bar.value for bar in kinds])],
        )
        if kinds
        else svg.empty(words["by_kind"], none),
        svg.line(
            words["followers_chart"],
            [point.day.strftime(date_format) for point in series],
            [point.followers for point in series],
        )
        if series
        else svg.empty(words["followers_chart"], none),
        svg.hbars(words["top"], [bar.label for bar in best], [bar.value for bar in best])
        if best
        else svg.empty(words["top"], none),
    ]


def _table(table: Table, words: Words) -> Iterator[str]:
    """A table as HTML, a few hundred rows per piece; numbers right-aligned, n/a marked."""
    yield f"<h3>{escape(table.title)}</h3>"
    if table.note:
        yield f'<p class="note">{escape(table.note)}</p>'
    if not table.rows:
        yield f'<p class="note">{escape(words["none"])}</p>\n'
        return
    head = "".join(f"<th>{_hyphenated(escape(h))}</th>" for h in table.headers)
    yield f"<table><thead><tr>{head}</tr></thead><tbody>\n"
    na = f'<td class="na">{escape(words["na"])}</td>'
    kinds = table.kinds
    thousands = "\u202f" if words.language == "ru" else ","  # 12 345 / 12,345
    chunk: list[str] = []
    seen: dict[str, str] = {}  # titles, names and kinds repeat down a table: escape once
    for row in table.rows:
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            of = type(value)  # dispatch on the exact type: this loop runs per cell
            if of is str:
                if kind == "link" and value.startswith(("https://", "http://")):
                    link = escape(value)
                    cells.append(f'<td><a href="{link}">{link}</a></td>')
                else:
                    safe = seen.get(value)
                    if safe is None:
                        safe = escape(value, quote=False)
                        if value.startswith(" "):  # an indented line (a kind under its total)
                            safe = "\u2003" + safe.lstrip()
                        seen[value] = safe
                    cells.append(f"<td>{safe}</td>")
            elif of is int:
                cells.append(f'<td class="n">{value:,}</td>'.replace(",", thousands))
            elif value is None:
                cells.append(na)
            elif of is float:  # digits, a sign and a point: nothing to escape
                if value.is_integer() and kind != "pct":
                    shown = f"{value:,.0f}".replace(",", thousands)
                else:
                    shown = show(value, kind, words)
                cells.append(f'<td class="n">{shown}</td>')
            elif kind in _NUMERIC:
                cells.append(f'<td class="n">{escape(show(value, kind, words))}</td>')
            else:
                cells.append(f"<td>{escape(show(value, kind, words))}</td>")
        chunk.append("<tr>" + "".join(cells) + "</tr>\n")
        if len(chunk) == 500:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + "</tbody></table>\n"


def _hyphenated(header: str) -> str:
    """A header whose long words may break, with a hyphen, where the rules allow: a
    narrow column on paper stays narrow."""
    out = []
    for word in header.split(" "):
        points = [p for p in break_points(word) if 3 <= p <= len(word) - 3 and len(word) >= 8]
        for point in reversed(points):
            word = word[:point] + _SOFT_HYPHEN + word[point:]
        out.append(word)
    return " ".join(out)
