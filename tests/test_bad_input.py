"""A bad file costs only itself: huge numbers, edge dates, wrong types, costly templates and
oversized spreadsheets are each one line naming the file, and everything else still loads."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.app import check_events, load_plan
from bot.cli import main
from bot.quiz.importer import ImportFailed, read_sheet
from core import texts
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import Problems
from core.storage import open_db
from core.texts import TextError, check_template, render_text
from scheduler import events
from scheduler.events import load_events
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

BEFORE = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
COMING = "2030-12-06T18:00:00"  # for what is planned at the real time
QUIZ = """kind = "quiz"
library = "central"
title = "Викторина"
text = "Начинаем! {{{{ when }}}}"
at = {at}
mode = "{mode}"
{extra}
[[questions]]
text = "{question}"
options = ["Пушкин", "Лермонтов"]
correct = 1
"""


def quiz(at: str = "2026-12-05T18:00:00", mode: str = "daily", **more: str) -> str:
    return QUIZ.format(
        at=at,
        mode=mode,
        extra=more.get("extra", ""),
        question=more.get("question", "Кто написал «Онегина»?"),
    )


def folder_problems(tmp_path: Path, bad: str, name: str = "bad") -> list[str]:
    """Load a folder of one good file and one bad one into a new plan: the bad one's lines."""
    config = load_config(tmp_path / "config.toml")
    write_event(tmp_path, "good")
    (tmp_path / "events" / f"{name}.toml").write_text(bad, encoding="utf-8")
    db = open_db(tmp_path / "plan.db")
    result = load_plan(db, config, BEFORE)
    assert [row["id"] for row in db["events"].rows] == ["central/good"]  # it still loads
    return [str(p) for p in result.problems]


def one_line(problems: list[str], path: Path, field: str) -> str:
    """The only problem: one line, naming the file, its line and the field."""
    assert len(problems) == 1, problems
    line = problems[0]
    assert "\n" not in line and line.startswith(f"{path}:") and f" [{field}]: " in line, line
    return line.split("]: ", 1)[1]


# 1. Durations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "line", "expected"),
    [
        ("remind_before", 'remind_before = ["99999999999d"]', "'99999999999d' is too long"),
        ("remind_before", f"remind_before = [{10**30}]", "is too long: a reminder comes at"),
        ("remind_before", 'remind_before = ["367d"]', "at most 366 days before the event"),
        ("remind_before", f'remind_before = ["{"9" * 5000}d"]', "is too long"),
    ],
)
def test_a_huge_reminder_is_one_line_and_the_other_files_load(
    tmp_path: Path, field: str, line: str, expected: str
) -> None:
    write_config(tmp_path, language="en")
    body = write_event(tmp_path, "bad").read_text(encoding="utf-8") + line + "\n"
    message = one_line(folder_problems(tmp_path, body), tmp_path / "events" / "bad.toml", field)
    assert expected in message


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ('interval = "99999999999d"', "interval", "must be at most 30 days"),
        (f"interval = {10**30}", "interval", "must be at most 30 days"),
        ('answer_time = "99999999999d"', "answer_time", "must not be longer than `interval`"),
    ],
)
def test_huge_quiz_durations_are_one_line(
    tmp_path: Path, extra: str, field: str, expected: str
) -> None:
    write_config(tmp_path, language="en")
    lines = folder_problems(tmp_path, quiz(extra=extra))
    assert one_line(lines, tmp_path / "events" / "bad.toml", field) == expected


