"""The report as an Excel workbook that prints as it reads: a sheet per summary (the
network's, then each library's, named by its short name), one sheet per long table
(the libraries, every event, the diary, quiz winners and questions, polls, contests,
giveaways), and native
(editable) charts.

Every sheet prints on A4 landscape, one page wide (any number of pages down), its table's
header row repeated on each page and frozen on screen, the report's title and the page
number in the margins; text wraps in columns sized for it; every number has a format.
The charts sheet prints two charts to a page, each whole, their data below them.

openpyxl lays out the workbook, its styles, column widths, print setup and charts; the
cells of the table sheets are written by ``reports.xlsx_rows`` (fast), streamed into the
saved file.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field, replace
from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import Marker
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from reports.model import LibraryReport, Report
from reports.series import by_kind, followers_series, top, weekly
from reports.tables import (
    Table,
    contests_table,
    diary_cells,
    diary_table,
    event_cells,
    events_table,
    giveaways_table,
    polls_table,
    questions_table,
    roll_up_table,
    six_nk_table,
    summary_table,
    winners_table,
)
from reports.text import heading
from reports.words import Words, hyphenate
from reports.xlsx_rows import STYLE_KINDS, Rows, fill, probe_styles

Block = str | Table  # a note (wrapped to the sheet's width), or a table

# Column widths, in characters of the default font (Calibri 11: a character is 7 px
# and a column has 5 px more). An A4 landscape page holds 1,046 px inside its margins.
NUMBER_WIDTH = 9  # "999 999" and a margin; wider where a table's figures need it
TEXT_WIDTH = 28  # wider text wraps, unless the page has room to spare
LINK_WIDTH = 22
FIXED_WIDTHS = {"datetime": 19.0, "date": 12.0, "time": 8.0}  # with the indent
NUMBERS = ("int", "num", "pct")
PAGE_PIXELS = 1046 * 0.97  # (a little to spare: fonts differ)
FONT = "Calibri"
# Charts: 25 cm wide (an A4 landscape page is 27.7 cm inside its margins), 7.5 cm high
# (the top events: 1 cm a bar, so that every title shows), on rows of 15 pt: 33 rows fill
# a page inside its margins (509 pt), a chart starts on a new page when it would not fit.
CHART_WIDTH, CHART_HEIGHT, BAR_HEIGHT = 25.0, 7.5, 1.0
PAGE_ROWS, ROW_POINTS = 33, 15.0


@dataclass
class Plan:
    """A table sheet: title lines, then tables and notes; the first table's header row
    is repeated on every printed page and stays in view when scrolling."""

    name: str
    lines: list[str]
    blocks: list[Block]
    places: dict[int, list[int]] = field(default_factory=dict)  # block → sheet columns
    count: int = 0  # the rows of a sheet's one long table (for its filter); 0: no filter
    names_column: bool = False  # its first column stays in view too (the libraries' names)
    widths: dict[int, float] = field(default_factory=dict)  # sheet column (0-based) → width

    @property
    def tables(self) -> list[tuple[Table, list[int]]]:
        """Each table with the sheet column of each of its columns."""
        return [
            (block, self.places.get(i) or list(range(len(block.headers))))
            for i, block in enumerate(self.blocks)
            if isinstance(block, Table)
        ]

    @property
    def header_row(self) -> int:
        """The row of the first table's header (1-based): after the lines and its title."""
        return len(self.lines) + 2


