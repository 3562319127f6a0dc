"""A content plan's rows → event files (scheduler.content_plan): cells as librarians type
them, one-line problems naming the row and the column, and a fuzz that never raises."""

from __future__ import annotations

import math
import tomllib
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import messages
from core.config_file import load_config
from scheduler.content_plan import (
    HEADERS,
    PlanRow,
    event_toml,
    is_content_plan,
    parse_date,
    parse_networks,
    parse_time,
    read_content_plan,
)
from scheduler.events import load_event
from tests.conftest import write_config
from tests.images import png

HEAD = ["№", "Дата", "Время", "Сети", "Вид", "Текст", "Картинка"]
DEC_5 = date(2026, 12, 5)


def plan(*rows: list[object], head: list[object] = HEAD):
    """A table with ``head`` on row 1 and ``rows`` from row 2."""
    return read_content_plan(head, [(n, list(r)) for n, r in enumerate(rows, start=2)], 1)


def lines(found) -> list[str]:
    return [str(problem) for problem in found.problems]


# -- good rows become the right event files ------------------------------------------------


def test_good_rows_become_announcement_and_poll_files_the_loader_takes(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    (tmp_path / "events" / "club.png").write_bytes(png(40, 30))
    found = plan(
        [1, "05.12.2026", "18:00", "Telegram, ВКонтакте", "анонс", "Книжный клуб\nПриходите!", "club.png"],
        [2, "2026-12-06", "12:30", "вк", "Опрос", "Что читать?\nТолстой\nЧехов", None],
        [3, "07.12.2026", "10:00", "", "", "Просто пост", ""],
    )  # fmt: skip
    assert lines(found) == []
    post, poll, plain = found.rows
    assert (post.row, post.at, post.networks, post.kind) == (
        2,
        datetime(2026, 12, 5, 18, 0),
        ("telegram", "vk"),
        "announcement",
    )
    assert (post.title, post.image) == ("Книжный клуб", "club.png")
    assert (poll.kind, poll.text, poll.options, poll.networks) == (
        "poll",
        "Что читать?",
        ("Толстой", "Чехов"),
        ("vk",),
    )
    assert plain.networks == () and plain.kind == "announcement"  # empty: every network
    events = []
    for row in found.rows:
        path = tmp_path / "events" / row.file_name("central")
        path.write_text(event_toml(row, "central", "план.xlsx"), encoding="utf-8")
        events.append(load_event(path, config))
    club, vote, last = events
    assert (club.kind, club.title, club.text, club.networks) == (
        "announcement",
        "Книжный клуб",
        "Книжный клуб\nПриходите!",
        ("telegram", "vk"),
    )
    assert club.at.replace(tzinfo=None) == datetime(2026, 12, 5, 18, 0)
    assert club.at.utcoffset().total_seconds() == 3 * 3600  # the library's zone: Moscow
    assert club.image is not None and club.image.name == "club.png"
    assert (vote.kind, vote.question, vote.options) == ("poll", "Что читать?", ("Толстой", "Чехов"))
    assert last.networks == ("telegram", "vk")  # the library's networks
    assert "строка 4" in (tmp_path / "events" / found.rows[2].file_name("central")).read_text()


def test_a_poll_takes_its_answers_after_semicolons_and_a_title_column_wins() -> None:
    found = plan(
        ["05.12.2026", "18:00", "опрос", "Ваш жанр? ; Фантастика; Детектив ;", "Жанры"],
        head=["Дата", "Время", "Вид", "Текст", "Название"],
    )
    [row] = found.rows
    assert (row.text, row.options, row.title) == ("Ваш жанр?", ("Фантастика", "Детектив"), "Жанры")


def test_a_title_is_the_texts_first_line_without_markup_cut_short() -> None:
    long = "Очень " * 20 + "длинный анонс"
    found = plan(
        ["05.12.2026", "18:00", "\n  {{ library }}: Встреча клуба  \nвторая строка"],
        ["05.12.2026", "19:00", long],
        head=["Дата", "Время", "Текст"],
    )
    first, second = found.rows
    assert first.title == ": Встреча клуба"
    assert len(second.title) == 60 and second.title.endswith("…")


def test_the_same_row_gets_the_same_file_name_and_another_row_another() -> None:
    row = PlanRow(2, datetime(2026, 12, 5, 18), ("vk",), "announcement", "Клуб", "Клуб")
    again = PlanRow(9, datetime(2026, 12, 5, 18), ("vk",), "announcement", "Клуб", "Клуб")
    other = PlanRow(2, datetime(2026, 12, 5, 18), ("vk",), "announcement", "Клуб", "Клуб!")
    assert row.file_name("central") == again.file_name("central")  # its row does not count
    assert row.file_name("central").startswith("plan-20261205-1800-")
    assert row.file_name("central") != other.file_name("central")
    assert row.file_name("central") != row.file_name("branch")


def test_event_toml_keeps_quotes_backslashes_and_control_characters() -> None:
    text = 'Он сказал: "Приходите!"\\n\tC:\\книги\x7f\nконец'
    row = PlanRow(2, datetime(2026, 12, 5, 18), (), "announcement", 'Титул "в кавычках"', text)
    data = tomllib.loads(event_toml(row, "central", 'пла"н.xlsx'))
    assert (data["text"], data["title"], data["kind"]) == (
        text,
        'Титул "в кавычках"',
        "announcement",
    )
    assert data["at"] == datetime(2026, 12, 5, 18) and "networks" not in data


# -- dates, times, networks as librarians write them ---------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "05.12.2026",
        "5.12.2026",
        " 05/12/2026 ",
        "05.12.26",
        "2026-12-05",
        "05.12.2026 18:00",
        DEC_5,
        datetime(2026, 12, 5, 0, 0),
        46361,  # Excel's day number (a date cell formatted as a number)
        46361.75,
        "46361",
    ],
)
def test_dates_in_russian_iso_and_excel_forms(cell: object) -> None:
    assert parse_date(cell) == DEC_5


