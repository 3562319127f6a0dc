"""The report as an Excel workbook: one sheet per library, the network's sheet, the diary,
quizzes, polls, and native (editable) charts.

openpyxl lays out the workbook, its styles, column widths and charts; the cells of the
table sheets are written by ``reports.xlsx_rows`` (fast), streamed into the saved file.
"""

from __future__ import annotations

import re
from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.model import Report
from reports.series import by_kind, followers_series, top, weekly
from reports.tables import (
    Table,
    diary_cells,
    diary_table,
    event_cells,
    events_table,
    polls_table,
    questions_table,
    roll_up_table,
    six_nk_table,
    summary_table,
    winners_table,
)
from reports.text import heading
from reports.words import Words
from reports.xlsx_rows import STYLE_KINDS, Rows, fill, probe_styles

Block = str | Table  # a line of text, or a table


def to_xlsx(report: Report) -> bytes:
    """The report as XLSX bytes."""
    words = Words(report.language)
    book = Workbook()
    book.remove(book.active)
    plans: dict[int, list[Block]] = {}
    title, context = heading(report, words)
    names: set[str] = set()
    if report.network is not None:
        blocks: list[Block] = [title, *context, roll_up_table(report, words)]
        blocks += [
            summary_table(report.network, words, words["summary"]),
            six_nk_table(report.network, report, words),
            words["na_note"],
        ]
        plans[_sheet(book, words["network"], blocks, words, names)] = blocks
    for lib in report.libraries:
        blocks = [f"{lib.name}: {title}", *context[:1]]
        # The bulky tables get their cells as generators, made while the sheet is written:
        # only one sheet's cells are ever in memory.
        events = events_table([], words, words["events"])
        events.rows = (event_cells(row, words) for row in lib.rows)
        blocks += [
            summary_table(lib.summary, words, words["summary"]),
            six_nk_table(lib.summary, report, words),
            events,
            words["na_note"],
        ]
        plans[_sheet(book, lib.name, blocks, words, names)] = blocks
    diary = diary_table([], words)
    diary.rows = (diary_cells(row, words) for lib in report.libraries for row in lib.rows)
    plans[_sheet(book, words["diary"], [diary], words, names)] = [diary]
    quizzes = [
        winners_table(report.libraries, words, report.with_names),
        questions_table(report.libraries, words),
    ]
    if any(t.rows for t in quizzes):
        plans[_sheet(book, words["quizzes"], quizzes, words, names)] = quizzes
    poll = polls_table(report.libraries, words)
    if poll.rows:
        plans[_sheet(book, words["polls"], [poll], words, names)] = [poll]
    _charts(book.create_sheet(_unique(words["charts"], names)), report, words)
    buffer = BytesIO()
    book.save(buffer)
    saved = buffer.getvalue()

    def render(index: int, xml: str) -> Rows:
        rows = Rows(probe_styles(xml), words["na"])
        for block in plans[index]:
            if isinstance(block, Table):
                rows.table(block)
                rows.blank()
            else:
                rows.line(block, "text" if rows.count else "title")
        return rows

    return fill(saved, set(plans), render)