@pytest.mark.parametrize(
    ("setting", "field", "expected"),
    [
        ('retry_deadline = "99999999999d"', "schedule.retry_deadline", "must be at most 30 days"),
        ("misfire_grace = 99999999999999999999", "schedule.misfire_grace", "at most 30 days"),
        ('refresh_every = "99999999999d"', "schedule.refresh_every", "must be at most 1 day"),
        ('refresh_every = "0s"', "schedule.refresh_every", "must be at least 1 second"),
        ('snapshot_after = ["99999999999d"]', "schedule.snapshot_after", "at most 366 days"),
        ('[schedule.grace]\npublish = "99999999999d"', "schedule.grace.publish", "at most 30 d"),
    ],
)
def test_huge_durations_in_the_config_are_one_line(
    tmp_path: Path, setting: str, field: str, expected: str
) -> None:
    path = write_config(tmp_path, language="en", extra_schedule=setting)
    text = path.read_text(encoding="utf-8")
    for default in ('misfire_grace = "15m"\n', 'snapshot_after = ["1h"]\n'):
        if setting.startswith(default.split(" ")[0]):
            text = text.replace(default, "", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(tmp_path / "config.toml")
    (line,) = [str(p) for p in caught.value.problems]
    assert line.startswith(f"{tmp_path / 'config.toml'}:") and f"[{field}]: " in line
    assert expected in line and "\n" not in line


def test_huge_keep_names_is_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en")
    text = path.read_text(encoding="utf-8").replace("admins = [42]", 'keep_names = "99999999999d"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [
        f'{path}:15 [library[central].keep_names]: must be a duration like "30d", at most 366 days'
    ]


def _good_and_bad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **bad: str) -> tuple[Path, Path]:
    """A config with its tokens set, a good event file and a bad one: (config, bad file)."""
    for variable in (TG_ENV, VK_USER_ENV, VK_COMMUNITY_ENV):
        monkeypatch.setenv(variable, "token")
    config = write_config(tmp_path, language="en")
    write_event(tmp_path, "good", at=COMING)  # the CLI plans at the real time
    return config, write_event(tmp_path, "bad", **bad)


def test_validate_names_a_huge_reminder_and_counts_the_good_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, bad = _good_and_bad(tmp_path, monkeypatch, at=COMING, remind_before='["99999999999d"]')
    result = CliRunner().invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert f"{bad}:7 [remind_before]: '99999999999d' is too long" in result.output
    assert "1 event(s), 2 publication(s) planned; 1 problem(s)" in result.output


def test_validate_and_plan_name_a_time_in_year_one_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, bad = _good_and_bad(tmp_path, monkeypatch, at="0001-01-01T00:30:00")
    for command in ("validate", "plan"):
        result = CliRunner().invoke(main, [command, "-c", str(config)])
        assert result.exception is None or isinstance(result.exception, SystemExit), command
        assert "Traceback" not in result.output
        [line] = [line for line in result.output.splitlines() if str(bad) in line]
        assert line.startswith(f"{bad}:4 [at]: "), line


def test_whatever_one_file_raises_becomes_its_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    write_event(tmp_path, "good", at=COMING)
    bad = write_event(tmp_path, "bad", at=COMING)
    parse = events.PARSERS["announcement"]

    def broken(fields, library):
        if fields.path == bad:
            raise RuntimeError("something\nunforeseen")
        return parse(fields, library)

    monkeypatch.setitem(events.PARSERS, "announcement", broken)
    loaded, problems = load_events(config)
    assert [e.id for e in loaded] == ["central/good"]
    assert [str(p) for p in problems] == [
        f"{bad}: cannot be read (RuntimeError: something unforeseen); please report this"
    ]


# 2. Edges of the calendar, wrong types, numbers, paths, empty keys --------------------------


@pytest.mark.parametrize(
    "at",
    ["0001-01-01T00:30:00", "9999-12-31T23:30:00", "1999-12-31T23:59:59", "2101-01-01T00:00:00"],
)
def test_a_time_outside_2000_to_2100_is_one_line(tmp_path: Path, at: str) -> None:
    write_config(tmp_path, language="en")
    body = write_event(tmp_path, "bad", at=at).read_text(encoding="utf-8")
    message = one_line(folder_problems(tmp_path, body), tmp_path / "events" / "bad.toml", "at")
    assert message == f"must be in the years 2000 to 2100, not {at}"


@pytest.mark.parametrize(
    ("at", "mode"), [("0001-01-01T00:30:00", "channel"), ("9999-12-31T23:00:00", "daily")]
)
def test_a_quiz_at_the_ends_of_the_calendar_is_refused_not_planned(
    tmp_path: Path, at: str, mode: str
) -> None:
    write_config(tmp_path, language="en")
    lines = folder_problems(tmp_path, quiz(at=at, mode=mode))
    assert one_line(lines, tmp_path / "events" / "bad.toml", "at").startswith("must be in the")


