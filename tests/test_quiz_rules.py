"""The integrity rules of quizzes, on a real database: first answers, restarts, floods,
forged buttons, staff, retention of names, scoring with the speed bonus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import forget_old_names
from bot.quiz import buttons, store
from bot.quiz.answers import AnswerBook
from core.clock import ManualClock
from core.config_file import load_config
from core.quiz_model import QuestionSpec
from core.storage import open_db
from tests.conftest import write_config

OPENED = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def book_parts(tmp_path: Path):
    config = load_config(write_config(tmp_path, telegram_extra="staff = [777]"))
    db = open_db(config.storage)
    db["libraries"].insert({"id": "central", "name": "Ц", "timezone": "Europe/Moscow", "paused": 0})
    db["events"].insert({"id": "central/q", "library_id": "central", "kind": "quiz", "title": "Q"})
    clock = ManualClock(OPENED)
    return config, db, clock


def _ask(
    db, number: int, options=("А", "Б"), accepted=(), style="quiz_poll", where="group", bonus=2
):
    spec = QuestionSpec(
        options=tuple(options),
        correct=(0,) if options else (),
        accepted=tuple(accepted),
        points=1,
        speed_bonus=bonus,
        style=style,
        where=where,
        fuzzy=85,
        exclude_staff=True,
    )
    return store.open_question(
        db,
        event_id="central/q",
        library_id="central",
        network="telegram",
        target="-100",
        number=number,
        mode="live",
        remote_id=str(10 + number),
        poll_id=f"poll{number}",
        spec=spec,
        opened_at=OPENED,
        closes_at=OPENED + timedelta(seconds=60),
    )


def test_first_answer_counts_also_after_a_restart(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    book.opened(_ask(db, 1))
    clock.advance(seconds=15)
    assert book.on_poll_answer("telegram", "poll1", 1, "Аня", [0]).counted
    assert book.on_poll_answer("telegram", "poll1", 1, "Аня", [1]).reason == store.DUPLICATE
    restarted = AnswerBook(db, config, clock)  # the bot restarts: memory rebuilt from the db
    assert restarted.on_poll_answer("telegram", "poll1", 1, "Аня", [1]).reason == store.DUPLICATE
    [row] = db["quiz_answers"].rows
    # Right at 15 s of 60: 1 point plus 2 × (1 − 15/60) = 1.5 bonus.
    assert (row["answer"], row["correct"], row["points"], row["elapsed_ms"]) == ("1", 1, 2.5, 15000)


def test_a_flood_from_one_player_costs_one_row(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    book.opened(_ask(db, 1, options=(), accepted=("Волга",), style="text"))
    verdicts = [
        book.on_text("telegram", "-100", None, 5, "Флудер", f"спам {n}", clock.now(), "message")
        for n in range(2000)
    ]
    other = book.on_text("telegram", "-100", None, 6, "Игрок", "волга", clock.now(), "message")
    assert verdicts[0].counted and not any(v.counted for v in verdicts[1:])
    assert other.counted and other.correct
    assert db["quiz_answers"].count == 2


def test_forged_stale_and_foreign_buttons_are_refused(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    question = _ask(db, 1, style="buttons")
    book.opened(question)
    secret = book.secret("central")
    good = buttons.make_data(secret, question.id, 0)
    assert book.on_button("telegram", "central", 1, "А", good)[1] == "Ответ принят!"
    assert book.on_button("telegram", "central", 1, "А", good)[0].reason == store.DUPLICATE
    forged = [
        f"q:{question.id}:1:{good.rsplit(':', 1)[1]}",  # another option, same signature
        good[:-1] + ("0" if good[-1] != "0" else "1"),
        "q:1:0",
        "",
        None,
        "x" * 500,
        buttons.make_data(b"another library's key", question.id, 0),
    ]
    for data in forged:
        verdict, words = book.on_button("telegram", "central", 2, "Б", data)
        assert not verdict.counted and words == "Кнопка недействительна.", data
    out_of_range = buttons.make_data(secret, question.id, 7)
    assert (
        book.on_button("telegram", "central", 2, "Б", out_of_range)[1] == "Кнопка недействительна."
    )
    store.close_question(db, question.id, clock.now())
    book.closed(question.id)
    late = buttons.make_data(secret, question.id, 0)
    assert book.on_button("telegram", "central", 3, "В", late)[1] == "Вопрос уже закрыт."
    assert db["quiz_answers"].count == 1


def test_staff_do_not_play_and_late_answers_are_ignored(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    book.opened(_ask(db, 1))
    assert book.on_poll_answer("telegram", "poll1", 777, "Библиотекарь", [0]).reason == "staff"
    assert book.on_poll_answer("telegram", "poll1", 42, "Админ", [0]).reason == "staff"
    clock.advance(seconds=63)  # past the close and the 2 s allowed for arrival
    assert book.on_poll_answer("telegram", "poll1", 8, "Поздний", [0]).reason == store.CLOSED
    assert db["quiz_answers"].count == 0


def test_an_edit_after_the_close_is_ignored(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    book.opened(_ask(db, 1, options=(), accepted=("Волга",), style="text", where="group"))
    written = clock.now() + timedelta(seconds=10)  # the message's own date: before the close
    clock.advance(seconds=70)  # the edit arrives after the close
    verdict = book.on_text("telegram", "-100", None, 9, "Поздний", "Волга", written, "message")
    assert verdict is not None and verdict.reason == store.CLOSED
    assert db["quiz_answers"].count == 0


def test_ties_are_broken_by_the_total_time_of_right_answers(book_parts) -> None:
    config, db, clock = book_parts
    # No speed bonus here: equal points, so only the time decides.
    _ask(db, 1, bonus=0), _ask(db, 2, bonus=0)
    book = AnswerBook(db, config, clock)  # picks up the open questions from the database
    clock.advance(seconds=10)
    book.on_poll_answer("telegram", "poll1", 1, "Медленный", [0])
    clock.advance(seconds=5)
    book.on_poll_answer("telegram", "poll1", 2, "Быстрый", [0])
    book.on_poll_answer("telegram", "poll2", 1, "Медленный", [0])  # 15 s: total 25 s
    clock.advance(seconds=1)
    book.on_poll_answer("telegram", "poll2", 2, "Быстрый", [0])  # 16 s: total 31 s
    table = store.standings(db, "central/q", "telegram")
    assert [(s.name, s.points, s.time_ms) for s in table] == [
        ("Медленный", 2.0, 25000),
        ("Быстрый", 2.0, 31000),
    ]


def test_names_are_forgotten_after_the_retention_period(book_parts) -> None:
    config, db, clock = book_parts
    book = AnswerBook(db, config, clock)
    book.opened(_ask(db, 1))
    book.on_poll_answer("telegram", "poll1", 1, "Аня Петрова", [0])
    table = store.standings(db, "central/q", "telegram")
    store.save_results(db, "central/q", "central", "telegram", table, 3, clock.now())
    assert forget_old_names(db, config, clock.now() + timedelta(days=29)) == 0
    assert db["quiz_answers"].get(1)["name"] == "Аня Петрова"
    assert forget_old_names(db, config, clock.now() + timedelta(days=31)) == 1
    assert db["quiz_answers"].get(1)["name"] is None
    assert next(db["quiz_results"].rows)["name"] is None
    # The standings still stand, under pseudonyms.
    assert store.standings(db, "central/q", "telegram")[0].points == table[0].points


def test_a_live_quiz_needs_the_chats_it_runs_in(tmp_path: Path) -> None:
    from bot.app import load_plan

    config = load_config(write_config(tmp_path))
    (tmp_path / "events" / "live.toml").write_text(
        'kind = "quiz"\nlibrary = "central"\ntitle = "Т"\ntext = "Начинаем"\n'
        'at = 2099-12-05T18:00:00\nmode = "live"\nnetworks = ["vk"]\n\n'
        '[[questions]]\ntext = "?"\noptions = ["а", "б"]\ncorrect = 1\n',
        encoding="utf-8",
    )
    db = open_db(config.storage)
    [problem] = load_plan(db, config).problems
    assert str(problem).endswith(
        "live.toml:6 [mode]: a live quiz on VK needs a community chat: "
        "set quiz_chat in [library.vk] of library 'central'"
    )
    assert db["actions"].count_where("kind = 'question'") == 0  # nothing half-planned
