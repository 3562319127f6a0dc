"""``bibliobot import``: spreadsheets of questions become quiz event files that load."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from bot.cli import main
from bot.quiz.importer import (
    ImportFailed,
    QuizHeader,
    import_quiz,
    questions_from,
    quiz_toml,
    read_sheet,
)
from core import messages
from core.config_file import load_config
from scheduler.events import load_event
from scheduler.quiz_events import QuestionRules
from tests.conftest import write_config
from tests.images import png

SAMPLES = Path(__file__).resolve().parent.parent / "templates" / "quiz"
HEADER = QuizHeader("central", "Литературная викторина", datetime(2026, 12, 5, 18, 0))


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_the_samples_open_and_hold_the_same_questions() -> None:
    load_workbook(SAMPLES / "questions.sample.xlsx").close()
    rules = QuestionRules()
    from_xlsx = questions_from(read_sheet(SAMPLES / "questions.sample.xlsx"), rules)
    from_csv = questions_from(read_sheet(SAMPLES / "questions.sample.csv"), rules)
    assert from_xlsx == from_csv
    assert len(from_csv) == 8
    assert {q.free_text for q in from_csv} == {True, False}
    assert from_csv[3].correct == (0, 2) and from_csv[3].points == 2
    assert from_csv[6].accepted == ("26", "двадцать шесть")


@pytest.mark.parametrize("sample", ["questions.sample.xlsx", "questions.sample.csv"])
def test_round_trip_the_written_file_loads(tmp_path: Path, sample: str) -> None:
    config = load_config(write_config(tmp_path))
    source = tmp_path / sample
    shutil.copy(SAMPLES / sample, source)
    out = tmp_path / "events" / "literature.toml"
    questions = import_quiz(source, out, HEADER, config).questions
    event = load_event(out, config)
    assert event.kind == "quiz" and event.title == "Литературная викторина"
    assert event.questions == tuple(questions)
    assert event.quiz.mode == "live"
    assert not list((tmp_path / "events").glob("*.check.toml"))


def test_english_headers_comma_csv_without_bom(tmp_path: Path) -> None:
    source = tmp_path / "q.csv"
    source.write_text(
        "number,question,option1,option2,option3,correct,answers,explanation,points\n"
        '1,"Who wrote ""Hamlet""?",Shakespeare,Marlowe,,1,,,\n'
        "2,Year of Pushkin's birth?,,,,,1799; seventeen ninety-nine,Born in Moscow,3\n",
        encoding="utf-8",
    )
    first, second = questions_from(read_sheet(source), QuestionRules())
    assert first.text == 'Who wrote "Hamlet"?' and first.options == ("Shakespeare", "Marlowe")
    assert second.accepted == ("1799", "seventeen ninety-nine") and second.points == 3


def test_windows_1251_csv_from_russian_excel(tmp_path: Path) -> None:
    source = tmp_path / "q.csv"
    source.write_bytes("Вопрос;Ответы\nСтолица России?;Москва\n".encode("cp1251"))
    (question,) = questions_from(read_sheet(source), QuestionRules())
    assert question.accepted == ("Москва",)


def test_every_bad_row_is_listed_and_nothing_is_written(tmp_path: Path) -> None:
    source = write_xlsx(
        tmp_path / "questions.xlsx",
        [
            ["№", "Вопрос", "Вариант 1", "Вариант 2", "Вариант 3", "Правильный", "Ответы", "Баллы"],
            [1, "Хороший вопрос?", "Да", "Нет", None, 1, None, None],
            [2, "Нет правильного?", "Да", "Нет", None, None, None, None],
            [3, None, None, None, None, None, "ответ", None],
            [4, "Вариантов три?", "А", "Б", "В", 4, None, None],
            [5, "Пропуск?", "А", None, "В", 1, None, None],
            [None, None, None, None, None, None, None, None],  # an empty row is skipped
            [7, "Оба сразу?", "А", "Б", None, 1, "А", None],
            [8, "Баллы?", None, None, None, None, "да", "много"],
            [9, "Правильный словом?", "А", "Б", None, "первый", None, None],
        ],
    )
    out = tmp_path / "quiz.toml"
    with pytest.raises(ImportFailed) as caught:
        import_quiz(source, out, HEADER)  # no config: Russian, the product's first language
    assert caught.value.problems[:3] == [
        "questions.xlsx, строка 3, столбец «Правильный»: обязательно: номер правильного "
        "варианта, например 1",
        "questions.xlsx, строка 4, столбец «Вопрос»: обязательно, но не указано",
        "questions.xlsx, строка 5, столбец «Правильный»: варианта 4 нет (всего вариантов: 3)",
    ]
    with pytest.raises(ImportFailed) as caught, messages.use_language("en"):
        import_quiz(source, out, HEADER)
    assert caught.value.problems == [
        "questions.xlsx, row 3, column «Правильный»: is required: the number of the right "
        "option, e.g. 1",
        "questions.xlsx, row 4, column «Вопрос»: is required",
        "questions.xlsx, row 5, column «Правильный»: option 4 does not exist (there are 3 options)",
        "questions.xlsx, row 6, column «Вариант 2»: option 2 is empty but a later one is not",
        "questions.xlsx, row 8, column «Ответы»: a question has either options or answers, not both",
        "questions.xlsx, row 9, column «Баллы»: must be a whole number from 1 to 100",
        "questions.xlsx, row 10, column «Правильный»: must be option numbers like 2 or 1;3",
    ]
    assert not out.exists()


def test_unknown_and_missing_columns_are_reported(tmp_path: Path) -> None:
    source = tmp_path / "q.csv"
    source.write_text("Тема;Правильнный;Ответы\nПушкин;1;да\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        questions_from(read_sheet(source), QuestionRules())
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("q.csv, строка 1, столбец «Тема»: неизвестный столбец")
    assert problems[1].startswith("q.csv, строка 1, столбец «Правильнный»: неизвестный столбец")
    assert problems[2] == "q.csv, строка 1: нет столбца «Вопрос»"


def test_mode_rules_apply_to_the_whole_table(tmp_path: Path) -> None:
    source = SAMPLES / "questions.sample.csv"
    with pytest.raises(ImportFailed) as caught:
        questions_from(read_sheet(source), QuestionRules(mode="comments"))
    assert caught.value.problems == [
        "questions.sample.csv: в викторине в комментариях ровно один вопрос, а в таблице их 8"
    ]
    with pytest.raises(ImportFailed) as caught:
        questions_from(read_sheet(source), QuestionRules(mode="channel", networks=("telegram",)))
    assert (
        "строка 3, столбец «Вариант 1»: викторина в канале идёт опросами-викторинами Telegram"
        in str(caught.value)
    )


def test_images_and_awkward_text_survive_the_round_trip(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "portrait.png").write_bytes(png(4, 4))
    tricky = 'Кавычки "такие", «такие», обратная \\ черта,\tтаб и {{ скобки }}\x7f?'
    source = write_xlsx(
        tmp_path / "tables" / "q.xlsx",
        [["Question", "Answers", "Image"], [tricky, 'a"b; c\\d', "portrait.png"]],
    )
    out = tmp_path / "events" / "tricky.toml"
    (question,) = import_quiz(source, out, HEADER, config).questions
    event = load_event(out, config)
    assert event.questions[0].text == tricky
    assert event.questions[0].accepted == ('a"b', "c\\d")
    assert event.questions[0].image == (tmp_path / "tables" / "portrait.png").resolve()
    assert 'image = "../tables/portrait.png"' in out.read_text(encoding="utf-8")


def test_toml_is_written_without_a_config_too(tmp_path: Path) -> None:
    questions = questions_from(read_sheet(SAMPLES / "questions.sample.csv"), QuestionRules())
    text = quiz_toml(HEADER, questions, "questions.sample.csv", tmp_path)
    assert text.startswith("# Викторина из таблицы questions.sample.csv")
    assert "correct = [1, 3]" in text and 'answers = ["26", "двадцать шесть"]' in text


def test_cli_imports_into_the_events_folder(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    out = tmp_path / "events" / "quiz.toml"
    args = ["import", str(SAMPLES / "questions.sample.xlsx"), "-c", str(config), "--out", str(out)]
    args += ["--at", "2026-12-05T18:00", "--mode", "daily", "--title", "Знатоки"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"{out}: вопросов: 8 из questions.sample.xlsx, лист «Вопросы», режим daily" in (
        result.output
    )
    event = load_event(out, load_config(config))
    assert event.library == "central" and event.quiz.mode == "daily" and event.title == "Знатоки"
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1 and "добавьте --force" in again.stderr
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0


def test_cli_lists_bad_rows_and_fails(tmp_path: Path) -> None:
    source = tmp_path / "вопросы.csv"
    source.write_text("Вопрос;Вариант 1;Правильный\nОдин?;да;2\nДва?;да;3\n", encoding="utf-8")
    args = ["import", str(source), "--library", "central", "--at", "2026-12-05T18:00"]
    result = CliRunner().invoke(main, args, env={"BIBLIOBOT_CONFIG": str(tmp_path / "none")})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "вопросы.csv, строка 2, столбец «Правильный»: варианта 2 нет (всего вариантов: 1)",
        "вопросы.csv, строка 3, столбец «Правильный»: варианта 3 нет (всего вариантов: 1)",
    ]
    assert list(tmp_path.iterdir()) == [source]


def test_cli_names_a_latin_file_for_a_russian_table_and_checks_the_library(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    source = tmp_path / "вопросы.csv"
    source.write_text("Вопрос;Ответы\nСтолица России?;Москва\n", encoding="utf-8")
    base = ["import", str(source), "-c", str(config), "--at", "2027-01-10 12:00"]
    wrong = CliRunner().invoke(main, [*base, "--library", "branch"])
    assert wrong.exit_code == 2 and "библиотеки «branch» нет в настройках" in wrong.stderr
    result = CliRunner().invoke(main, [*base, "--mode", "comments", "--networks", "vk"])
    assert result.exit_code == 0, result.output
    event = load_event(tmp_path / "events" / "quiz-2027-01-10.toml", load_config(config))
    assert event.networks == ("vk",) and event.quiz.mode == "comments"