def to_xlsx(report: Report) -> bytes:
    """The report as XLSX bytes."""
    words = Words(report.language)
    title, context = heading(report, words)
    plans: list[Plan] = []
    if report.network is not None:
        network = summary_table(report.network, words, words["summary"])
        nk = six_nk_table(report.network, report, words)
        plans.append(_summary_plan(words["network"], [title, *context], network, nk, words))
        roll_up = roll_up_table(report, words)
        plans.append(
            Plan(words["libraries"], [title], [roll_up], count=len(roll_up.rows), names_column=True)
        )
    for lib in report.libraries:
        lines = [f"{lib.name}: {title}", context[0], *context[2:]]
        summary = summary_table(lib.summary, words, words["summary"])
        nk = six_nk_table(lib.summary, report, words)
        plans.append(_summary_plan(lib.short_name or lib.library_id, lines, summary, nk, words))
    # The bulky tables get their cells as generators, made while the sheet is written:
    # only one sheet's cells are ever in memory.
    events = events_table([], words, words["events"])
    events.rows = (
        _short(event_cells(row, words), lib) for lib in report.libraries for row in lib.rows
    )
    # The events name each library by its short name, as the sheets do: a narrow column.
    events.widths[1] = max(
        (len(lib.short_name or lib.library_id) + 2 for lib in report.libraries), default=10
    )
    count = len(report.rows)
    plans.append(Plan(words["events"], [title], [events], count=count))
    diary = diary_table([], words)
    diary.rows = (diary_cells(row, words) for lib in report.libraries for row in lib.rows)
    plans.append(Plan(words["diary"], [title], [diary], count=count))
    for table in (
        winners_table(report.libraries, words, report.with_names),
        questions_table(report.libraries, words),
        polls_table(report.libraries, words),
        contests_table(report.libraries, words, report.with_names),
        giveaways_table(report.libraries, words),
    ):
        if table.rows:
            plans.append(Plan(table.title, [title], [table], count=len(table.rows)))
    book = Workbook()
    book.remove(book.active)
    names: set[str] = set()
    for plan in plans:
        _lay_out(plan)
        _sheet(book.create_sheet(_unique(plan.name, names)), plan, words, title)
    charts = book.create_sheet(_unique(words["charts"], names))
    _charts(charts, report, words)
    _print_setup(charts, title, words, fit=False)
    buffer = BytesIO()
    book.save(buffer)

    def render(index: int, xml: str) -> Rows:
        plan = plans[index - 1]
        rows = Rows(probe_styles(xml), words["na"], plan.widths)
        for n, line in enumerate(plan.lines):
            rows.line(line, "line" if n else "title")
        for i, block in enumerate(plan.blocks):
            if isinstance(block, Table):
                rows.table(block, plan.places.get(i))
                rows.blank()
            else:
                for piece in _wrapped(block, plan):
                    rows.line(piece)
        return rows

    return fill(buffer.getvalue(), set(range(1, len(plans) + 1)), render)


def _short(cells: list, lib: LibraryReport) -> list:
    """An event's cells with its library's short name."""
    cells[1] = lib.short_name or lib.library_id
    return cells


def _summary_plan(name: str, lines: list[str], summary: Table, nk: Table, words: Words) -> Plan:
    """A summary and its 6-НК figures: the 6-НК value under «Всего», its formula under
    «Формула», so that the two tables share their columns."""
    last = len(summary.headers) - 1
    return Plan(name, lines, [summary, nk, words["na_note"]], places={1: [0, last - 1, last]})


def _unique(name: str, taken: set[str]) -> str:
    """A valid sheet name (≤ 31 characters, none of []:*?/\\, no edge quote) not used yet."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip().strip("'").strip()[:31].strip() or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)].rstrip() + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _lay_out(plan: Plan) -> None:
    """The sheet's column widths, filling an A4 landscape page where the tables allow.

    Too wide for the page at full size: the headers of figures are hyphenated so that
    their columns can be narrow. Narrower than the page: text columns widen towards
    their longest text, so that it wraps less.
    """
    widths = _widths(plan)
    if sum(widths.values()) > _room(len(widths)):
        plan.blocks = [_fitted(b) if isinstance(b, Table) else b for b in plan.blocks]
        widths = _widths(plan)
    spare = _room(len(widths)) - sum(widths.values())
    wants: dict[int, float] = {}  # a text column → how much wider its text would like it
    for table, place in plan.tables:
        for i, column in enumerate(place):
            if table.kinds[i] in ("text", "link"):
                more = _wanted(table, i) - widths[column]
                wants[column] = max(wants.get(column, 0.0), more)
    wanted = sum(more for more in wants.values() if more > 0)
    if spare > 0 and wanted > 0:
        share = min(1.0, spare / wanted)
        for column, more in wants.items():
            if more > 0:
                widths[column] += more * share
    plan.widths = {column: round(width, 1) for column, width in widths.items()}


def _room(columns: int) -> float:
    """The width of an A4 landscape page at full size, for this many columns."""
    return (PAGE_PIXELS - 5 * columns) / 7


def _widths(plan: Plan) -> dict[int, float]:
    """Each sheet column's width (0-based): the widest any of its tables wants."""
    widths: dict[int, float] = {}
    for table, place in plan.tables:
        for i, column in enumerate(place):
            widths[column] = max(widths.get(column, 0.0), _width(table, i))
    return widths