@pytest.mark.parametrize(
    "cell",
    ["32.12.2026", "31.02.2026", "2026-13-01", "5 декабря", "12/2026", "", None, 5, 1e308, math.nan, True],
)  # fmt: skip
def test_what_is_not_a_date(cell: object) -> None:
    assert parse_date(cell) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("18:00", time(18, 0)),
        ("18.00", time(18, 0)),
        (" 9:05 ", time(9, 5)),
        ("18:00:30", time(18, 0, 30)),
        ("18", time(18, 0)),
        (18, time(18, 0)),
        (18.3, time(18, 30)),  # a typed "18.30" that Excel made a number
        (0.75, time(18, 0)),  # a time cell read as the day's fraction
        (time(18, 0, 0, 500), time(18, 0)),
        (datetime(1899, 12, 30, 18, 0), time(18, 0)),
    ],
)
def test_times_as_typed_and_as_cells(cell: object, expected: time) -> None:
    assert parse_time(cell) == expected


@pytest.mark.parametrize(
    "cell", ["25:00", "18:60", "18:5", "вечер", "", None, 18.75, 24.0, math.inf, "6 pm"]
)
def test_what_is_not_a_time(cell: object) -> None:
    assert parse_time(cell) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Telegram, ВКонтакте", ("telegram", "vk")),
        ("vk telegram", ("telegram", "vk")),  # in the registry's order
        ("ВК; ТГ", ("telegram", "vk")),
        ("телеграм + макс", ("telegram", "max")),
        ("VK/MAX", ("vk", "max")),
        ("вконтакте", ("vk",)),
        ("", ()),
        ("все", ()),
        ("All", ()),
    ],
)
def test_networks_in_russian_and_english(cell: str, expected: tuple[str, ...]) -> None:
    assert parse_networks(cell) == expected


@pytest.mark.parametrize("cell", ["фейсбук", "вк, одноклассники", "instagram"])
def test_a_word_that_names_no_network(cell: str) -> None:
    assert parse_networks(cell) is None


def test_a_time_written_in_the_date_cell_serves_when_the_time_cell_is_empty() -> None:
    found = plan(
        [datetime(2026, 12, 5, 18, 30), None, "Пост"],
        ["06.12.2026 10:15", "", "Пост 2"],
        head=["Дата", "Время", "Текст"],
    )
    assert [row.at for row in found.rows] == [
        datetime(2026, 12, 5, 18, 30),
        datetime(2026, 12, 6, 10, 15),
    ]


# -- problems: one line each, naming the row and the column ----------------------------------


def test_each_bad_cell_is_one_line_naming_its_row_and_column() -> None:
    found = plan(
        [1, "05.12.2026", "18:00", "", "", "Хорошая строка", ""],
        [2, "32.12.2026", "25:00", "фейсбук", "реклама", "", "x.gif"],
    )
    assert [row.row for row in found.rows] == [2]
    assert lines(found) == [
        "строка 3, столбец «Дата»: «32.12.2026» — не дата; пишите 05.12.2026 или 2026-12-05",
        "строка 3, столбец «Время»: «25:00» — не время; пишите 18:00",
        "строка 3, столбец «Текст»: пустой текст",
        "строка 3, столбец «Сети»: «фейсбук» — неизвестная сеть; пишите через запятую: "
        "Telegram, ВКонтакте, MAX (пусто — все сети библиотеки)",
        "строка 3, столбец «Вид»: «реклама» — неизвестный вид; можно: анонс (announcement), "
        "опрос (poll)",
        "строка 3, столбец «Картинка»: «x.gif» — нужно имя файла PNG или JPEG из папки "
        "событий, например club.png",
    ]
    assert all(problem.row == 3 for problem in found.problems)


