"""Uploads checked, staged, confirmed and cancelled (bot.admin.upload) without a network:
quizzes with settings and pictures, CSV encodings, races at confirm, old previews forgotten,
and files of any bytes that never crash."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.admin.upload import (
    MAX_COLUMNS,
    MAX_ROWS,
    UploadNotConfirmed,
    UploadPreview,
    UploadRefused,
    cancel_upload,
    confirm_upload,
    preview_upload,
    staging_root,
    upload_library,
)
from bot.app import load_plan
from core.clock import ManualClock
from core.config import Config
from core.config_file import load_config
from core.storage import open_db
from scheduler.events import load_event
from tests.conftest import write_config, write_event
from tests.images import png

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    for number, (title, rows) in enumerate(sheets.items()):
        sheet = book.active if number == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


QUESTIONS = [
    ["Вопрос", "Вариант 1", "Вариант 2", "Правильный", "Картинка"],
    ["Чей это портрет?", "Пушкин", "Гоголь", 1, "portrait.png"],
    ["Сколько глав в «Онегине»?", "8", "10", 1, None],
]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path))


def preview(config: Config, name: str, data: bytes, now: datetime = NOW):
    return preview_upload(config, "central", name, data, now)


def staged(config: Config) -> list[str]:
    root = staging_root(config)
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def events(config: Config) -> list[str]:
    return sorted(p.name for p in config.events_dir.iterdir())


def test_a_quiz_with_pictures_from_the_events_folder_keeps_them_after_confirm(
    config: Config,
) -> None:
    (config.events_dir / "portrait.png").write_bytes(png(64, 64))
    found = preview(config, "pushkin.xlsx", workbook({"Вопросы": QUESTIONS}))
    assert isinstance(found, UploadPreview), found
    [quiz] = confirm_upload(config, found.token)
    assert events(config) == sorted(["portrait.png", quiz.name])  # the picture not copied
    event = load_event(quiz, config)
    assert event.questions[0].image == config.events_dir / "portrait.png"
    assert event.title == "pushkin" and event.quiz.mode == "daily"  # no quiz chat here
    assert staged(config) == []


def test_a_quiz_picture_missing_from_the_events_folder_is_named_by_row(config: Config) -> None:
    found = preview(config, "pushkin.xlsx", workbook({"Вопросы": QUESTIONS}))
    assert isinstance(found, UploadRefused)
    [problem] = found.problems
    assert "row 2" in problem or "строка 2" in problem
    assert "portrait.png" in problem and staged(config) == []


def test_a_quiz_takes_its_settings_sheet_and_names_a_bad_setting(config: Config) -> None:
    good = {"Название": "Осенняя викторина", "Дата": "2026-12-10", "Время": "17:30"}
    sheets = {
        "Вопросы": QUESTIONS[:1] + QUESTIONS[2:],
        "Настройки": [[k, v] for k, v in good.items()],
    }
    found = preview(config, "q.xlsx", workbook(sheets))
    assert isinstance(found, UploadPreview), found
    assert found.lines[0].title == "Осенняя викторина"
    assert found.lines[0].when == datetime(2026, 12, 10, 17, 30, tzinfo=found.lines[0].when.tzinfo)
    assert found.lines[0].kind == "quiz"
    cancel_upload(config, found.token)

    bad = [["Дата", "завтра"], ["Режим", "блиц"], ["Сети", "фейсбук"]]
    found = preview(config, "q.xlsx", workbook({"Вопросы": QUESTIONS[:1], "Настройки": bad}))
    assert isinstance(found, UploadRefused)
    assert found.problems == (
        "настройка «Дата» (лист «Настройки»): «завтра» — не дата; пишите 05.12.2026 или 2026-12-05",
        "настройка «Режим» (лист «Настройки»): «блиц» — неизвестный режим викторины; можно: "
        "live, daily, channel, comments",
        "настройка «Сети» (лист «Настройки»): «фейсбук» — неизвестная сеть; пишите через "
        "запятую: Telegram, ВКонтакте, MAX (пусто — все сети библиотеки)",
    )
    live = [["Режим", "live"]]  # asked for, but the library has no quiz chat
    found = preview(
        config, "q.xlsx", workbook({"Вопросы": [QUESTIONS[0], QUESTIONS[2]], "Настройки": live})
    )
    assert isinstance(found, UploadRefused)
    [problem] = found.problems
    assert problem.startswith("настройка «Режим» (лист «Настройки»): ") and "quiz_chat" in problem
    assert staged(config) == []


@pytest.mark.parametrize(
    ("encoding", "separator"), [("cp1251", ";"), ("utf-8-sig", ","), ("utf-16", "\t")]
)
def test_a_csv_plan_in_the_encodings_excel_saves(
    config: Config, encoding: str, separator: str
) -> None:
    rows = [["Дата", "Время", "Текст"], ["05.12.2026", "18:00", "Встреча «Книжного клуба»"]]
    data = "\r\n".join(separator.join(row) for row in rows).encode(encoding)
    found = preview(config, "план.csv", data)
    assert isinstance(found, UploadPreview), found
    [line] = found.lines
    assert line.title == "Встреча «Книжного клуба»" and line.networks == ("telegram", "vk")


def test_the_preview_speaks_english_for_an_english_config(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    (config.events_dir / "club.png").write_bytes(png(40, 30))
    rows = [
        ["Date", "Time", "Networks", "Text", "Image"],
        ["2026-12-05", "18:00", "VK", "Club", "club.png"],
    ]
    found = preview(config, "plan.xlsx", workbook({"Plan": rows}))
    assert isinstance(found, UploadPreview), found
    assert found.text.splitlines() == [
        "📋 plan.xlsx for «Центральная библиотека». To be posted:",
        "• Sat 2026-12-05 18:00 — VK: post “Club”, with the picture club.png",
        "Events: 1. Times are local (Europe/Moscow). Confirm to schedule, or cancel.",
    ]


def test_an_event_planned_from_another_file_is_not_planned_twice(config: Config) -> None:
    write_event(config.events_dir.parent, "club", at="2026-12-05T18:00:00")
    db = open_db(config.storage)
    load_plan(db, config, ManualClock(NOW))
    twin = (config.events_dir / "club.toml").read_bytes()
    found = preview(config, "club-copy.toml", twin)
    assert isinstance(found, UploadRefused)
    assert found.problems == (
        "club-copy.toml: такое же событие уже в плане (central/club): оно вышло бы дважды",
    )


def test_confirm_is_all_or_nothing_when_a_name_is_taken_meanwhile(config: Config) -> None:
    rows = [
        ["Дата", "Время", "Текст"],
        ["05.12.2026", "18:00", "Первый"],
        ["06.12.2026", "18:00", "Второй"],
    ]
    found = preview(config, "plan.xlsx", workbook({"План": rows}))
    assert isinstance(found, UploadPreview)
    first, second = sorted(
        p.name for p in (staging_root(config) / found.token / "events").iterdir()
    )
    (config.events_dir / second).write_text("# written by hand meanwhile\n", encoding="utf-8")
    with pytest.raises(UploadNotConfirmed, match=second):
        confirm_upload(config, found.token)
    assert events(config) == [second]  # the first was not left behind, the second not replaced
    assert (config.events_dir / second).read_text(encoding="utf-8").startswith("# written by hand")
    assert upload_library(config, found.token) == "central"  # it waits: cancel still works
    assert cancel_upload(config, found.token)
    assert staged(config) == [] and upload_library(config, found.token) is None
    assert not cancel_upload(config, found.token)  # nothing waits any more
    with pytest.raises(UploadNotConfirmed):
        confirm_upload(config, found.token)


def test_a_preview_nobody_answered_is_forgotten_after_a_day(config: Config) -> None:
    rows = [["Дата", "Время", "Текст"], ["05.12.2026", "18:00", "Пост"]]
    old = preview(config, "a.xlsx", workbook({"План": rows}))
    assert isinstance(old, UploadPreview)
    (staging_root(config) / "0123456789abcdef").mkdir()  # a crash's leftover, no metadata
    later = NOW + timedelta(hours=25)
    rows[1][0] = "06.12.2026"
    new = preview(config, "b.xlsx", workbook({"План": rows}), now=later)
    assert isinstance(new, UploadPreview)
    assert old.token not in staged(config) and new.token in staged(config)
    with pytest.raises(UploadNotConfirmed):
        confirm_upload(config, old.token)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[f"r{n}"] for n in range(MAX_ROWS + 1)], f"больше {MAX_ROWS} строк"),
        ([["Дата"] + [None] * MAX_COLUMNS + ["x"]], f"больше {MAX_COLUMNS} столбцов"),
    ],
)
def test_a_table_past_its_bounds_is_refused_in_one_line(
    config: Config, rows: list[list[object]], expected: str
) -> None:
    found = preview(config, "huge.xlsx", workbook({"План": rows}))
    assert isinstance(found, UploadRefused)
    [problem] = found.problems
    assert expected in problem and "\n" not in problem


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("plan.xlsx", b"PK\x03\x04 not really a workbook", "не читается как таблица .xlsx"),
        ("plan.csv", b"a,b\n1,2\n", "не понятно, что это за таблица"),
        ("plan.toml", b"kind = [", "plan.toml"),
        ("../../etc/passwd.toml", b'kind = "announcement"', "passwd.toml"),
        ("empty.csv", b"", "не понятно, что это за таблица"),
    ],
)
def test_unreadable_files_are_refused_with_a_line_and_leave_nothing(
    config: Config, name: str, data: bytes, expected: str
) -> None:
    found = preview(config, name, data)
    assert isinstance(found, UploadRefused)
    assert expected in found.text and "Traceback" not in found.text
    assert staged(config) == [] and events(config) == []


def test_tokens_that_are_not_ours_confirm_and_cancel_nothing(config: Config) -> None:
    for token in ("../events", "", "0123456789abcdeg", "0123456789abcdef"):
        with pytest.raises(UploadNotConfirmed):
            confirm_upload(config, token)
        assert not cancel_upload(config, token)
        assert upload_library(config, token) is None
    assert events(config) == []


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    suffix=st.sampled_from([".toml", ".csv", ".xlsx"]),
    data=st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | st.lists(
        st.lists(
            st.sampled_from(["Дата", "Время", "Текст", "Вопрос", "05.12.2026", "18:00", "x", ""]),
            max_size=5,
        ),
        max_size=5,
    ).map(lambda rows: "\n".join(";".join(r) for r in rows).encode()),
)
def test_any_bytes_give_a_preview_or_a_refusal_never_an_error(
    config: Config, suffix: str, data: bytes
) -> None:
    found = preview(config, "fuzz" + suffix, data)
    assert isinstance(found, UploadPreview | UploadRefused)
    if isinstance(found, UploadRefused):
        assert staged(config) == []
        assert not any("не удалось проверить" in problem for problem in found.problems), found
    else:
        cancel_upload(config, found.token)