def _width(table: Table, column: int) -> float:
    """A column's width: its figures, or its text up to TEXT_WIDTH; no header word broken
    (the headers of figures may be hyphenated, see ``_fitted``)."""
    kind = table.kinds[column]
    longest = max((len(line) for line in re.split(r"[ \n]", table.headers[column])), default=0)
    word = longest * 1.1 + 2  # headers are bold
    if kind in NUMBERS:
        return max(word, _figures_width(table, column))
    if kind in FIXED_WIDTHS:
        return max(word, FIXED_WIDTHS[kind])
    wanted = table.widths[column] if column < len(table.widths) else 12
    return max(word, min(wanted, LINK_WIDTH if kind == "link" else TEXT_WIDTH))


def _wanted(table: Table, column: int) -> float:
    """How wide a text column would be with its longest text on one line (at most as
    wide as the table's own hint); the hint, where the rows are not known yet."""
    hint = table.widths[column] if column < len(table.widths) else 12
    if not isinstance(table.rows, list):
        return hint
    longest = max(
        (len(row[column]) for row in table.rows if isinstance(row[column], str)), default=0
    )
    return min(longest * 1.05 + 2, hint)


def _fitted(table: Table) -> Table:
    """The table with the headers of its figures' columns hyphenated to the width of the
    figures (the headers of text columns stay whole: they name what a filter picks)."""
    headers = list(table.headers)
    for i, kind in enumerate(table.kinds):
        if kind in NUMBERS:
            headers[i] = hyphenate(headers[i], max(int(_figures_width(table, i)) - 2, 7))
    return replace(table, headers=headers)


def _figures_width(table: Table, column: int) -> float:
    """The width of a column of figures: the widest figure, where the rows are known."""
    widest = 0
    if isinstance(table.rows, list):
        for row in table.rows:
            value = row[column]
            if isinstance(value, int | float) and not isinstance(value, bool):
                shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
                widest = max(widest, len(shown))
    return max(NUMBER_WIDTH, widest + 3.5)  # a margin and the indent


def _wrapped(note: str, plan: Plan, size: float = 1.0) -> list[str]:
    """A note cut into lines as wide as the sheet's tables (text running on past the
    last column would be cut on paper); ``size``: its font's size to the body's."""
    width = sum(plan.widths.values()) * 1.05 / size
    return textwrap.wrap(note, width=max(50, int(width)))


def _sheet(sheet: Worksheet, plan: Plan, words: Words, title: str) -> None:
    """A table sheet's columns, print setup, frozen header, filter, and a probe row
    registering the cell styles (replaced by the rows when the file is filled)."""
    for i, width in sorted(plan.widths.items()):
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    plan.lines = [
        piece
        for n, line in enumerate(plan.lines)
        for piece in _wrapped(line, plan, 1.3 if n == 0 else 1.0) or [""]  # the title: 13 pt
    ]
    header = plan.header_row
    sheet.print_title_rows = f"{header}:{header}"
    sheet.freeze_panes = f"{'B' if plan.names_column else 'A'}{header + 1}"
    if plan.count:
        last = get_column_letter(max(plan.widths) + 1)
        sheet.auto_filter.ref = f"A{header}:{last}{header + plan.count}"
    _print_setup(sheet, title, words)
    sheet.sheet_view.zoomScale = 90
    for i, kind in enumerate(STYLE_KINDS):
        _style(sheet.cell(row=1, column=i + 1, value="x"), kind, words)


