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

FORMATS = ("xlsx", "html", "csv", "md")


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


def _format(fmt: str | None, out: Path | None) -> str:
    if fmt:
        return fmt
    suffix = out.suffix.lower().lstrip(".") if out else ""
    return suffix if suffix in FORMATS else "md"


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
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format (default: from --out's suffix, else md).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write here instead of the screen.")
@click.option("--with-names", is_flag=True, help="Show winners' names (personal data).")
def report(
    config_path: Path,
    period: str | None,
    start: str | None,
    end: str | None,
    library_ids: tuple[str, ...],
    everyone: bool,
    fmt: str | None,
    out: Path | None,
    with_names: bool,
) -> None:
    """The period report: summary, events, diary export, 6-НК figures, charts.

    Periods are each library's local dates. CSV is UTF-8 with a BOM, ';' between
    fields and a header row (Excel opens it as is); XLSX without --out is written
    to report-PERIOD.xlsx.
    """
    from bot.config import load_config
    from bot.errors import BibliobotError, InputError, Problems
    from bot.storage import open_db
    from reports.figures import build_report

    chosen = _choose_period(period, start, end)
    if everyone and library_ids:
        _fail("give either --library or --all, not both")
    fmt = _format(fmt, out)
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
        built = build_report(
            open_db(config.storage),
            chosen,
            config.report,
            library_ids=list(library_ids) or None,
            language=config.language,
            with_names=with_names,
        )
    except BibliobotError as exc:
        _fail(str(exc), 1)
    data = render(built, fmt)
    if fmt == "xlsx" and out is None:
        out = Path(f"report-{chosen.label.replace(' — ', '_')}.xlsx")
    if out is None:
        click.echo(data)
        return
    try:
        if isinstance(data, bytes):
            out.write_bytes(data)
        else:
            # newline="" keeps the CSV's CRLF as written
            out.write_text(data, encoding="utf-8", newline="")
    except OSError as exc:
        _fail(f"{out}: cannot write ({exc.strerror})", 1)
    click.echo(f"{len(built.rows)} event row(s), {len(built.libraries)} library(ies) → {out}")


def render(built, fmt: str) -> str | bytes:
    """The report in one format: bytes for XLSX, text for the others."""
    if fmt == "xlsx":
        from reports.xlsx import to_xlsx

        return to_xlsx(built)
    if fmt == "html":
        from reports.html import to_html

        return to_html(built)
    from reports.text import to_csv, to_markdown

    return to_csv(built) if fmt == "csv" else to_markdown(built)
