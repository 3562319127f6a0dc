"""``bibliobot import``: a spreadsheet of quiz questions becomes a quiz event file."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from bot.cli_words import LocalCommand, option, speak, words
from core import messages, networks
from core.config import parse_duration
from core.errors import InputError, Problems
from core.quiz_model import MODES

_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # as event file names must be


@click.command("import", cls=LocalCommand, help=words("import_help"))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--out", type=click.Path(dir_okay=False, path_type=Path), help=words("import_out"))
@option("--sheet", help=words("import_sheet"))
@option("--library", "library_id", help=words("import_library"))
@option("--title", default="Викторина", show_default=True, help=words("import_title"))
@option(
    "--mode", type=click.Choice(MODES), default="live", show_default=True, help=words("import_mode")
)
@option("--at", "at", required=True, help=words("import_at"))
@option("--networks", "networks_text", help=words("import_networks"))
@option("--interval", help=words("import_interval"))
@option("--text", help=words("import_text"))
@option("--force", is_flag=True, help=words("import_force"))
@option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=words("import_config"),
)
def import_command(
    source: Path,
    out: Path | None,
    sheet: str | None,
    library_id: str | None,
    title: str,
    mode: str,
    at: str,
    networks_text: str | None,
    interval: str | None,
    text: str | None,
    force: bool,
    config_path: Path | None,
) -> None:
    """A spreadsheet of questions becomes a quiz event file (help: ``cli.import_help``)."""
    from bot.quiz.importer import ImportFailed, QuizHeader, import_quiz

    config = _config(config_path)
    library_id = library_id or _only_library(config)
    if config is not None and config.library(library_id) is None:
        known = ", ".join(lib.id for lib in config.libraries)
        _fail([messages.text("cli.no_library", library=library_id, known=known)], 2)
    try:
        when = datetime.fromisoformat(at.strip().replace(" ", "T"))
    except ValueError:
        _fail([messages.text("cli.import_bad_at", at=at)])
    if when.tzinfo is not None:
        _fail([messages.text("cli.import_at_offset")])
    chosen = tuple(n.strip() for n in (networks_text or "").split(",") if n.strip())
    if any(n not in networks.names() for n in chosen):
        choices = ", ".join(networks.names())
        _fail([messages.text("cli.import_bad_networks", networks=networks_text, choices=choices)])
    if interval and parse_duration(interval) is None:
        _fail([messages.text("cli.import_bad_interval", interval=interval)])
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
    where = messages.text("cli.import_sheet_named", sheet=imported.sheet) if imported.sheet else ""
    count = len(imported.questions)
    done = messages.text(
        "cli.import_done", out=out, count=count, source=source.name, where=where, mode=mode
    )
    click.echo(done)
    if config is None and not named:
        click.echo(messages.text("cli.import_no_config", config=_default_config()))


def _config(path: Path | None):
    """The config named by -c (must load), else $BIBLIOBOT_CONFIG or config.toml if present."""
    from core.config_file import load_config

    if path is None:
        path = _default_config()
        if not path.is_file():
            return None
    try:
        config = load_config(path)
        speak(config.language)
        return config
    except Problems as exc:
        _fail([str(p) for p in exc.problems])
    except InputError as exc:
        _fail([str(exc)])


def _default_config() -> Path:
    return Path(os.environ.get("BIBLIOBOT_CONFIG", "config.toml"))


def _only_library(config) -> str:
    if config is not None and len(config.libraries) == 1:
        return config.libraries[0].id
    ids = ", ".join(lib.id for lib in config.libraries) if config else ""
    known = messages.text("cli.import_known", known=ids) if ids else ""
    _fail([messages.text("cli.import_which_library", known=known)], 2)


def _fail(problems: list[str], code: int = 1) -> NoReturn:
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(code)
