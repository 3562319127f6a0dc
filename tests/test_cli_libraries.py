"""An unknown library id is refused by every command that takes one, naming the known ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

TOKENS = {TG_ENV: "1:x", VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c"}


@pytest.fixture
def planned(tmp_path: Path) -> Path:
    """A config whose plan holds one event of the library "central"."""
    config = write_config(tmp_path)
    write_event(tmp_path, at="2099-01-01T10:00:00")
    assert CliRunner().invoke(main, ["plan", "-c", str(config)]).exit_code == 0
    return config


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--library", "nope"],
        ["plan", "--library", "nope", "--ics", "{folder}/x.ics"],
        ["collect", "--library", "nope"],
        ["pause", "nope"],
        ["resume", "nope"],
        ["cancel", "nope/club"],
        ["report", "--period", "2026-11", "--library", "nope"],
        ["import", "questions.csv", "--library", "nope", "--at", "2026-12-05T18:00"],
    ],
    ids=lambda args: args[0] + ("-ics" if "--ics" in args else ""),
)
def test_an_unknown_library_is_one_line_naming_the_known_ones(
    planned: Path, args: list[str]
) -> None:
    source = planned.parent / "questions.csv"
    source.write_text("Вопрос;Ответы\nСтолица России?;Москва\n", encoding="utf-8")
    args = [a if a != "questions.csv" else str(source) for a in args]
    args = [a.format(folder=planned.parent) for a in args]
    result = CliRunner().invoke(main, [*args, "-c", str(planned)], env=TOKENS)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "библиотеки «nope»" in lines[0] and "есть: central" in lines[0]
    assert not (planned.parent / "x.ics").exists()


def test_an_unknown_event_of_a_known_library_is_still_named(planned: Path) -> None:
    result = CliRunner().invoke(main, ["cancel", "-c", str(planned), "central/nope"])
    assert result.exit_code == 1 and "мероприятия «central/nope» в плане нет" in result.stderr
