"""`bibliobot run` says one line per outcome, in the config's language and local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import load_plan
from bot.run_lines import RunLines
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import BadContent, RetryLater
from core.storage import open_db
from scheduler.runner import Runner
from tests.conftest import FakePlatform, write_config, write_event

DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
LATIN_WORDS = re.compile(r"\b[A-Za-z]{3,}\b")


def setup(tmp_path: Path, language: str, verbose: bool = False):
    config = load_config(write_config(tmp_path, language=language))
    write_event(tmp_path)
    db = open_db(tmp_path / "plan.db")
    clock = ManualClock(DUE - timedelta(hours=1))
    load_plan(db, config, clock)
    platforms = {
        ("central", "telegram"): FakePlatform("telegram"),
        ("central", "vk"): FakePlatform("vk"),
    }
    said: list[str] = []
    runner = Runner(db, config, platforms, clock=clock, seed=1)
    runner.observers.append(RunLines(db, config, said.append, verbose).observe)
    return runner, db, clock, platforms, said


def publish_ids(db) -> dict[str, int]:
    return {row["network"]: row["id"] for row in db["actions"].rows_where("kind = 'publish'")}


async def test_each_outcome_is_one_russian_line_at_local_time(tmp_path: Path) -> None:
    runner, db, clock, platforms, said = setup(tmp_path, "ru")
    platforms[("central", "telegram")].outcomes = [RetryLater("429", "telegram", delay=7)]
    platforms[("central", "vk")].outcomes = [BadContent("text too long", "vk")]
    clock.current = DUE
    ids = publish_ids(db)
    await runner.fire(ids["telegram"])  # a retry: detail, not said without -v
    await runner.fire(ids["vk"])
    clock.current = datetime.fromisoformat(db["actions"].get(ids["telegram"])["retry_at"])
    await runner.fire(ids["telegram"])
    assert len(said) == 2, said
    failed, posted = said
    assert failed == (
        "05.12 18:00 central · ВКонтакте · «Книжный клуб»: "
        "НЕ опубликовано: сеть отклонила содержимое (text too long)"
    )
    assert posted.startswith("05.12 18:00 central · Telegram · «Книжный клуб»: пост опубликован ")
    assert posted.endswith("https://example.test/telegram/1")
    # Nothing English but the platform's own reason and names: the sentence is Russian.
    words = set(LATIN_WORDS.findall(posted.replace("Telegram", "").replace("https", "")))
    assert words <= {"central", "example", "test", "telegram"}


async def test_verbose_adds_the_retries_and_english_speaks_english(tmp_path: Path) -> None:
    runner, db, clock, platforms, said = setup(tmp_path, "en", verbose=True)
    platforms[("central", "telegram")].outcomes = [RetryLater("429", "telegram", delay=7)]
    clock.current = DUE
    await runner.fire(publish_ids(db)["telegram"])
    assert len(said) == 1
    assert said[0].startswith("05.12 18:00 central · Telegram · “Книжный клуб”: did not go out, ")
    assert "trying again at 18:00:" in said[0]


async def test_a_missed_post_says_so(tmp_path: Path) -> None:
    runner, db, clock, platforms, said = setup(tmp_path, "ru")
    clock.current = DUE + timedelta(hours=2)  # far beyond the 15 minutes' grace
    await runner.fire(publish_ids(db)["vk"])
    assert len(said) == 1 and "пропущено (время прошло)" in said[0]
    assert said[0].startswith("05.12 20:00 central · ВКонтакте")


@pytest.mark.parametrize("language", ["ru", "en"])
def test_start_and_stop_lines(tmp_path: Path, language: str) -> None:
    config = load_config(write_config(tmp_path, language=language))
    said: list[str] = []
    lines = RunLines(open_db(tmp_path / "plan.db"), config, said.append)
    lines.started(12)
    lines.stopped()
    expected = {"ru": ["Бот работает: действий в плане 12.", "Бот остановлен."],
                "en": ["The bot is running: 12 action(s)", "The bot stopped."]}[language]  # fmt: skip
    assert said[0].startswith(expected[0]) and said[1] == expected[1]
