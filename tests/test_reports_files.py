"""The report's files: XLSX read back, HTML parsed, CSV and Markdown, and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from bot.cli import main
from core.config import ReportRules
from core.config_file import load_config
from core.errors import Problems
from core.storage import open_db
from reports.figures import build_report
from reports.html import to_html
from reports.period import PeriodError, parse_period
from reports.text import to_csv, to_markdown
from reports.words import Words
from reports.xlsx import to_xlsx
from tests.test_reports_quarter import quarter  # noqa: F401  (the shared fixture)


def _report(path: Path, language: str = "ru", period: str = "2026-Q4"):
    return build_report(
        open_db(path), parse_period(period), ReportRules(), language=language, now=datetime.now(UTC)
    )


def _header_row(sheet, first: str) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == first:
            return row[0].row
    raise AssertionError(f"no row starting with {first!r} in {sheet.title}")


def test_xlsx_has_typed_cells_russian_headers_widths_and_charts(quarter: Path) -> None:  # noqa: F811
    report = _report(quarter)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)))
    names = book.sheetnames
    assert names[:3] == ["Сеть библиотек", "Библиотеки", "central"]  # a library: its short name
    assert {"Мероприятия", "Дневник", "Победители", "Вопросы", "Опросы", "Графики"} <= set(names)
    assert _header_row(book["central"], "Показатель")  # each library's summary
    sheet = book["Мероприятия"]  # every event of every library, one table
    top = _header_row(sheet, "Дата и время")
    headers = [c.value for c in sheet[top]]
    assert headers[:6] == ["Дата и время", "Библиотека", "Мероприятие", "Формат", "Сеть", "Ссылка"]
    first = [c.value for c in sheet[top + 1]]
    assert isinstance(first[0], datetime)  # a real date, shown with a date format
    assert sheet.cell(row=top + 1, column=1).number_format == "DD.MM.YYYY HH:MM"
    assert all(isinstance(v, int | float) for v in first[6:9])
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=top + 1, max_row=top + 20)]
    telegram = [r for r in rows if r[4] == "Telegram"]
    assert telegram and all(r[9] == "н/д" for r in telegram)  # views: not shown, not 0
    assert sheet.column_dimensions["C"].width >= 25
    diary = book["Дневник"]
    top = _header_row(diary, "Дата")
    row = [c.value for c in diary[top + 1]]
    assert isinstance(row[0], datetime) and row[0].hour == 0  # a date cell
    assert isinstance(row[1], time | datetime)  # a time cell
    assert len(book["Графики"]._charts) == 4
    summary = book["Библиотеки"]
    top = _header_row(summary, "Библиотека")
    assert [c.value for c in summary[top + 4]][0] == "Всего"
    assert isinstance(summary.cell(row=top + 4, column=2).value, int | float)


def test_xlsx_in_english(quarter: Path) -> None:  # noqa: F811
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(_report(quarter, "en"))))
    assert book.sheetnames[0] == "Library network" and "Diary" in book.sheetnames
    assert _header_row(book["west"], "Figure")
    assert _header_row(book["Events"], "Date and time")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_file_with_svg_charts(quarter: Path) -> None:  # noqa: F811
    page = to_html(_report(quarter))
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") == 4
    assert not {"script", "link", "img", "iframe", "object"} & set(parser.tags)
    assert not [name for name, _ in parser.attrs if name == "src"]
    assert "url(" not in page and "@import" not in page
    text = "".join(parser.text)
    assert "ERpost" in text and "н/д" in text and "6-НК" in text
    assert "вовлечённость ÷ просмотры × 100 %" in text  # the formula beside the figure


def test_csv_has_a_bom_a_header_and_one_row_per_event_and_network(quarter: Path) -> None:  # noqa: F811
    report = _report(quarter)
    data = to_csv(report)
    assert data.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(data.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Дата и время", "Библиотека", "Мероприятие"]
    assert len(rows) == len(report.rows) + 1
    assert any(r[4] == "Telegram" and r[9] == "н/д" for r in rows[1:])


def test_markdown_names_every_section(quarter: Path) -> None:  # noqa: F811
    text = to_markdown(_report(quarter, period="2026-11"))
    for part in ("# Отчёт", "## Сеть библиотек", "### Сводка", "Помощник 6-НК", "ERview, %"):
        assert part in text
    assert "views_are_visits = false" in text


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2024-q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods_parse(text: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "november", "2026-11-01", "0000"])
def test_bad_periods_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(PeriodError, match="--period"):
        parse_period(text)


def test_cli_writes_each_format(quarter: Path, tmp_path: Path) -> None:  # noqa: F811
    config = quarter.parent / "config.toml"
    for fmt in ("xlsx", "html", "csv", "md"):
        out = tmp_path / f"report.{fmt}"
        args = ["report", "-c", str(config), "--period", "2026-Q4", "--all", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000 and "→" in result.output
    assert (tmp_path / "report.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    result = CliRunner().invoke(
        main,
        [
            "report",
            "-c",
            str(config),
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--library",
            "east",
            "--format",
            "md",
        ],  # fmt: skip
    )
    assert result.exit_code == 0 and "Библиотека east" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "месяц должен быть от 01 до 12"),
        (["--period", "весна"], "нужен месяц (2026-11), квартал (2026-Q4) или год"),
        (["--from", "2026-11-31", "--to", "2026-12-01"], "нужна дата вида 2026-11-30"),
        (["--from", "2026-12-01", "--to", "2026-11-01"], "раньше, чем --from"),
        (["--period", "2026", "--from", "2026-01-01"], "не оба"),
        ([], "укажите период"),
        (["--period", "2026", "--library", "nowhere"], "библиотеки «nowhere» в базе данных нет"),
        (["--period", "2026", "--library", "east", "--all"], "не оба"),
    ],
)
def test_cli_bad_input_is_one_clear_line(quarter: Path, args: list, message: str) -> None:  # noqa: F811
    config = quarter.parent / "config.toml"
    result = CliRunner().invoke(main, ["report", "-c", str(config), *args])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def _config_with(tmp_path: Path, table: str) -> Path:
    from tests.conftest import write_config

    path = write_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n[report]\n" + table, encoding="utf-8")
    return path


def test_report_rules_are_read_from_the_config(tmp_path: Path) -> None:
    path = _config_with(
        tmp_path,
        'views_are_visits = true\nparticipation = "per_person_per_event"\n'
        'count_reminders_as_events = true\nevent_kinds = ["quiz", "poll"]\n',
    )
    rules = load_config(path).report
    assert rules == ReportRules(True, "per_person_per_event", True, ("quiz", "poll"))
    assert load_config(_config_with(tmp_path, "")).report == ReportRules()


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ('participation = "per_person"', "report.participation"),
        ('views_are_visits = "yes"', "report.views_are_visits"),
        ("event_kinds = [1]", "report.event_kinds"),
        ("visits = true", "report.visits"),
    ],
)
def test_bad_report_rules_name_the_key(tmp_path: Path, table: str, field: str) -> None:
    with pytest.raises(Problems) as caught:
        load_config(_config_with(tmp_path, table + "\n"))
    assert any(p.field == field and p.line for p in caught.value.problems)


def test_a_cut_html_lists_the_quizzes_and_polls_of_the_events_it_shows(quarter: Path) -> None:  # noqa: F811
    from reports.text import details_note, sections, shown_rows

    report = _report(quarter)
    words = Words(report.language)
    shown = {lib.library_id: shown_rows(lib.rows, 4) for lib in report.libraries}
    titles = {row.title for rows in shown.values() for row in rows}
    *_, (_, cut) = sections(report, shown)
    *_, (_, whole) = sections(report)
    assert cut and sum(len(t.rows) for t in cut) < sum(len(t.rows) for t in whole)
    for table in cut:
        assert table.note == details_note(words)
        column = table.headers.index(words["title"])
        assert {row[column] for row in table.rows} <= titles
    assert all(not t.note for t in whole)
