"""A report written to its files: each format rendered, written whole, side by side.

One gathering serves every format asked for. Where forking is safe (``reports.forked``)
the formats after the first are written by forked children while this process writes
the first, so XLSX and HTML together take about as long as the XLSX alone. A file
appears whole or not at all: it is written beside its place and then renamed, and
only its owner may read it (0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import sqlite_utils

from core.config import Config
from core.errors import BibliobotError
from reports import forked
from reports.model import Report
from reports.period import Period

FORMATS = ("xlsx", "html", "csv", "md")


class NotWritten(BibliobotError):
    """A report file could not be written."""


class Target(NamedTuple):
    """A format asked for and its file (None: the screen)."""

    format: str
    path: Path | None


def from_config(
    db: sqlite_utils.Database,
    config: Config,
    period: Period,
    *,
    library_ids: list[str] | None = None,
    with_names: bool = False,
) -> Report:
    """The report as ``bibliobot report`` and the demo make it: the config's counting
    rules and language, and each library's short name (its sheet's name)."""
    from reports.figures import build_report

    report = build_report(
        db,
        period,
        config.report,
        library_ids=library_ids,
        language=config.language,
        with_names=with_names,
    )
    for lib in report.libraries:
        configured = config.library(lib.library_id)
        lib.short_name = configured.short_name if configured else ""
    return report


def render(report: Report, fmt: str) -> str | bytes:
    """The report in one format: bytes for XLSX, text for the others."""
    if fmt == "xlsx":
        from reports.xlsx import to_xlsx

        return to_xlsx(report)
    if fmt == "html":
        from reports.html import to_html

        return to_html(report)
    from reports.text import to_csv, to_markdown

    return to_csv(report) if fmt == "csv" else to_markdown(report)


def write(report: Report, fmt: str, path: Path) -> None:
    """Render and write one file, whole or not at all."""
    data = render(report, fmt)
    part = path.with_name(path.name + ".part")
    try:
        # For the owner only (0600), like the database: a report may name winners.
        with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # a .part left from before may be wider
            file.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise NotWritten(f"{path}: cannot write ({exc.strerror or exc})") from exc


def write_all(report: Report, targets: list[Target]) -> None:
    """Write each target's file; raises NotWritten naming the first file that failed."""
    if len(targets) == 1 or not forked.safe():
        for fmt, path in targets:
            write(report, fmt, path)
        return
    context = forked.context()
    children = []
    for fmt, path in targets[1:]:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(report, fmt, path, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver, path))
    failures: list[str] = []
    try:
        write(report, *targets[0])
    except NotWritten as exc:
        failures.append(str(exc))
    for child, receiver, path in children:
        child.join()
        reason = _reason(receiver)
        if reason:
            failures.append(reason)
        elif child.exitcode != 0:
            failures.append(f"{path}: not written (its writer stopped, code {child.exitcode})")
        receiver.close()
    if failures:
        raise NotWritten(failures[0])


def _reason(receiver) -> str | None:
    """What a child sent back: why its file is missing, or None (a closed pipe: all went well)."""
    try:
        return receiver.recv() if receiver.poll() else None
    except EOFError:
        return None


def _child(report: Report, fmt: str, path: Path, sender) -> None:
    """A forked writer: the file, or the reason it is missing, sent back."""
    try:
        write(report, fmt, path)
    except NotWritten as exc:
        sender.send(str(exc))
    finally:
        sender.close()
