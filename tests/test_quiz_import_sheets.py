"""``bibliobot import``: which sheet of a workbook is read, and where the event file goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from bot.cli import main
from bot.quiz.importer import ImportFailed, read_sheet
from core.config_file import load_config
from scheduler.events import load_event
from tests.conftest import write_config

AT = ["--at", "2026-12-05T18:00"]
HEADER = ["Вопрос", "Вариант 1", "Вариант 2", "Правильный"]


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def tables(tmp_path: Path) -> Path:
    folder = tmp_path / "tables"
    folder.mkdir()
    return folder


def test_the_sheet_with_the_header_row_is_read_whatever_its_place(tmp_path: Path) -> None:
    source = workbook(
        tmp_path / "q.xlsx",
        {
            "Инструкция": [["Заполните лист «Вопросы»"], ["Один вопрос — одна строка"]],
            "Вопросы": [HEADER, ["Столица России?", "Москва", "Тверь", 1]],
        },
    )
    sheet = read_sheet(source)
    assert sheet.sheet == "Вопросы" and sheet.headers == HEADER and len(sheet.rows) == 1


def test_several_sheets_of_questions_are_refused_by_name_unless_one_is_chosen(
    tmp_path: Path,
) -> None:
    source = workbook(
        tmp_path / "q.xlsx",
        {
            "Тур 1": [HEADER, ["Столица России?", "Москва", "Тверь", 1]],
            "Тур 2": [HEADER, ["Столица Франции?", "Лион", "Париж", 2]],
        },
    )
    with pytest.raises(ImportFailed) as caught:
        read_sheet(source)
    assert caught.value.problems == [
        "q.xlsx: вопросы есть на листах «Тур 1», «Тур 2»; выберите один с помощью --sheet"
    ]
    assert read_sheet(source, "Тур 2").rows == [(2, ["Столица Франции?", "Лион", "Париж", "2"])]
    with pytest.raises(ImportFailed) as caught:
        read_sheet(source, "Тур 3")
    assert caught.value.problems == ["q.xlsx: нет листа «Тур 3»; листы: «Тур 1», «Тур 2»"]


def test_a_workbook_without_a_question_column_names_its_sheets(tmp_path: Path) -> None:
    source = workbook(
        tmp_path / "q.xlsx", {"Лист1": [["Тема", "Ответ"], ["Пушкин", "да"]], "Лист2": [["x"]]}
    )
    with pytest.raises(ImportFailed) as caught:
        read_sheet(source)
    assert caught.value.problems == [
        "q.xlsx: ни на одном листе в первой строке нет столбца «Вопрос»; листы: «Лист1», «Лист2»"
    ]


def test_problems_in_one_sheet_of_several_name_the_sheet(tmp_path: Path) -> None:
    from bot.quiz.importer import questions_from
    from scheduler.quiz_events import QuestionRules

    source = workbook(
        tmp_path / "q.xlsx",
        {"Инструкция": [["Читайте"]], "Вопросы": [HEADER, ["Столица?", "Москва", "Тверь", 3]]},
    )
    with pytest.raises(ImportFailed) as caught:
        questions_from(read_sheet(source), QuestionRules())
    assert caught.value.problems == [
        "q.xlsx, лист «Вопросы», строка 2, столбец «Правильный»: "
        "варианта 3 нет (всего вариантов: 2)"
    ]


def test_without_out_the_file_goes_into_the_events_folder_and_the_sheet_is_named(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    source = workbook(
        tables(tmp_path) / "literature.xlsx",
        {"Тур 1": [HEADER, ["Столица России?", "Москва", "Тверь", 1]], "Пусто": []},
    )
    result = CliRunner().invoke(main, ["import", str(source), "-c", str(config), *AT])
    assert result.exit_code == 0, result.output
    out = tmp_path / "events" / "literature.toml"
    assert result.output.splitlines() == [
        f"{out}: вопросов: 1 из literature.xlsx, лист «Тур 1», режим live"
    ]
    assert load_event(out, load_config(config)).title == "Викторина"
    assert not (source.parent / "literature.toml").exists()


def test_the_chosen_sheet_is_imported(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    source = workbook(
        tables(tmp_path) / "tours.xlsx",
        {
            "Тур 1": [HEADER, ["Столица России?", "Москва", "Тверь", 1]],
            "Тур 2": [HEADER, ["Столица Франции?", "Лион", "Париж", 2], ["Второй?", "а", "б", 1]],
        },
    )
    base = ["import", str(source), "-c", str(config), *AT]
    refused = CliRunner().invoke(main, base)
    assert refused.exit_code == 1 and "выберите один с помощью --sheet" in refused.stderr
    result = CliRunner().invoke(main, [*base, "--sheet", "Тур 2"])
    assert result.exit_code == 0, result.output
    assert "вопросов: 2 из tours.xlsx, лист «Тур 2»" in result.output


def test_without_a_config_the_file_goes_next_to_the_table_and_it_says_so(tmp_path: Path) -> None:
    source = tables(tmp_path) / "q.csv"
    source.write_text("Вопрос;Ответы\nСтолица России?;Москва\n", encoding="utf-8")
    args = ["import", str(source), "--library", "central", *AT]
    result = CliRunner().invoke(main, args, env={"BIBLIOBOT_CONFIG": str(tmp_path / "none")})
    assert result.exit_code == 0, result.output
    out = source.parent / "q.toml"
    assert out.exists()
    assert result.output.splitlines() == [
        f"{out}: вопросов: 1 из q.csv, режим live",
        "настроек нет (" + str(tmp_path / "none") + "), поэтому файл лежит рядом с таблицей; "
        "перенесите его в папку мероприятий",
    ]
