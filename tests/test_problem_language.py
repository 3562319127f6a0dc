"""Problems are told in the config's language: Russian by default and when the config cannot
be read, English with ``language = "en"``; the ``file:line [field]`` part never changes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.problems import ProblemTeller
from bot.quiz.importer import ImportFailed, QuizHeader, import_quiz
from core import messages
from core.config_file import load_config
from core.errors import ConfigError, EventFileError, Problems
from core.tomlfile import plural, say_span
from scheduler.events import load_event, load_events
from tests.conftest import write_config, write_event

MSK = ZoneInfo("Europe/Moscow")


def _config_problems(path: Path) -> list[str]:
    with pytest.raises(Problems) as caught:
        load_config(path)
    return [str(problem) for problem in caught.value.problems]


def _bad_group_id(tmp_path: Path, language: str) -> Path:
    path = write_config(tmp_path, language=language)
    text = path.read_text(encoding="utf-8").replace("group_id = 1", 'group_id = "abc"')
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(start))


def test_the_same_bad_config_is_told_in_russian_by_default_and_in_english_when_chosen(
    tmp_path: Path,
) -> None:
    ru, en = tmp_path / "ru", tmp_path / "en"
    ru.mkdir(), en.mkdir()
    ru_path, en_path = _bad_group_id(ru, "ru"), _bad_group_id(en, "en")
    line = _line_of(ru_path, "group_id")
    assert _config_problems(ru_path) == [
        f"{ru_path}:{line} [library[central].vk.group_id]: должно быть целым числом, а не 'abc'"
    ]
    assert _config_problems(en_path) == [
        f"{en_path}:{line} [library[central].vk.group_id]: must be a whole number, not 'abc'"
    ]
    # The choice holds for the load only: the language in hand after it is still Russian.
    assert messages.language() == "ru"


def test_durations_and_choices_inside_a_problem_are_russian_too(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, extra_schedule='retry_deadline = "90d"', snapshots='["1h", "400d"]'
    )
    problems = _config_problems(path)
    assert any(
        p.endswith(
            '[schedule.snapshot_after]: должно быть списком длительностей, например "1h", '
            '"24h", "7d", каждая не больше, чем 366 дней'
        )
        for p in problems
    ), problems
    assert any(
        p.endswith("[schedule.retry_deadline]: должно быть не больше, чем 30 дней, а не '90d'")
        for p in problems
    ), problems
    assert [plural(n, "config.unit_day") for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "1 день", "2 дня", "5 дней", "11 дней", "21 день", "22 дня", "112 дней",
    ]  # fmt: skip
    assert say_span(timedelta(seconds=1)) == "1 секунда"
    with messages.use_language("en"):
        assert say_span(timedelta(days=366)) == "366 days"
        assert say_span(timedelta(minutes=1)) == "1 minute"


def test_a_config_that_does_not_parse_is_told_in_russian(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('language = "en"\nstorage = \n', encoding="utf-8")  # en, but unreadable
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:2: ошибка в записи TOML: ")
    path.write_text('language = "en"\n[[library]]\nid = "a"\nname = "N"\ntimezone = "UTC"\n')
    # It parses: its own language is read, although the config is wrong.
    assert f"{path}:2 [library[a]]: connect at least one network: [library.telegram] or " in (
        "\n".join(_config_problems(path))
    )
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=f"^{missing}: файл не найден$"):
        load_config(missing)


def test_validate_prints_a_russian_librarys_problems_in_russian(tmp_path: Path) -> None:
    path = _bad_group_id(tmp_path, "ru")
    result = CliRunner().invoke(main, ["validate", "-c", str(path)])
    assert result.exit_code != 0
    line = _line_of(path, "group_id")
    assert (
        f"{path}:{line} [library[central].vk.group_id]: должно быть целым числом, а не 'abc'"
        in result.stderr
    )
    assert "must be" not in result.output and "Traceback" not in result.output


def test_a_bad_event_file_of_a_russian_library_is_told_in_russian(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = write_event(tmp_path, remind_befor='["1d"]', at="2026-12-05 18:00:00")
    events, problems = load_events(config)
    assert events == []
    assert [str(p) for p in problems] == [
        f"{path}:7 [remind_befor]: неизвестный ключ в объявлении; "
        "может быть, имелся в виду `remind_before`?"
    ]
    notices = ProblemTeller(config, None).new(problems)
    assert notices == [
        (
            "central",
            "⚠️ В файле события ошибка. План по нему остаётся прежним, пока её не исправят.\n"
            + str(problems[0]),
        )
    ]


def test_the_same_bad_event_file_of_an_english_library_is_told_in_english(
    tmp_path: Path,
) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    path = write_event(tmp_path, remind_befor='["1d"]')
    _, problems = load_events(config)
    assert [str(p) for p in problems] == [
        f"{path}:7 [remind_befor]: unknown key in an announcement; did you mean `remind_before`?"
    ]
    (notice,) = ProblemTeller(config, None).new(problems)
    assert notice[1].startswith("⚠️ An event file has a mistake.")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"at": "2026-12-05"}, "[at]: нужно и время суток, например 2026-12-05T18:00:00"),
        ({"at": '"5 декабря"'}, "[at]: '5 декабря' — не дата и время вида 2026-12-05T18:00:00"),
        ({"networks": '["ok"]'}, "[networks]: неизвестная сеть 'ok'; укажите telegram или vk"),
        ({"image": '"photo.gif"'}, "[image]: 'photo.gif': поддерживаются только картинки PNG"),
        ({"text": '"{{ reader }}"'}, "[text]: ошибка в шаблоне: 'reader' is undefined; известные"),
        ({"remind_before": '["400d"]'}, "'400d' — слишком долго: напоминание приходит не раньше"),
        (
            {"repeat": '{ every = "week", weekdays = ["mon"], count = 3 }'},
            "[repeat.weekdays]: `at` (2026-12-05, суббота) не входит в эти дни",
        ),
        (
            {"kind": '"giveaway"', "conditions": '["like", "comment"]', "prizes": '["Книга"]',
             "draw_at": "2026-12-10T18:00:00", "networks": '["telegram"]'},
            "[conditions]: `like` нельзя проверить в Telegram: бот не видит, кто поставил реакцию",
        ),
        (
            {"kind": '"giveaway"', "conditions": '["member"]', "prizes": '["Книга"]',
             "draw_at": "2026-12-10T18:00:00", "networks": '["vk"]'},
            "в ВКонтакте участников находят по `like` или `repost` или `comment`: добавьте",
        ),
    ],
)  # fmt: skip
def test_event_file_problems_are_russian_sentences(
    tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    config = load_config(write_config(tmp_path))
    path = write_event(tmp_path, **fields)
    with pytest.raises(EventFileError) as caught:
        load_event(path, config)
    told = str(caught.value)
    assert told.startswith(str(path)) and message in told and "\n" not in told


def test_a_spreadsheet_is_told_in_its_librarys_language(tmp_path: Path) -> None:
    source = tmp_path / "q.csv"
    source.write_text("Вопрос;Вариант 1;Правильный\nОдин?;да;2\n", encoding="utf-8")
    header = QuizHeader("central", "Викторина", datetime(2026, 12, 5, 18, 0, tzinfo=MSK))
    told = {}
    for language in ("ru", "en"):
        folder = tmp_path / language
        folder.mkdir()
        config = load_config(write_config(folder, language=language))
        with pytest.raises(ImportFailed) as caught:
            import_quiz(source, folder / "events" / "q.toml", header, config)
        told[language] = caught.value.problems
    assert told == {
        "ru": ["q.csv, строка 2, столбец «Правильный»: варианта 2 нет (всего вариантов: 1)"],
        "en": ["q.csv, row 2, column «Правильный»: option 2 does not exist (there are 1 options)"],
    }


def test_an_edit_after_sending_is_told_in_the_librarys_language(tmp_path: Path) -> None:
    from scheduler.plan import PlanChange, SentEdit

    change = PlanChange(
        event_id="central/club",
        edits=[SentEdit("k", "sent", "vk", "1", ("time", "removed"))],
        library_id="central",
        title="Клуб",
    )
    told = {}
    for language in ("ru", "en"):
        folder = tmp_path / language
        folder.mkdir()
        teller = ProblemTeller(load_config(write_config(folder, language=language)), None)
        ((_, told[language]),) = teller.new_edits([change])
    assert "изменён после публикации: время, пост убран из файла" in told["ru"]
    assert "(ВКонтакте 1)" in told["ru"]
    assert "edited after its posts went out: time, a post removed from the file" in told["en"]
    assert "(VK 1)" in told["en"]


def test_the_notices_reach_the_admins_through_notify(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    write_event(tmp_path, title='""')
    _, problems = load_events(config)
    sent: list[tuple[str, str]] = []

    async def notify(library: str, notice: str) -> None:
        sent.append((library, notice))

    teller = ProblemTeller(config, notify)
    asyncio.run(teller.tell(problems))
    asyncio.run(teller.tell(problems))  # told once
    assert len(sent) == 1 and sent[0][0] == "central"
    assert sent[0][1].endswith("[title]: должно быть непустым текстом")
