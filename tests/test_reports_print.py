"""The report's files as a methodologist reads them, on screen and on paper.

XLSX: every sheet set up to print on A4 landscape, one page wide, its table's header
repeated and frozen, columns sized so the page is not shrunk to fine print, every number
formatted, charts that show what their titles say and print whole, sheets named by the
libraries' short names. HTML: a print stylesheet for A4 landscape, round axis ticks, a
day's series still readable. The time the report was made, in the library's zone; CSV
decimals as a Russian spreadsheet reads them. Where LibreOffice, Chromium and poppler are
installed, ``reports.check_files`` prints the files and checks the pages.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import openpyxl
import pytest

from core.config import ReportRules
from core.config_file import load_config
from core.storage import open_db
from reports import check_files, svg
from reports.figures import build_report
from reports.html import to_html
from reports.output import from_config, write_all
from reports.period import parse_period
from reports.series import followers_series
from reports.text import to_csv, to_markdown
from reports.words import break_points, hyphenate
from reports.xlsx import to_xlsx
from tests.test_reports_quarter import quarter  # noqa: F401  (the shared fixture)

ROOM_PIXELS = 1046  # an A4 landscape page inside margins of 0.4 in, at 96 px an inch


def _report(path: Path, period: str = "2026-Q4", language: str = "ru"):
    config = load_config(path.parent / "config.toml")
    return from_config(open_db(path), replace(config, language=language), parse_period(period))


def _book(report) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(to_xlsx(report)))


def _values(book: openpyxl.Workbook, ref: str) -> list:
    """The values of the cells a chart refers to ("'Графики'!$B$2:$B$9")."""
    sheet, cells = ref.rsplit("!", 1)
    found = book[sheet.strip("'")][cells.replace("$", "")]
    rows = found if isinstance(found, tuple) else ((found,),)
    return [cell.value for row in rows for cell in (row if isinstance(row, tuple) else (row,))]


def _title(chart) -> str:
    return "".join(run.t for p in chart.title.tx.rich.p for run in (p.r or []))


def test_every_sheet_prints_on_a4_landscape_one_page_wide_with_its_header_repeated(
    quarter: Path,  # noqa: F811
) -> None:
    book = _book(_report(quarter, "2026-11"))
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), sheet.title
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
        if sheet.title == "Графики":
            continue  # see the charts' test: it fits at full size, two charts a page
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title  # any height
        # The header row of the sheet's table: repeated on each page, frozen on screen.
        header = int(re.fullmatch(r"\$(\d+):\$\1", sheet.print_title_rows).group(1))
        first = sheet.cell(row=header, column=1)
        assert first.font.bold and first.fill.fgColor.rgb.endswith("E8EEF4"), sheet.title
        assert sheet.freeze_panes in (f"A{header + 1}", f"B{header + 1}"), sheet.title
        # Columns sized for the page: fitting it to the width keeps the type at 60 % or
        # more (before: the events of a library printed at about a third, or cut).
        widths = [d.width for d in sheet.column_dimensions.values() if d.width]
        assert widths and ROOM_PIXELS / sum(7 * w + 5 for w in widths) >= 0.6, sheet.title
    events = book["Мероприятия"]
    count = len(_report(quarter, "2026-11").rows)
    assert events.auto_filter.ref == f"A3:R{3 + count}"  # a filter on every column
    assert events.row_dimensions[3].height > 15  # the hyphenated header has room for its lines


def test_charts_print_whole_their_data_below(quarter: Path) -> None:  # noqa: F811
    book = _book(_report(quarter))
    sheet = book["Графики"]
    assert not (sheet.sheet_properties.pageSetUpPr and sheet.sheet_properties.pageSetUpPr.fitToPage)
    breaks = [0, *sorted(b.id for b in sheet.row_breaks.brk)]
    assert all(b - a <= 33 for a, b in pairwise(breaks)), breaks  # 33 rows of 15 pt a page
    charts = sorted(sheet._charts, key=lambda chart: chart.anchor._from.row)
    assert len(charts) == 4 and len(breaks) >= 3  # pages of charts, then the data
    for chart in charts:
        width, height = (
            size / 360_000 for size in (chart.anchor.ext.width, chart.anchor.ext.height)
        )
        first = chart.anchor._from.row + 1
        last = first + math.ceil(height / 2.54 * 72 / 15) - 1  # rows of 15 pt
        assert chart.anchor._from.col == 0 and width <= 27  # cm: inside the page
        assert not [b for b in breaks if first <= b < last], _title(chart)  # never cut
        assert last <= breaks[-1]  # above the data
    assert all(sheet.row_dimensions[n].height == 15 for n in range(1, breaks[-1] + 1))
    # The top events: a centimetre a bar, so that LibreOffice prints every title.
    bars = len(_values(book, charts[-1].series[0].val.numRef.f))
    assert bars == 10 and charts[-1].anchor.ext.height / 360_000 >= bars * 1.0


def test_every_chart_shows_what_its_title_says(quarter: Path) -> None:  # noqa: F811
    report = _report(quarter)
    book = _book(report)
    charts = {_title(chart): chart for chart in book["Графики"]._charts}
    expected = {
        "Активность по неделям": ["Мероприятия", "Участий"],
        "Вовлечённость по форматам": ["Вовлечённость"],
        "Подписчики": ["Подписчики"],
        "Лучшие мероприятия (участия + вовлечённость)": ["Отклик"],
    }
    assert set(charts) == set(expected)
    for title, names in expected.items():
        chart = charts[title]
        assert [_values(book, s.tx.strRef.f)[0] for s in chart.series] == names, title
        categories = _values(book, (chart.series[0].cat.numRef or chart.series[0].cat.strRef).f)
        for series in chart.series:
            values = _values(book, series.val.numRef.f)
            assert len(values) == len(categories) >= 1, title
            assert all(isinstance(v, int | float) for v in values), title
    # Followers: one line over the days (not a series per cell, its legend a number).
    followers = charts["Подписчики"]
    days = _values(book, followers.series[0].cat.numRef.f)
    assert all(isinstance(day, datetime | date) for day in days)
    counts = _values(book, followers.series[0].val.numRef.f)
    total = sum(lib.summary.total_followers() or 0 for lib in report.libraries)
    assert counts[-1] == total  # the last day: every library's followers
    assert followers.series[0].marker.symbol == "circle"  # a single day is a dot


def test_every_number_has_a_format(quarter: Path) -> None:  # noqa: F811
    book = _book(_report(quarter, "2026-11"))
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    assert cell.number_format != "General", (sheet.title, cell.coordinate)
                    seen.add(cell.number_format)
    assert (
        {"#,##0", "#,##0.0"}
        <= seen
        <= {"#,##0", "#,##0.0", "#,##0.0#", "HH:MM"}
        | {
            "DD.MM.YYYY",
            "DD.MM.YYYY HH:MM",
        }
    )
    roll_up = book["Библиотеки"]
    header = [c.value.replace("-\n", "") for c in roll_up[3]]
    er_post = roll_up.cell(row=4, column=header.index("ERpost, %") + 1)
    assert isinstance(er_post.value, float) and er_post.number_format == "#,##0.0"  # 0.6 %
    summary = book["central"]
    er_row = next(r for r in summary.iter_rows() if r[0].value == "ERview, %")
    assert [c.number_format for c in er_row[1:4] if isinstance(c.value, float)] == ["#,##0.0"] * 2
    views = next(r for r in summary.iter_rows() if r[0].value == "Просмотры")
    assert views[1].number_format == "#,##0"  # 1 234 in Russian settings


def test_sheets_are_named_by_short_names_valid_and_unique(
    quarter: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from tests.conftest import write_config

    path = write_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert load_config(path).libraries[0].short_name == "central"  # by default: the id
    path.write_text(text.replace('id = "central"\n', 'id = "central"\nshort_name = "ЦБ"\n'))
    assert load_config(path).libraries[0].short_name == "ЦБ"
    report = _report(quarter, "2026-11")
    long = "Детская библиотека: филиал №2 / абонемент [младший]"
    report.libraries[0].short_name = long
    report.libraries[1].short_name = long
    names = _book(report).sheetnames
    assert names[2:5] == ["Детская библиотека  филиал №2", "Детская библиотека  филиал (2)", "west"]
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert len({n.lower() for n in names}) == len(names)


def test_networks_are_named_in_the_reports_language(quarter: Path) -> None:  # noqa: F811
    lowercase = re.compile(r"(?<![\w./-])(vk|telegram)(?![\w.])")  # not inside a link
    for language in ("ru", "en"):
        report = _report(quarter, language=language)
        book = _book(report)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    assert not (isinstance(value, str) and lowercase.search(value)), value
        for text in (to_csv(report), to_markdown(report), _html_text(to_html(report))):
            assert not lowercase.search(text), lowercase.search(text)
    category = book["Charts"]._charts[3].series[0].cat
    labels = _values(book, (category.numRef or category.strRef).f)
    assert any(label.endswith(", VK)") for label in labels), labels


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def test_the_html_prints_on_a4_landscape_with_its_headers_repeated(quarter: Path) -> None:  # noqa: F811
    page = to_html(_report(quarter))
    style = page[page.index("<style>") : page.index("</style>")]
    assert "@page{size:A4 landscape" in style
    assert "thead{display:table-header-group}" in style and "@media print" in style
    assert page.count("<table>") == page.count("<thead>") > 5
    assert "Вовле\u00adчён\u00adность" in page  # a long header may break, with a hyphen


def test_axis_ticks_are_round_and_a_day_is_readable(quarter: Path) -> None:  # noqa: F811
    report = _report(quarter)
    page = to_html(report)
    charts = re.findall(r"<svg.*?</svg>", page)
    assert len(charts) == 4
    for chart in charts[:3]:
        ticks = [
            float(t.replace("\u2009", ""))
            for t in re.findall(r'text-anchor="end">([\d\u2009.]+)</text>', chart)
        ]
        assert len(ticks) >= 2 and all(t == int(t) for t in ticks), ticks
        steps = {ticks[i + 1] - ticks[i] for i in range(len(ticks) - 1)}
        assert len(steps) == 1 and re.fullmatch(r"[125]0*", str(int(steps.pop())))
    # Followers of the quarter: one day of samples, a dot in the middle with its value.
    line = charts[2]
    [(x, _)] = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', line)
    assert abs(float(x) - (svg.LEFT + (svg.WIDTH - svg.LEFT - svg.RIGHT) / 2)) < 1
    [(_, followers)] = followers_series(report.libraries)
    assert f'text-anchor="middle">{followers:,.0f}</text>'.replace(",", "\u2009") in line
    assert svg.ticks(0, 22.5) == [0, 5, 10, 15, 20, 25]  # not 7.5, 22.5
    assert svg.ticks(0, 67) == [0, 20, 40, 60, 80]
    assert svg.ticks(0, 3) == [0, 1, 2, 3]


def test_the_report_says_when_it_was_made_in_the_librarys_time(quarter: Path) -> None:  # noqa: F811
    now = datetime(2026, 12, 31, 9, 5, tzinfo=UTC)
    made = build_report(
        open_db(quarter), parse_period("2026-11"), ReportRules(), now=now, library_ids=["east"]
    )
    assert "Сформирован: 31.12.2026 19:05 (Asia/Vladivostok, UTC+10)" in to_markdown(made)
    both = build_report(open_db(quarter), parse_period("2026-11"), ReportRules(), now=now)
    # A network: its first library's (central, Moscow).
    assert "Сформирован: 31.12.2026 12:05 (Europe/Moscow, UTC+3)" in to_html(both)


def test_csv_decimals_have_a_comma_in_russian_and_a_dot_in_english(quarter: Path) -> None:  # noqa: F811
    for language, point in (("ru", ","), ("en", ".")):
        data = to_csv(_report(quarter, "2026-11", language))
        rows = list(csv.reader(io.StringIO(data.removeprefix("\ufeff")), delimiter=";"))
        rates = [row[15] for row in rows[1:] if row[15] not in ("н/д", "n/a")]
        assert rates and all(re.fullmatch(rf"\d+\{point}\d", rate) for rate in rates), rates


def test_headers_hyphenate_where_russian_rules_allow() -> None:
    assert hyphenate("Вовлечённость", 9) == "Вовлечён-\nность"
    assert hyphenate("Комментарии", 7) == "Коммен-\nтарии"
    assert hyphenate("Онлайн-мероприятий", 9) == "Онлайн-\nмероприя-\nтий"
    assert hyphenate("Лайки", 3) == "Лайки"  # too short to break
    assert [i for i in break_points("подписчиков")] == [3, 6, 8]  # под-пис-чи-ков


def _tools() -> bool:
    office, browser = check_files.find(check_files.OFFICE), check_files.find(check_files.BROWSERS)
    return bool(office and browser and check_files.find(("pdftotext",)))


def test_the_printed_report_passes_the_checks_of_a_reader(
    quarter: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    report = _report(quarter)
    files = [tmp_path / "q4.xlsx", tmp_path / "q4.html"]
    write_all(report, [("xlsx", files[0]), ("html", files[1])])
    code = check_files.main([str(path) for path in files])
    out = capsys.readouterr().out
    if _tools():  # LibreOffice and Chromium print it; poppler reads the pages
        assert code == 0 and out.count(": OK") == 2, out
    else:  # (not on CI) it says what it could not do, and does not fail
        assert code == 0 and out.count("skipped") == 2, out


def test_the_checks_see_a_sheet_wider_than_a_page_and_a_cut_table(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    wide = openpyxl.Workbook()
    for column in range(1, 25):  # no print setup: portrait, split across pages
        wide.active.cell(row=1, column=column, value=f"Столбец {column}")
        wide.active.column_dimensions[openpyxl.utils.get_column_letter(column)].width = 20
    wide.save(tmp_path / "wide.xlsx")
    cells = "".join(f"<th>Заголовок{n}</th>" for n in range(1, 25))
    (tmp_path / "wide.html").write_text(
        f"<!DOCTYPE html><html><head><style>th{{white-space:nowrap}}</style></head><body>"
        f"<table><thead><tr>{cells}</tr></thead></table></body></html>",
        encoding="utf-8",
    )
    code = check_files.main([str(tmp_path / "wide.xlsx"), str(tmp_path / "wide.html")])
    out = capsys.readouterr().out
    if _tools():
        assert code == 1, out
        assert "wider than a page" in out and "not A4 landscape" in out
        assert "«Заголовок24» is not on the printed pages" in out
    else:
        assert code == 0 and out.count("skipped") == 2, out


def test_a_long_title_keeps_its_day_and_network_in_the_html_chart() -> None:
    from reports.svg import _short

    vk = _short("Встреча книжного клуба «Читаем вместе» (04.12, ВКонтакте)")
    telegram = _short("Встреча книжного клуба «Читаем вместе» (04.12, Telegram)")
    assert vk.endswith("(04.12, ВКонтакте)") and len(vk) <= 38
    assert telegram.endswith("(04.12, Telegram)") and vk != telegram