def _unique(name: str, taken: set[str]) -> str:
    """A valid sheet name (≤ 31 characters, none of []:*?/\\) not used yet."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _sheet(book: Workbook, name: str, blocks: list[Block], words: Words, names: set) -> int:
    """A table sheet with its column widths and a probe row registering the cell styles."""
    sheet = book.create_sheet(_unique(name, names))
    widths: dict[int, int] = {}
    for block in blocks:
        if isinstance(block, Table):
            for i, width in enumerate(block.widths):
                widths[i] = max(widths.get(i, 0), width)
    for i, width in sorted(widths.items()):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.sheet_view.zoomScale = 90
    for i, kind in enumerate(STYLE_KINDS):
        _style(sheet.cell(row=1, column=i + 1, value="x"), kind, words)
    return len(book.worksheets)


def _style(cell, kind: str, words: Words) -> None:
    """The look of each kind of cell (each distinct, so each gets its own style id)."""
    formats = {
        "int": "0",
        "num": "General",
        "pct": "0.00",
        "datetime": "DD.MM.YYYY HH:MM" if words.language == "ru" else "YYYY-MM-DD HH:MM",
        "date": "DD.MM.YYYY" if words.language == "ru" else "YYYY-MM-DD",
        "time": "HH:MM",
    }
    cell.alignment = Alignment(vertical="top", wrap_text=kind == "header")
    if kind in formats:
        cell.number_format = formats[kind]
        cell.alignment = Alignment(vertical="top", horizontal="right")
    if kind == "title":
        cell.font = Font(bold=True, size=13)
    elif kind == "header":
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
    elif kind == "na":
        cell.font = Font(italic=True, color="808080")
        cell.alignment = Alignment(vertical="top", horizontal="right", indent=1)


def _charts(sheet: Worksheet, report: Report, words: Words) -> None:
    """Chart data (small) and four native charts: weeks, kinds, followers, top events."""
    rows = report.rows
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["E"].width = 16
    sheet.column_dimensions["H"].width = 12
    sheet.column_dimensions["K"].width = 48
    bold = Font(bold=True)
    date_format = "DD.MM.YYYY" if words.language == "ru" else "YYYY-MM-DD"

    def header(column: int, *labels: str) -> None:
        for i, label in enumerate(labels):
            sheet.cell(row=1, column=column + i, value=label).font = bold

    header(1, words["week"], words["events"], words["participants"])
    weeks = weekly(rows)
    for i, (monday, events, acts) in enumerate(weeks, start=2):
        sheet.cell(row=i, column=1, value=monday).number_format = date_format
        sheet.cell(row=i, column=2, value=events)
        sheet.cell(row=i, column=3, value=acts)
    header(5, words["kind"], words["engagement"])
    kinds = by_kind(rows, words)
    for i, (kind, engagement) in enumerate(kinds, start=2):
        sheet.cell(row=i, column=5, value=kind)
        sheet.cell(row=i, column=6, value=engagement)
    header(8, words["date"], words["followers_chart"])
    series = followers_series(report.libraries)
    for i, (day, followers) in enumerate(series, start=2):
        sheet.cell(row=i, column=8, value=day).number_format = date_format
        sheet.cell(row=i, column=9, value=followers)
    header(11, words["title"], words["response"])
    best = top(rows)
    for i, (label, score) in enumerate(best, start=2):
        sheet.cell(row=i, column=11, value=label)
        sheet.cell(row=i, column=12, value=score)
    anchor = 2
    if weeks:
        chart = _bar(words["activity"], sheet, 1, 2, 3, len(weeks))
        chart.y_axis.title = words["events"]
        sheet.add_chart(chart, f"N{anchor}")
        anchor += 18
    if kinds:
        sheet.add_chart(_bar(words["by_kind"], sheet, 5, 6, 6, len(kinds)), f"N{anchor}")
        anchor += 18
    if series:
        line = LineChart()
        line.title, line.height, line.width = words["followers_chart"], 8, 18
        line.add_data(Reference(sheet, min_col=9, min_row=1, max_row=len(series) + 1), True)
        line.set_categories(Reference(sheet, min_col=8, min_row=2, max_row=len(series) + 1))
        line.x_axis.number_format = date_format
        sheet.add_chart(line, f"N{anchor}")
        anchor += 18
    if best:
        chart = _bar(words["top"], sheet, 11, 12, 12, len(best))
        chart.type = "bar"  # horizontal: long titles stay readable
        sheet.add_chart(chart, f"N{anchor}")


def _bar(title: str, sheet: Worksheet, labels: int, first: int, last: int, count: int):
    chart = BarChart()
    chart.title, chart.height, chart.width = title, 8, 18
    data = Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=count + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=labels, min_row=2, max_row=count + 1))
    return chart
