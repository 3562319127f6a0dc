"""Fuzzing the input parsers: whatever a config, an event file or a spreadsheet holds, it loads
or is refused with lines naming the file; nothing else escapes, and a refused event file
writes nothing to the plan.

Documents are built from the real keys and random ones, with values of every TOML type
(huge and negative numbers, inf and nan, dates at the ends of the calendar, lists, tables),
as changes to a good file, so the checks past the first key are reached; random bytes too.
Each property runs ``BIBLIOBOT_FUZZ_EXAMPLES`` examples (200 by default, the same ones every
run); ``BIBLIOBOT_FUZZ_EXAMPLES=10000`` makes a longer run.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import load_plan
from bot.quiz.importer import ImportFailed, QuizHeader, import_quiz, questions_from, read_sheet
from core.clock import ManualClock
from core.config import Config
from core.config_file import LONGEST, MAX_RATE, load_config
from core.errors import EventFileError, InputError, Problems
from core.storage import open_db
from core.texts import TextError
from scheduler.events import ANNOUNCEMENT_KEYS, POLL_KEYS, load_event
from scheduler.plan import expand
from scheduler.quiz_events import QUESTION_KEYS, QUIZ_KEYS, QuestionRules
from scheduler.recurrence import KEYS as REPEAT_KEYS
from tests.conftest import write_config

EXAMPLES = int(os.environ.get("BIBLIOBOT_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure is reproducible
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CLOCK = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")

# Values -------------------------------------------------------------------------------

EDGE_NUMBERS = [0, -1, 1, 2**31, 2**53, 2**63 - 1, -(2**63), 10**30, -(10**30)]
EDGE_MOMENTS = [
    datetime(1, 1, 1, 0, 30),
    datetime(9999, 12, 31, 23, 30),
    datetime(1999, 12, 31, 23, 59, 59),
    datetime(2100, 12, 31, 23, 59, 59),
    datetime(2026, 12, 5, 18, 0),
]
words = st.sampled_from(
    ["", " ", "1d", "99999999999d", "0s", "2m", "-5m", "1h", "live", "comments", "channel",
     "daily", "vk", "telegram", "week", "month", "day", "1mon", "-1fri", "central", "x.png",
     "{{ when }}", "{% for i in range(999999) %}x{% endfor %}", "{{ title * 99999999 }}",
     "2026-12-05T18:00:00", "Europe/Moscow", "../../etc/passwd", "a\x00b", "x" * 5000]
)  # fmt: skip
scalars = st.one_of(
    st.text(max_size=20),
    words,
    st.integers(-(10**30), 10**30),
    st.sampled_from(EDGE_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(),
    st.sampled_from(EDGE_MOMENTS),
    st.datetimes(timezones=st.just(UTC)),
    st.dates(),
    st.times(),
)


def values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=8,
    )


def some_keys(known: Any) -> st.SearchStrategy[str]:
    """The real keys, most of the time, and random ones (an empty one too)."""
    real = st.sampled_from(sorted(known))
    return st.one_of(real, real, st.text(max_size=8))


# A TOML writer (tomllib reads only) ------------------------------------------------------


def toml_key(key: str) -> str:
    return key if _BARE.match(key) else toml_string(key)


def toml_string(text: str) -> str:
    """A basic string: JSON's escapes are TOML's, except DEL, which TOML wants escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    inner = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
    return "{ " + inner + " }" if inner else "{}"