def test_a_poll_closing_after_2100_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    poll = {"kind": '"poll"', "question": '"Что читаем?"', "options": '["А", "Б"]'}
    path = write_event(tmp_path, "bad", **poll, at="2100-12-31T12:00:00")
    path.write_text(path.read_text(encoding="utf-8") + "close_at = 2101-01-01T12:00:00\n")
    lines = folder_problems(tmp_path, path.read_text(encoding="utf-8"))
    assert one_line(lines, path, "close_at") == (
        "must be in the years 2000 to 2100, not 2101-01-01T12:00:00"
    )


def test_a_series_running_past_2100_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    path = write_event(tmp_path, "bad", at="2099-01-01T12:00:00")
    body = path.read_text(encoding="utf-8")
    body += '[repeat]\nevery = "month"\ninterval = 100\ncount = 1000\n'
    lines = folder_problems(tmp_path, body)
    assert one_line(lines, path, "repeat.count") == (
        "goes on past the year 2100 (to 2107-05-01); the bot plans for the years 2000 to 2100"
    )


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ('kind = ["announcement"]', "kind", "must be text; known: announcement, "),
        ("kind = { a = 1 }", "kind", "must be text; known: announcement, "),
        ("kind = 2026-12-05", "kind", "must be text; known: announcement, "),
        ('library = ["central"]', "library", "no library ['central'] in the config"),
        ('title = { ru = "Клуб" }', "title", "must be non-empty text"),
        ('networks = "vk"', "networks", 'must be a list such as ["telegram", "vk", "max"]'),
        ("remind_before = { a = 1 }", "remind_before", "must list up to 5 durations"),
        ('at = ["2026-12-05T18:00:00"]', "at", "must be a local date and time like"),
        ("at = 18:00:00", "at", "must be a local date and time like"),
        ('text_by_network = ["vk"]', "text_by_network", "must be a table such as"),
        ("image = { file = 1 }", "image", "must be a file name"),
        ('repeat = ["week"]', "repeat", "must be a table such as"),
    ],
)
def test_a_value_of_the_wrong_type_is_one_line(
    tmp_path: Path, line: str, field: str, expected: str
) -> None:
    write_config(tmp_path, language="en")
    key = line.split(" ", 1)[0]
    body = write_event(tmp_path, "bad", **{key: None}).read_text(encoding="utf-8")
    lines = folder_problems(tmp_path, line + "\n" + body)
    assert expected in one_line(lines, tmp_path / "events" / "bad.toml", field)