def _print_setup(sheet: Worksheet, title: str, words: Words, fit: bool = True) -> None:
    """A4 landscape, one page wide; the report's title and the page number in the margins."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    if fit:  # (the charts sheet fits at 100 %: with "fit", Excel ignores its page breaks)
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.page_margins = PageMargins(
        left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.3, footer=0.3
    )
    for part, text in (
        (sheet.oddHeader.left, title.replace("&", "&&")),
        (sheet.oddHeader.right, "&A"),  # the sheet's name
        (sheet.oddFooter.center, f"{words['page']} &P {words['of']} &N"),
    ):
        part.text, part.size = text, 9


def _style(cell, kind: str, words: Words) -> None:
    """The look of each kind of cell (each distinct, so each gets its own style id)."""
    formats = {
        "int": "#,##0",  # 1 234 in Russian settings, 1,234 in English
        "num": "#,##0.0#",
        "pct": "#,##0.0",
        "datetime": "DD.MM.YYYY HH:MM" if words.language == "ru" else "YYYY-MM-DD HH:MM",
        "date": "DD.MM.YYYY" if words.language == "ru" else "YYYY-MM-DD",
        "time": "HH:MM",
    }
    cell.alignment = Alignment(vertical="top", wrap_text=kind in ("text", "header"))
    if kind in formats:
        cell.number_format = formats[kind]
        # (a little room on the right: a figure does not touch the text of the next column)
        cell.alignment = Alignment(vertical="top", horizontal="right", indent=1)
    if kind == "title":
        cell.font = Font(name=FONT, bold=True, size=13)
    elif kind == "caption":
        cell.font = Font(name=FONT, bold=True, size=12)
    elif kind == "header":
        cell.font = Font(name=FONT, bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF4")
    elif kind == "na":
        cell.font = Font(name=FONT, italic=True, color="808080")
        cell.alignment = Alignment(vertical="top", horizontal="right", indent=1)


def _charts(sheet: Worksheet, report: Report, words: Words) -> None:
    """Four native charts (weeks, kinds, followers, top events), as many to a printed
    page as fit whole; their data below them, from the page after."""
    rows = report.rows
    date_format = "DD.MM.YYYY" if words.language == "ru" else "YYYY-MM-DD"
    day_format = "DD.MM" if words.language == "ru" else "MM-DD"
    weeks, kinds = weekly(rows), by_kind(rows, words)
    series, best = followers_series(report.libraries), top(rows, words)
    heights = [CHART_HEIGHT for found in (weeks, kinds, series) if found]
    if best:
        heights.append(max(CHART_HEIGHT, 1.5 + BAR_HEIGHT * len(best)))
    anchors, at = _pages(sheet, heights)  # each chart's row; the data's first row
    sheet.column_dimensions["A"].width = 54
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 14
    bold = Font(name=FONT, bold=True)

    def block(labels: list[str], values: list[tuple], formats: list[str]) -> tuple[int, int]:
        """A small table of chart data; (its header row, its last row)."""
        nonlocal at
        first = at
        for column, label in enumerate(labels, start=1):
            sheet.cell(row=at, column=column, value=label).font = bold
        for line in values:
            at += 1
            for column, (value, shape) in enumerate(zip(line, formats, strict=True), start=1):
                cell = sheet.cell(row=at, column=column, value=value)
                if shape == "number":  # a count, or a fraction with one or two decimals
                    whole = float(value).is_integer()
                    shape = "#,##0" if whole else "#,##0.0#"
                else:  # a label: under its header, as the labels of the other blocks
                    cell.alignment = Alignment(horizontal="left")
                cell.number_format = shape
        at += 2
        return first, first + len(values)

    charts = []
    if weeks:
        head, last = block(
            [words["week"], words["events"], words["participants"]],
            weeks,
            [date_format, "number", "number"],
        )
        chart = _bar(words["activity"], sheet, head, last, 3, labels=len(weeks) <= 8)
        chart.x_axis.number_format = day_format
        chart.legend.position = "b"
        charts.append(chart)
    if kinds:
        head, last = block([words["kind"], words["engagement"]], kinds, ["@", "number"])
        charts.append(_bar(words["by_kind"], sheet, head, last, 2, labels=True))
    if series:
        head, last = block(
            [words["date"], words["followers_chart"]], series, [date_format, "number"]
        )
        line = LineChart()
        line.title, line.width, line.height = words["followers_chart"], CHART_WIDTH, CHART_HEIGHT
        line.add_data(
            Reference(sheet, min_col=2, min_row=head, max_row=last), titles_from_data=True
        )
        line.set_categories(Reference(sheet, min_col=1, min_row=head + 1, max_row=last))
        line.series[0].marker = Marker(symbol="circle", size=7)  # one day is one dot
        line.series[0].smooth = False
        if len(series) <= 3:
            line.dataLabels = _values("t")
        line.x_axis.number_format = day_format
        line.y_axis.number_format = "#,##0"
        line.legend = None  # the title names the one line
        _axes(line)
        charts.append(line)
    if best:
        head, last = block([words["title"], words["response"]], best, ["@", "number"])
        chart = _bar(words["top"], sheet, head, last, 2, labels=True)
        chart.height = heights[-1]
        chart.type = "bar"  # horizontal: long titles stay readable
        chart.x_axis.scaling.orientation = "maxMin"  # the best at the top,
        chart.y_axis.crosses = "max"  # and the axis of figures still at the bottom
        charts.append(chart)
    for chart, row in zip(charts, anchors, strict=True):
        sheet.add_chart(chart, f"A{row}")


def _pages(sheet: Worksheet, heights: list[float]) -> tuple[list[int], int]:
    """Rows for charts of these heights (cm), a page break wherever the next would not
    fit whole, and one before the data; (each chart's first row, the data's first row)."""
    anchors, row, used = [], 1, 0
    for height in heights:
        rows = math.ceil(height / 2.54 * 72 / ROW_POINTS)
        if used and used + rows > PAGE_ROWS - 1:
            sheet.row_breaks.append(Break(id=row - 1))
            # A row's room above it: a chart touching the break would leave its edge
            # at the foot of the page before.
            row, used = row + 1, 1
        anchors.append(row)
        row, used = row + rows + 1, used + rows + 1  # and a row between charts
    if anchors:
        sheet.row_breaks.append(Break(id=row - 1))
    for n in range(1, row):
        sheet.row_dimensions[n].height = ROW_POINTS
    return anchors, row


def _bar(
    title: str, sheet: Worksheet, head: int, last: int, columns: int, labels: bool = False
) -> BarChart:
    """Bars of columns 2… of a data block, one series per column, over column 1."""
    chart = BarChart()
    chart.title, chart.width, chart.height = title, CHART_WIDTH, CHART_HEIGHT
    data = Reference(sheet, min_col=2, max_col=columns, min_row=head, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=head + 1, max_row=last))
    chart.y_axis.number_format = "#,##0"
    chart.y_axis.scaling.min = 0
    if columns == 2:
        chart.legend = None  # one series: the title says what it is
    if labels:
        chart.dataLabels = _values()
    _axes(chart)
    return chart


def _values(position: str | None = None) -> DataLabelList:
    """Labels with each point's value alone (LibreOffice adds the series and category
    names to a label unless told not to)."""
    return DataLabelList(
        showVal=True,
        showSerName=False,
        showCatName=False,
        showLegendKey=False,
        showPercent=False,
        dLblPos=position,
    )


def _axes(chart) -> None:
    """Both axes drawn (openpyxl 3.1 marks them deleted unless told otherwise)."""
    chart.x_axis.delete = False
    chart.y_axis.delete = False