def test_problems_come_in_english_for_an_english_config() -> None:
    with messages.use_language("en"):
        found = plan(["1", "завтра", "18:00"], head=["#", "Date", "Time", "Text"])
    assert lines(found) == [
        "row 2, column «Date»: «завтра» is not a date; write 2026-12-05 or 05.12.2026",
        "row 2, column «Text»: the text is empty",
    ]


def test_the_header_row_is_checked_first() -> None:
    found = plan(["05.12.2026", "18:00", "x", "y"], head=["Дата", "Когда", "Текст", "дата"])
    assert lines(found) == [
        "строка 1, столбец «Когда»: неизвестный столбец; известные: "
        "дата, время, текст, сети, вид, название, картинка, №",
        "строка 1, столбец «дата»: столбец встречается дважды",
        "строка 1: нет столбца «Время»",
    ]
    assert found.rows == ()


def test_empty_and_only_numbered_rows_are_skipped() -> None:
    found = plan(
        [1, "05.12.2026", "18:00", None, None, "Пост", None],
        [None, None, None, None, None, None, None],
        ["", " ", "\n", None, "", "", ""],
        [3],  # a template numbered ahead
        [4, "06.12.2026", "18:00", None, None, "Ещё пост", None],
    )
    assert lines(found) == []
    assert [row.row for row in found.rows] == [2, 6]


def test_a_plan_without_rows_says_so() -> None:
    assert lines(plan([5], [6])) == ["строка 1: под заголовками нет ни одной строки"]


def test_a_row_repeating_another_is_refused() -> None:
    found = plan(
        [1, "05.12.2026", "18:00", "вк", "", "Пост", None],
        [2, "2026-12-05", "18.00", "ВКонтакте", "анонс", "Пост", None],
    )
    assert len(found.rows) == 1
    assert lines(found) == ["строка 3: повторяет строку 2: такой пост вышел бы дважды"]


def test_a_content_plan_is_told_by_its_date_and_text_columns() -> None:
    assert is_content_plan(["№", " ДАТА ", "Текст поста"])
    head = ["Дата публикации", "Время публикации", "Площадки", "Пост", "Фото"]
    assert is_content_plan(head)
    [row] = plan(["05.12.2026", "18:00", "вк", "Клуб", "club.jpg"], head=head).rows
    assert (row.networks, row.text, row.image) == (("vk",), "Клуб", "club.jpg")
    assert not is_content_plan(["Вопрос", "Вариант 1", "Дата"])
    assert not is_content_plan([None, 5, datetime(2026, 1, 1)])


# -- fuzz ---------------------------------------------------------------------------------

CELLS = (
    st.none()
    | st.text(max_size=30)
    | st.sampled_from(["05.12.2026", "2026-12-05", "18:00", "вк", "опрос", "анонс", "a.png", "все"])
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.dates()
    | st.datetimes()
    | st.times()
)
SPELLINGS = [name for names in HEADERS.values() for name in names]
HEADER = st.sampled_from(SPELLINGS) | st.text(max_size=10) | st.none()
DATES = st.dates(date(2000, 1, 1), date(2099, 12, 31)) | st.sampled_from(
    ["05.12.2026", "2026-12-05"]
)
TIMES = st.times() | st.sampled_from(["18:00", "9.30", 18.3, 0.5])
# Rows: a likely date, time and text first (so good rows are made too), then anything.
ROWS = st.lists(
    st.tuples(
        DATES | CELLS, TIMES | CELLS, st.text(min_size=1) | CELLS, st.lists(CELLS, max_size=6)
    ),
    max_size=4,
)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    head=st.lists(HEADER, min_size=0, max_size=6).map(lambda h: ["дата", "время", "текст", *h]),
    body=ROWS,
)
def test_fuzzed_rows_never_raise_and_good_rows_make_valid_toml(
    head: list[object], body: list[tuple[object, object, object, list[object]]]
) -> None:
    found = plan(*([day, moment, text, *rest] for day, moment, text, rest in body), head=head)
    for problem in found.problems:
        assert "\n" not in problem.line and problem.line.startswith(f"строка {problem.row}")
    for row in found.rows:
        data = tomllib.loads(event_toml(row, "central", "plan.xlsx"))
        assert data["kind"] in ("announcement", "poll") and data["title"]
        assert data["at"] == row.at