@pytest.mark.parametrize("rate", ["inf", "-inf", "nan", "1e300", "0", "101"])
def test_requests_per_second_must_be_a_finite_positive_rate(tmp_path: Path, rate: str) -> None:
    path = write_config(tmp_path, language="en", vk_extra="")
    text = path.read_text(encoding="utf-8").replace(
        "requests_per_second = 3", f"requests_per_second = {rate}"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:28 [library[central].vk.requests_per_second]: "
        "must be a positive number, at most 100"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * 300, "a name in it is longer than 255 bytes"),
        ("events/" + "x" * 256 + "/more", "a name in it is longer than 255 bytes"),
        ("a\\u0000b", "must be a file or folder name"),
        ("  ", "must be a file or folder name"),
    ],
)
def test_a_path_no_file_system_holds_is_one_line(tmp_path: Path, value: str, expected: str) -> None:
    path = write_config(tmp_path, language="en")
    text = path.read_text(encoding="utf-8").replace('events_dir = "events"', "")
    path.write_text(f'events_dir = "{value}"\n' + text, encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1 [events_dir]: {expected}"]


def test_an_unreadable_events_folder_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    folder = tmp_path / ("x" * 300)
    loaded, problems = load_events(config, folder)
    assert loaded == [] and [str(p) for p in problems] == [
        f"{folder} [events_dir]: cannot read: File name too long"
    ]


def test_an_empty_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en")
    path.write_text('"" = 1\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert [str(p) for p in caught.value.problems] == [
        f'{path}:1 [""]: unknown key; known: events_dir, language, library, report, '
        "schedule, storage, webhook"
    ]
    write_config(tmp_path, language="en")
    body = write_event(tmp_path, "bad").read_text(encoding="utf-8") + '"" = 1\n'
    lines = folder_problems(tmp_path, body)
    assert lines == [
        f'{tmp_path / "events" / "bad.toml"}:7 [""]: unknown key in an announcement; known: '
        "at, image, kind, library, networks, remind_before, repeat, text, text_by_network, title"
    ]


def test_a_timezone_name_too_long_is_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en", timezone="Europe/" + "x" * 300)
    with pytest.raises(Problems) as caught:
        load_config(path)
    (line,) = [str(p) for p in caught.value.problems]
    assert line.startswith(f"{path}:14 [library[central].timezone]: unknown IANA time zone")


# 3. Templates ------------------------------------------------------------------------

COSTLY = {
    "a long range": "{% for i in range(999999) %}x{% endfor %}",
    "repeating a string": '{{ range(10)|list|join(",") * 99999999 }}',
    "nested loops": "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "doubling with ~": '{% set a = "x" * 20000 %}{% set a = a ~ a %}{{ a|length }}',
    "a wide filter": '{{ "x"|center(999999999) }}',
    "a wide method": '{{ "x".ljust(999999999) }}',
    "a wide printf": '{{ "%999999999s" % 1 }}',
    "a wide format": '{{ "{:999999999}".format(1) }}',
    "a huge power": "{{ 2 ** 99999999 }}",
    "a macro calling itself": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "a growing list": "{% set a = [1] %}{% for x in a %}{{ a.append(x) }}{% endfor %}",
    "lipsum": "{{ lipsum(99999) }}",
    "a long output": '{% for i in range(1000) %}{{ "x" * 1000 }}{% endfor %}',
    "a sum of lists": "{{ ([[1] * 1000] * 1000)|sum(start=[])|length }}",
    "lists of lists": "{% set a = [1] * 1000 %}{% set b = [a] * 1000 %}{{ [b] * 1000 }}",
    "a list written out": "{% set a = [" + "1," * 1500 + "] %}{{ a|length }}",
    "a long text filtered again and again": (
        '{% set s = "ab " * 6000 %}{% for i in range(1000) %}{{ s|urlize|length }}{% endfor %}'
    ),
}


@pytest.mark.parametrize("name", COSTLY)
def test_a_costly_template_is_refused_in_one_line(name: str) -> None:
    with pytest.raises(TextError) as caught:
        check_template(COSTLY[name])
    # no config: Russian, the product's first language
    assert str(caught.value).startswith(
        ("ошибка в шаблоне: ", "после подстановки текст длиннее 20000")
    )
    assert "\n" not in str(caught.value)


def test_ordinary_templates_still_work() -> None:
    context = {"title": "Клуб", "when": "5 декабря", "library": "Центральная"}
    source = (
        "{{ title|upper }}: {{ when }}{% if library %}, {{ library }}{% endif %}. "
        "{% for n in range(3) %}{{ loop.index }}{% endfor %} {{ '%05.1f' % 2.5 }} "
        "{{ '{} мест'.format(25000) }} {{ [1, 2, 3]|sum }} {{ 'ab' * 3 }} {{ title ~ '!' }}"
    )
    assert render_text(source, context) == (
        "КЛУБ: 5 декабря, Центральная. 123 002.5 25000 мест 6 ababab Клуб!"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("{}%#\r\n \t\u00a0\u2028xЖ😀-"), max_size=40))
def test_a_text_without_jinja_marks_renders_as_jinja_renders_it(source: str) -> None:
    """Plain text skips Jinja (a network's 100,000 posts plan in half the time): the
    result must be what Jinja gives, line ends and surrounding blanks included."""
    context = {"title": "Клуб", "when": "5 декабря", "library": "Центральная"}
    if re.search(r"\{[{%#]", source):
        return  # a template: only Jinja renders it
    try:
        expected = texts._render_jinja(source, context)
    except TextError:
        expected = None
    assert render_text(source, context) == expected


def test_a_plain_text_too_long_is_refused_like_a_template() -> None:
    with pytest.raises(TextError) as caught:
        render_text("x" * 20_001, {})
    assert str(caught.value).startswith("после подстановки текст длиннее 20000")


