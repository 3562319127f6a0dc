"""``bibliobot import``: a spreadsheet of quiz questions becomes a quiz event file."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from core.config import parse_duration
from core.errors import InputError, Problems
from core.quiz_model import MODES

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # as event file names must be


@click.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Event file to write (default: in the config's events folder).",
)
@click.option(
    "--sheet", help="The workbook's sheet to read (default: the one with a Вопрос column)."
)
@click.option("--library", "library_id", help="Library id (default: the config's only library).")
@click.option("--title", default="Викторина", show_default=True, help="Quiz title.")
@click.option("--mode", type=click.Choice(MODES), default="live", show_default=True)
@click.option("--at", "at", required=True, help="Local time of the intro post, 2026-12-05T18:00.")
@click.option("--networks", help="Comma-separated, e.g. telegram,vk (default: the library's).")
@click.option("--interval", help='Between questions, e.g. "2m" (default: per mode).')
@click.option("--text", help="Intro post text (default: a short invitation).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config to check the library and the written file against "
    "(default: $BIBLIOBOT_CONFIG or config.toml, when present).",
)
def import_command(
    source: Path,
    out: Path | None,
    sheet: str | None,
    library_id: str | None,
    title: str,
    mode: str,
    at: str,
    networks: str | None,
    interval: str | None,
    text: str | None,
    force: bool,
    config_path: Path | None,
) -> None:
    """Turn a spreadsheet of questions (.xlsx or .csv) into a quiz event file.

    \b
    Columns (first row; Russian or English headers):
      Вопрос / question           the question (required)
      Вариант 1…12 / option1…12   options, without gaps
      Правильный / correct        right option number(s): 2 or 1;3
      Ответы / answers            typed answers that count, separated by ;
      Пояснение / explanation     optional, up to 200 characters
      Баллы / points              optional, 1–100
      Картинка / image            optional PNG/JPEG next to the table
      № / number                  optional, ignored
    Of a workbook, the sheet whose first row holds these headers is read (several such
    sheets: name one with --sheet). Without --out the file goes into the config's events
    folder. Every bad row is listed; nothing is written unless all rows are good.
    """
    from bot.quiz.importer import ImportFailed, QuizHeader, import_quiz

    config = _config(config_path)
    library_id = library_id or _only_library(config)
    if config is not None and config.library(library_id) is None:
        known = ", ".join(lib.id for lib in config.libraries)
        _fail([f"no library {library_id!r} in the config; known: {known}"], 2)
    try:
        when = datetime.fromisoformat(at.strip().replace(" ", "T"))
    except ValueError:
        _fail([f"--at: {at!r} is not a local date and time like 2026-12-05T18:00"])
    if when.tzinfo is not None:
        _fail(["--at: write local time without an offset; the library's zone applies"])
    chosen = tuple(n.strip() for n in (networks or "").split(",") if n.strip())
    if any(n not in ("telegram", "vk") for n in chosen):
        _fail([f"--networks: {networks!r}; use telegram, vk or telegram,vk"])
    if interval and parse_duration(interval) is None:
        _fail([f'--interval: {interval!r} is not a duration such as "45s", "2m" or "1d"'])
    named = out is not None
    if out is None:
        folder = config.events_dir if config is not None else source.parent
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / source.with_suffix(".toml").name
    if not _STEM.match(out.stem):  # "вопросы.xlsx": event file names are latin
        out = out.with_name(f"quiz-{when:%Y-%m-%d}.toml")
    header = QuizHeader(library_id, title, when, mode, text or "", chosen, interval or "")
    try:
        imported = import_quiz(source, out, header, config, force, sheet)
    except ImportFailed as exc:
        _fail(exc.problems)
    where = f", sheet «{imported.sheet}»" if imported.sheet else ""
    count = len(imported.questions)
    click.echo(f"{out}: {count} question(s) from {source.name}{where}, mode {mode}")
    if config is None and not named:
        click.echo(
            f"no config ({_default_config()}), so it is next to the table; "
            "move it into the events folder"
        )


def _config(path: Path | None):
    """The config named by -c (must load), else $BIBLIOBOT_CONFIG or config.toml if present."""
    from core.config_file import load_config

    if path is None:
        path = _default_config()
        if not path.is_file():
            return None
    try:
        return load_config(path)
    except Problems as exc:
        _fail([str(p) for p in exc.problems])
    except InputError as exc:
        _fail([str(exc)])


def _default_config() -> Path:
    return Path(os.environ.get("BIBLIOBOT_CONFIG", "config.toml"))


def _only_library(config) -> str:
    if config is not None and len(config.libraries) == 1:
        return config.libraries[0].id
    known = f"; known: {', '.join(lib.id for lib in config.libraries)}" if config else ""
    _fail([f"--library is needed: which library runs the quiz?{known}"], 2)


def _fail(problems: list[str], code: int = 1) -> NoReturn:
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(code)
