"""What the CLI and the admin chat both do to the plan: cancel, pause, write a report.

One place for each, so a cancel from the chat and one from the shell leave the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlite_utils

from core.config import Config
from core.storage import to_db
from reports.period import Period, parse_period

PERIOD_WORDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class BuiltReport:
    """A report's XLSX and HTML files."""

    xlsx: Path
    html: Path


def cancel_event(db: sqlite_utils.Database, event_id: str, now: datetime, actor: str) -> int:
    """Cancel ``event_id``: its pending actions are dropped; returns how many."""
    from scheduler.plan import cancel_event as cancel

    return cancel(db, event_id, to_db(now), f"cancelled by {actor}")


def set_paused(db: sqlite_utils.Database, library_id: str, paused: bool) -> None:
    """Pause or resume a library's posting."""
    from scheduler.plan import set_paused as pause

    pause(db, library_id, paused)


def current_period(word: str, today: date) -> Period:
    """The month, quarter or year holding ``today`` (a period's text like 2026-11 too)."""
    if word == "month":
        return parse_period(f"{today:%Y-%m}")
    if word == "quarter":
        return parse_period(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    if word == "year":
        return parse_period(f"{today.year}")
    return parse_period(word)


def build_report(
    db: sqlite_utils.Database, config: Config, period: Period, library_id: str, folder: Path
) -> BuiltReport:
    """One library's report for ``period`` as XLSX and HTML files in ``folder``."""
    from reports.output import Target, from_config, write_all

    built = from_config(db, config, period, library_ids=[library_id])
    stem = f"report-{library_id}-{period.label.replace(' — ', '_')}"
    xlsx, html = folder / f"{stem}.xlsx", folder / f"{stem}.html"
    write_all(built, [Target("xlsx", xlsx), Target("html", html)])
    return BuiltReport(xlsx, html)
