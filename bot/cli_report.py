"""``bibliobot report``: the period report in XLSX, HTML, CSV or Markdown.

Registered on the main command group by ``bot.cli``. Every input mistake ends in
one line saying what is wrong (exit code 2), never a traceback.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from bot.cli_words import LocalCommand, config_option, option, speak, words
from core import messages
from reports.output import FORMATS, Target

SUFFIXES = {"xlsx": "xlsx", "html": "html", "htm": "html", "csv": "csv", "md": "md"}  # → format


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"bibliobot report: {message}", err=True)
    sys.exit(code)


def _date(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(messages.text("cli.report_bad_date", option=option, text=text))
    return None


def _choose_period(period: str | None, start: str | None, end: str | None):
    """The period asked for: --period, or --from and --to."""
    from reports.period import PeriodError, date_range, parse_period

    if period and (start or end):
        _fail(messages.text("cli.report_period_or_range"))
    try:
        if period:
            return parse_period(period)
        first, last = _date("--from", start), _date("--to", end)
        if first is None or last is None:
            _fail(messages.text("cli.report_which_period"))
        return date_range(first, last)
    except PeriodError as exc:
        _fail(str(exc))


def _targets(formats: tuple[str, ...], out: Path | None, label: str) -> list[Target]:
    """Each format asked for with its file (None: the screen).

    --out's suffix and the formats agree, or the command stops: a format's suffix chooses
    the format when --format is absent; a name without a suffix gets the format's; a
    folder gets report-PERIOD.<format>. One format without --out: the screen (XLSX:
    report-PERIOD.xlsx). Several: --out is the base name, else report-PERIOD.<format>.
    """
    chosen = list(dict.fromkeys(formats))
    if out is not None and out.is_dir():
        out = out / f"report-{label}"
    if out is not None and out.suffix:
        named = SUFFIXES.get(out.suffix.lower().lstrip("."))
        if named is None:
            listing = ", ".join(f".{fmt}" for fmt in FORMATS[:-1])
            listing += f" {messages.text('cli.or')} .{FORMATS[-1]}"
            _fail(
                messages.text(
                    "cli.report_not_a_format", out=out, suffix=out.suffix, listing=listing
                )
            )
        elif len(chosen) == 1 and chosen[0] != named:
            fitting = out.with_suffix(f".{chosen[0]}").name
            _fail(
                messages.text(
                    "cli.report_name_and_format",
                    out=out, named=named, chosen=chosen[0], fitting=fitting,
                )
            )  # fmt: skip
        elif chosen and named not in chosen:
            both = f" {messages.text('cli.and')} ".join(chosen)
            _fail(messages.text("cli.report_name_and_formats", out=out, named=named, chosen=both))
        chosen = chosen or [named]
    chosen = chosen or ["md"]
    if len(chosen) == 1:
        fmt = chosen[0]
        if out is None and fmt == "xlsx":
            out = Path(f"report-{label}.xlsx")
        elif out is not None and not out.suffix:
            out = out.with_name(f"{out.name}.{fmt}")
        return [Target(fmt, out)]
    base = (out.with_suffix("") if out.suffix else out) if out else Path(f"report-{label}")
    # The XLSX first: it takes longest, and the first is written by this process.
    chosen.sort(key=lambda f: f != "xlsx")
    return [Target(fmt, base.with_name(f"{base.name}.{fmt}")) for fmt in chosen]


@click.command(cls=LocalCommand, help=words("report_help"))
@config_option()
@option("--period", help=words("report_period"))
@option("--from", "start", metavar="DATE", help=words("report_from"))
@option("--to", "end", metavar="DATE", help=words("report_to"))
@option("--library", "library_ids", multiple=True, metavar="ID", help=words("opt_library"))
@option("--all", "everyone", is_flag=True, help=words("report_all"))
@option(
    "--format", "formats", type=click.Choice(FORMATS), multiple=True, help=words("report_format")
)
@option("--out", type=click.Path(path_type=Path), help=words("report_out"))
@option("--with-names", is_flag=True, help=words("report_with_names"))
def report(
    config_path: Path,
    period: str | None,
    start: str | None,
    end: str | None,
    library_ids: tuple[str, ...],
    everyone: bool,
    formats: tuple[str, ...],
    out: Path | None,
    with_names: bool,
) -> None:
    """The period report (help: the catalogue's ``cli.report_help``)."""
    from core.config_file import load_config
    from core.errors import BibliobotError, InputError, Problems
    from core.storage import open_db
    from reports.figures import NoSuchLibrary
    from reports.output import from_config

    chosen = _choose_period(period, start, end)
    if everyone and library_ids:
        _fail(messages.text("cli.report_library_or_all"))
    targets = _targets(formats, out, chosen.label.replace(" — ", "_"))
    try:
        config = load_config(config_path)
        speak(config.language)
    except Problems as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except InputError as exc:
        _fail(str(exc), 1)
    if not config.storage.exists():
        _fail(messages.text("cli.no_database_report", path=config.storage), 1)
    try:
        built = from_config(
            open_db(config.storage),
            config,
            chosen,
            library_ids=list(library_ids) or None,
            with_names=with_names,
        )
    except NoSuchLibrary as exc:
        _fail(str(exc))
    except BibliobotError as exc:
        _fail(str(exc), 1)
    if targets[0].path is None:
        from reports.output import render

        click.echo(render(built, targets[0].format))
        return
    from reports.output import write_all

    try:
        write_all(built, targets)
    except BibliobotError as exc:
        _fail(str(exc), 1)
    files = ", ".join(str(target.path) for target in targets)
    click.echo(
        messages.text(
            "cli.report_written", rows=len(built.rows), libraries=len(built.libraries), files=files
        )
    )