def toml_document(data: dict[str, Any]) -> str:
    """Scalars first, then tables as [headers] and lists of tables as [[headers]]."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append(f"\n[{toml_key(key)}]")
            tables += [f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                tables.append(f"\n[[{toml_key(key)}]]")
                tables += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()]
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def changed(base: dict[str, Any], changes: dict[str, Any], dropped: set[str]) -> dict[str, Any]:
    """A copy of ``base`` with keys replaced, added and removed (``a.b`` is a nested key)."""
    data = copy.deepcopy(base)
    for key, value in changes.items():
        table, _, sub = key.partition(".")
        target = data.get(table)
        if isinstance(target, list) and target and isinstance(target[0], dict):
            target = target[0]
        if sub and isinstance(target, dict):
            target[sub] = value
        else:
            data[key] = value
    for key in dropped:
        data.pop(key, None)
    return data


def assert_lines(lines: list[str], *starts: str) -> None:
    """Every problem is one line that names the file."""
    for line in lines:
        assert "\n" not in line and "\r" not in line, line
        assert line.startswith(starts), (line, starts)


# Event files --------------------------------------------------------------------------

AT = datetime(2026, 12, 5, 18, 0)
BASES = {
    "announcement": {
        "kind": "announcement",
        "library": "central",
        "title": "Книжный клуб",
        "at": AT,
        "text": "Приходите! {{ when }}",
        "remind_before": ["1d", "2h"],
        "text_by_network": {"vk": "Для ВК"},
        "repeat": {"every": "week", "count": 3},
    },
    "poll": {
        "kind": "poll",
        "library": "central",
        "question": "Что читаем?",
        "options": ["А", "Б"],
        "at": AT,
        "close_at": AT + timedelta(days=1),
    },
    "quiz": {
        "kind": "quiz",
        "library": "central",
        "title": "Викторина",
        "text": "Начинаем!",
        "at": AT,
        "mode": "daily",
        "interval": "1d",
        "questions": [
            {"text": "Кто написал «Онегина»?", "options": ["Пушкин", "Гоголь"], "correct": 1},
            {"text": "Год рождения Пушкина?", "answers": ["1799"]},
        ],
    },
}
EVENT_KEYS = {*ANNOUNCEMENT_KEYS, *POLL_KEYS, *QUIZ_KEYS}
NESTED_KEYS = {
    *(f"repeat.{k}" for k in REPEAT_KEYS),
    *(f"questions.{k}" for k in QUESTION_KEYS),
    "text_by_network.vk",
    "text_by_network.telegram",
}
event_changes = st.dictionaries(
    some_keys(EVENT_KEYS | NESTED_KEYS), values(some_keys(EVENT_KEYS)), min_size=1, max_size=3
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    write_config(folder)
    return folder


@pytest.fixture(scope="module")
def config(folder: Path) -> Config:
    return load_config(folder / "config.toml")


def check_event_file(folder: Path, config: Config, path: Path) -> None:
    """The file loads and plans, or is refused in lines naming it, and then plans nothing."""
    try:
        event = load_event(path, config)
    except InputError as exc:
        assert_lines([str(exc)], str(path))
        refused = True
    else:
        try:
            expand(event, config)
            refused = False
        except (EventFileError, TextError) as exc:  # the app makes a TextError the file's
            assert_lines([str(exc)], "template error", str(path))
            refused = True
    database = folder / "plan.db"
    for old in folder.glob("plan.db*"):
        old.unlink()
    db = open_db(database)
    result = load_plan(db, config, CLOCK)
    assert_lines([str(p) for p in result.problems], str(path))
    planned = [row["id"] for row in db["events"].rows]
    if refused or result.problems:
        assert planned == []
        assert db["actions"].count_where("event_id = ?", [f"central/{path.stem}"]) == 0
    else:
        assert planned == [f"central/{path.stem}"]
    db.conn.close()


@FUZZ
@given(
    kind=st.sampled_from(sorted(BASES)),
    changes=event_changes,
    dropped=st.sets(st.sampled_from(sorted(EVENT_KEYS)), max_size=2),
)
def test_any_event_file_loads_or_is_refused_in_one_line(
    folder: Path, config: Config, kind: str, changes: dict, dropped: set
) -> None:
    path = folder / "events" / "fuzz.toml"
    path.write_text(toml_document(changed(BASES[kind], changes, dropped)), encoding="utf-8")
    check_event_file(folder, config, path)


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_an_event_file_are_refused_in_one_line(
    folder: Path, config: Config, content: bytes
) -> None:
    path = folder / "events" / "fuzz.toml"
    path.write_bytes(content)
    check_event_file(folder, config, path)


# The config ---------------------------------------------------------------------------

CONFIG_KEYS = {
    *("storage", "events_dir", "language", "schedule", "library", "report"),
    *("misfire_grace", "retry_deadline", "snapshot_after", "grace", "refresh_every"),
    *("community_snapshot_at", "id", "name", "short_name", "timezone", "admins", "telegram"),
    *("vk", "keep_names", "token_env", "chats", "api_url", "resend_uncertain", "timeout"),
    *("quiz_chat", "staff", "group_id", "user_token_env", "community_token_env"),
    *("requests_per_second", "views_are_visits", "participation", "event_kinds"),
}
CONFIG_BASE = {
    "storage": "bibliobot.db",
    "events_dir": "events",
    "language": "ru",
    "schedule": {"misfire_grace": "15m", "snapshot_after": ["1h"], "grace": {"reminder": "5m"}},
    "report": {"participation": "per_act"},
    "library": [
        {
            "id": "central",
            "name": "Центральная",
            "timezone": "Europe/Moscow",
            "admins": [42],
            "keep_names": "30d",
            "telegram": {"token_env": "TG", "chats": ["@central_library"], "timeout": 10},
            "vk": {"group_id": 1, "community_token_env": "VK", "requests_per_second": 3},
        }
    ],
}
SECTIONS = ("schedule", "report", "library", "library.telegram", "library.vk")


@st.composite
def config_changes(draw: st.DrawFn) -> dict[str, Any]:
    """Changes at the top, in ``[schedule]``/``[report]``, in the library and its networks."""
    keys = some_keys(CONFIG_KEYS)
    return {
        draw(st.sampled_from(("", *SECTIONS))): draw(
            st.dictionaries(keys, values(keys), max_size=3)
        )
    }


def apply_config_changes(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(CONFIG_BASE)
    for section, values_ in changes.items():
        table = data
        for part in filter(None, section.split(".")):
            table = table[part][0] if part == "library" else table[part]
        table.update(values_)
    return data


def library_tables_last(data: dict[str, Any]) -> str:
    """The config as a file: [[library]] with [library.telegram] and [library.vk] under it."""
    libraries = data.pop("library", None)
    text = toml_document(data)
    if not isinstance(libraries, list) or not all(isinstance(x, dict) for x in libraries):
        return text + ("" if libraries is None else f"library = {toml_value(libraries)}\n")
    for library in libraries:
        networks = {
            k: library.pop(k) for k in ("telegram", "vk") if isinstance(library.get(k), dict)
        }
        text += "\n[[library]]\n" + toml_document(library)
        for name, table in networks.items():
            text += f"\n[library.{name}]\n" + toml_document(table)
    return text


def check_config(path: Path) -> None:
    try:
        config = load_config(path)
    except Problems as exc:
        assert exc.problems
        assert_lines([str(p) for p in exc.problems], str(path))
        return
    except InputError as exc:
        assert_lines([str(exc)], str(path))
        return
    schedule = config.schedule
    assert timedelta(0) <= schedule.misfire_grace <= LONGEST["misfire_grace"]
    assert timedelta(seconds=1) <= schedule.refresh_every <= LONGEST["refresh_every"]
    assert schedule.retry_deadline <= LONGEST["retry_deadline"]
    assert all(timedelta(0) < s <= LONGEST["snapshot_after"] for s in schedule.snapshot_after)
    assert all(g <= LONGEST["grace"] for _, g in schedule.grace_by_kind)
    for library in config.libraries:
        assert library.keep_names <= LONGEST["keep_names"]
        if library.vk:
            assert 0 < library.vk.requests_per_second <= MAX_RATE
            assert 0 < library.vk.timeout <= 300
        if library.telegram:
            assert 0 < library.telegram.timeout <= 300
    assert config.events_dir.is_absolute() and config.storage.is_absolute()


@FUZZ
@given(changes=config_changes())
def test_any_config_loads_or_is_refused_one_line_per_key(folder: Path, changes: dict) -> None:
    path = folder / "fuzz-config.toml"
    path.write_text(library_tables_last(apply_config_changes(changes)), encoding="utf-8")
    check_config(path)


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_config_are_refused_in_one_line(folder: Path, content: bytes) -> None:
    path = folder / "fuzz-config.toml"
    path.write_bytes(content)
    check_config(path)


# Spreadsheets (CSV) -------------------------------------------------------------------

HEADERS = ["Вопрос", "Вариант 1", "Вариант 2", "Вариант 3", "Правильный", "Ответы"]
HEADERS += ["Пояснение", "Баллы", "Картинка", "№"]
# openpyxl cannot write the other control characters
cell_text = st.text(st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from("\n\t"))
cells = st.one_of(
    cell_text.filter(lambda text: len(text) <= 12),
    st.sampled_from(["1", "2", "1;2", "0", "13", "abc", "Пушкин", "x.png", "{{ x }}", ""]),
    st.sampled_from(["Вопрос?\nВторая строка", "a" * 1001, "{% for i in range(999999) %}"]),
)
headers = st.one_of(
    st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6, unique=True),
    st.lists(st.sampled_from(HEADERS) | cell_text.filter(lambda t: len(t) <= 8), max_size=6),
)
tables = st.tuples(headers, st.lists(st.lists(cells, max_size=7), max_size=4))


def csv_text(rows: list[list[str]], delimiter: str) -> str:
    quoted = (delimiter.join('"' + cell.replace('"', '""') + '"' for cell in row) for row in rows)
    return "\n".join(quoted) + "\n"


def check_import(folder: Path, config: Config, source: Path) -> None:
    out = folder / "events" / "imported.toml"
    header = QuizHeader("central", "Викторина", AT, mode="daily")
    try:
        questions_from(read_sheet(source), QuestionRules())
        import_quiz(source, out, header, config, force=True)
    except ImportFailed as exc:
        assert exc.problems
        assert_lines(exc.problems, source.name, out.name)
        return
    load_event(out, config)  # what import writes, validate accepts


@FUZZ
@given(table=tables, delimiter=st.sampled_from([";", ",", "\t"]))
def test_any_csv_table_imports_or_is_refused_row_by_row(
    folder: Path, config: Config, table: tuple, delimiter: str
) -> None:
    source = folder / "questions.csv"
    source.write_text(csv_text([table[0], *table[1]], delimiter), encoding="utf-8")
    check_import(folder, config, source)


@FUZZ
@given(table=tables, numbers=st.lists(st.integers() | st.floats(allow_nan=False), max_size=3))
def test_any_xlsx_table_imports_or_is_refused_row_by_row(
    folder: Path, config: Config, table: tuple, numbers: list
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for row in [table[0], *table[1], numbers]:
        book.active.append(row)
    source = folder / "questions.xlsx"
    book.save(source)
    check_import(folder, config, source)


@FUZZ
@given(content=st.binary(max_size=400))
def test_any_bytes_as_a_csv_are_refused_in_lines_naming_it(
    folder: Path, config: Config, content: bytes
) -> None:
    source = folder / "questions.csv"
    source.write_bytes(content)
    check_import(folder, config, source)
