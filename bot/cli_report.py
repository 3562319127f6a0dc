"""``bibliobot report``: the period report in XLSX, HTML, CSV or Markdown.

Registered on the main command group by ``bot.cli``. Every input mistake ends in
one line saying what is wrong (exit code 2), never a traceback.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click

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
        _fail(f"{option} {text!r}: expected a date such as 2026-11-30 (YYYY-MM-DD)")
    return None


def _choose_period(period: str | None, start: str | None, end: str | None):
    """The period asked for: --period, or --from and --to."""
    from reports.period import PeriodError, date_range, parse_period

    if period and (start or end):
        _fail("give either --period or --from/--to, not both")
    try:
        if period:
            return parse_period(period)
        first, last = _date("--from", start), _date("--to", end)
        if first is None or last is None:
            _fail("say which period: --period 2026-11 | 2026-Q4 | 2026, or --from DATE --to DATE")
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
            listing = ", ".join(f".{fmt}" for fmt in FORMATS[:-1]) + f" or .{FORMATS[-1]}"
            _fail(f"--out {out}: {out.suffix} is not a report format; use {listing}")
        elif len(chosen) == 1 and chosen[0] != named:
            fitting = out.with_suffix(f".{chosen[0]}").name
            _fail(
                f"--out {out}: the name says {named}, --format says {chosen[0]}; "
                f"name it {fitting} or drop --format"
            )
        elif chosen and named not in chosen:
            _fail(
                f"--out {out}: the name says {named}, --format says {' and '.join(chosen)}; "
                "give a base name without a suffix"
            )
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


@click.command()
@click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(path_type=Path),
    default=lambda: os.environ.get("BIBLIOBOT_CONFIG", "config.toml"),
    show_default="$BIBLIOBOT_CONFIG or config.toml",
    help="Configuration file.",
)
@click.option("--period", help="A month (2026-11), a quarter (2026-Q4) or a year (2026).")
@click.option("--from", "start", metavar="DATE", help="First local day, YYYY-MM-DD.")
@click.option("--to", "end", metavar="DATE", help="Last local day, YYYY-MM-DD.")
@click.option("--library", "library_ids", multiple=True, metavar="ID", help="Only this library.")
@click.option("--all", "everyone", is_flag=True, help="Every library, with a network roll-up.")
@click.option(
    "--format",
    "formats",
    type=click.Choice(FORMATS),
    multiple=True,
    help="Output format, may be given again for more files "
    "(default: from --out's suffix, else md).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write here instead of the screen; the suffix must fit the format, "
    "and is added when missing.",
)
@click.option("--with-names", is_flag=True, help="Show winners' names (personal data).")
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
    """The period report: summary, events, diary export, 6-НК figures, charts.

    Periods are each library's local dates. CSV is UTF-8 with a BOM, ';' between
    fields and a header row (Excel opens it as is); XLSX without --out is written
    to report-PERIOD.xlsx. --out's suffix chooses the format (.xlsx, .html, .csv, .md),
    is added when missing, and must fit --format. --format may be given more than once:
    one gathering, a file per format, named by --out without its suffix (else
    report-PERIOD.<format>).
    """
    from core.config_file import load_config
    from core.errors import BibliobotError, InputError, Problems
    from core.storage import open_db
    from reports.figures import NoSuchLibrary
    from reports.output import from_config

    chosen = _choose_period(period, start, end)
    if everyone and library_ids:
        _fail("give either --library or --all, not both")
    targets = _targets(formats, out, chosen.label.replace(" — ", "_"))
    try:
        config = load_config(config_path)
    except Problems as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except InputError as exc:
        _fail(str(exc), 1)
    if not config.storage.exists():
        _fail(f"{config.storage}: no database yet; run `bibliobot plan` or `bibliobot run`", 1)
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
    click.echo(f"{len(built.rows)} event row(s), {len(built.libraries)} library(ies) → {files}")
