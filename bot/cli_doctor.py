"""``bibliobot doctor``: each library's setup checked on its networks, printed for a librarian.

Registered on the main command group by ``bot.cli``. Per library and network, one line per
check (✓ works, ⚠ works with less, ✗ does not) with how to fix it, then a summary; exit code 0
when nothing needed is missing, 1 otherwise. Never a traceback: a config with problems prints
them and exits 1, a network that does not answer is a failed check.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli_words import LocalCommand, Words, config_option, help_language
from core import messages

if TYPE_CHECKING:
    from bot.doctor import Diagnosis
    from core.config import Config

MARKS = {"ok": "✓", "warn": "⚠", "fail": "✗"}


class DoctorWords(Words):
    """A help text from ``doctor.toml`` (``Words`` reads ``cli.toml``), said in the help
    language of the moment it is shown."""

    def __new__(cls, key: str, **fields: object) -> DoctorWords:
        made = str.__new__(cls, messages.text_in(help_language(), f"doctor.{key}", **fields))
        made.key, made.fields = key, fields
        return made

    def now(self) -> str:
        """The text in today's help language."""
        return messages.text_in(help_language(), f"doctor.{self.key}", **self.fields)


@click.command("doctor", cls=LocalCommand, help=DoctorWords("help"))
@config_option()
def doctor(config_path: Path) -> None:
    """Check every library's setup against its networks (exit 1 when something is missing)."""
    from bot.doctor import diagnose

    config = _load(config_path)
    with messages.use_language(config.language):
        if not config.libraries:
            click.echo(messages.text("doctor.no_libraries"))
            sys.exit(1)
        click.echo(messages.text("doctor.checking", path=config.path))
        diagnosis = asyncio.run(diagnose(config, os.environ))
        _print(config, diagnosis)
        sys.exit(0 if diagnosis.healthy else 1)


def _load(config_path: Path) -> Config:
    """The config, validated; its problems printed one a line, and exit 1 (as bot.cli's)."""
    from core.config_file import load_config
    from core.errors import InputError, Problems

    try:
        return load_config(config_path)
    except Problems as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
    except InputError as exc:
        click.echo(str(exc), err=True)
    sys.exit(1)


def _print(config: Config, diagnosis: Diagnosis) -> None:
    """Library by library, network by network: a line per check, the fix under a failed one."""
    for library in config.libraries:
        click.echo("")
        click.echo(messages.text("doctor.library", name=library.name, id=library.id))
        for network in library.networks:
            checks = [
                c for c in diagnosis.checks if c.library == library.id and c.network == network
            ]
            click.echo(f"  {messages.text(f'doctor.network_{network}')}")
            for check in checks:
                click.echo(f"    {MARKS[check.status]} {check.found}")
                if check.fix:
                    key = "doctor.how_to_fix" if check.needed else "doctor.what_to_do"
                    click.echo(f"      {messages.text(key, fix=check.fix)}")
    total, warn, fail = len(diagnosis.checks), diagnosis.count("warn"), diagnosis.count("fail")
    click.echo("")
    if fail:
        click.echo(messages.text("doctor.summary_fail", fail=fail, warn=warn, total=total))
    elif warn:
        click.echo(messages.text("doctor.summary_warn", warn=warn, total=total))
    else:
        click.echo(messages.text("doctor.summary_ok", total=total))