def test_validate_refuses_a_costly_text_and_plans_the_others(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    body = write_event(tmp_path, "bad", text='"{% for i in range(999999) %}x{% endfor %}"')
    lines = folder_problems(tmp_path, body.read_text(encoding="utf-8"))
    assert one_line(lines, body, "text") == (
        "template error: range() of more than 1000 numbers; a post text may not cost more"
    )


def test_quiz_questions_are_plain_text_not_templates(tmp_path: Path) -> None:
    """An imported question may hold anything: `{{`, `{%` are shown as written."""
    config = load_config(write_config(tmp_path, language="en"))
    question = "Что печатает {{ x }} или {% for i in range(999999) %}? А {{ скобки }}?"
    path = tmp_path / "events" / "q.toml"
    path.write_text(quiz(question=question), encoding="utf-8")
    planned, problems = check_events(config, BEFORE)
    assert problems == []
    ((event, actions),) = planned
    texts = [a.payload["text"] for a in actions if a.kind == "question"]
    assert texts and all(question in text for text in texts)


def test_the_intro_of_a_comments_quiz_is_rendered(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = tmp_path / "events" / "q.toml"
    path.write_text(quiz(mode="comments"), encoding="utf-8")
    ((event, actions),) = check_events(config, BEFORE)[0]
    (text, *_) = [a.payload["text"] for a in actions if a.kind == "question"]
    assert "Начинаем! 5 декабря 2026, суббота, 18:00" in text and "{{" not in text


# 4. Spreadsheets -----------------------------------------------------------------------


def test_a_cell_at_the_last_row_and_column_is_refused_without_reading_a_million_rows(
    tmp_path: Path,
) -> None:
    book = Workbook()
    book.active.append(["Вопрос", "Ответы"])
    book.active.append(["Столица России?", "Москва"])
    book.active["XFD1048576"] = "x"
    book.save(tmp_path / "q.xlsx")
    assert (tmp_path / "q.xlsx").stat().st_size < 10_000
    with pytest.raises(ImportFailed) as caught:
        read_sheet(tmp_path / "q.xlsx")
    assert caught.value.problems == [
        "q.xlsx: больше 1000 строк (заполнена строка 1048576); в викторине не больше 50 вопросов"
    ]


def test_a_cell_far_to_the_right_is_refused(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["Вопрос", "Ответы"])
    book.active.append(["Столица России?", "Москва"])
    book.active["AE3"] = "x"
    book.save(tmp_path / "q.xlsx")
    with pytest.raises(ImportFailed) as caught:
        read_sheet(tmp_path / "q.xlsx")
    assert caught.value.problems == ["q.xlsx: больше 30 столбцов (заполнена строка 3, столбец AE)"]


def test_a_csv_in_another_encoding_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes("Вопрос;Ответы\n".encode("cp1251") + b"\x98\x98;x\n")
    with pytest.raises(ImportFailed) as caught:
        read_sheet(path)
    assert caught.value.problems == [
        "q.csv: текст не в кодировке UTF-8, UTF-16 или Windows-1251 (cp1251); сохраните "
        "таблицу как «CSV UTF-8»"
    ]


def test_a_csv_with_a_huge_cell_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('Вопрос;Ответы\n"' + "x" * (csv.field_size_limit() + 1) + '";y\n')
    with pytest.raises(ImportFailed) as caught:
        read_sheet(path)
    assert caught.value.problems == [
        "q.csv: не удаётся прочитать файл .csv (field larger than field limit (131072))"
    ]


def test_a_csv_of_many_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("Вопрос;Ответы\n" + "Столица?;Москва\n" * 1000, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        read_sheet(path)
    assert caught.value.problems == [
        "q.csv: больше 1000 строк (заполнена строка 1001); в викторине не больше 50 вопросов"
    ]


def test_an_odd_key_in_a_table_is_quoted_and_on_one_line(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    path = write_event(tmp_path, "bad")
    body = path.read_text(encoding="utf-8") + '[repeat]\nevery = "week"\ncount = 2\n"a\\nb" = 1\n'
    assert one_line(folder_problems(tmp_path, body), path, 'repeat."a\\nb"').startswith(
        "unknown key in [repeat]"
    )
    lines = folder_problems(tmp_path, quiz() + '"" = 1\n')
    assert one_line(lines, path, 'questions[1].""').startswith("unknown key in a question")
    config = write_config(
        tmp_path, language="en", extra_schedule='[schedule.grace]\n"re minder" = "5m"'
    )
    with pytest.raises(Problems) as caught:
        load_config(config)
    assert [str(p) for p in caught.value.problems] == [
        f'{config}:10 [schedule.grace."re minder"]: needs an action kind (publish, reminder, '
        'question) and a duration such as "10m"'
    ]
