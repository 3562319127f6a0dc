"""Report periods: a month, a quarter, a year or a range of local dates.

A period is a range of *local* dates; each library's boundaries are its own
midnights, so an event at 23:30 local on the last day of a month belongs to
that month whatever the library's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core import messages
from core.errors import BibliobotError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(BibliobotError):
    """A period the report cannot understand; the message says what is accepted."""


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` … ``last`` (both included) and how to name them."""

    first: date
    last: date
    label: str

    @property
    def days(self) -> int:
        """How many days the period has (ERday divides by this)."""
        return (self.last - self.first).days + 1

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: the library's midnight at ``first`` and after ``last``."""
        start = datetime.combine(self.first, time(0), zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def parse_period(text: str) -> Period:
    """'2026-11', '2026-Q4' or '2026' → Period; PeriodError says what is accepted."""
    text = text.strip()
    if found := _MONTH.match(text):
        year, month = int(found.group(1)), int(found.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(messages.text("cli.period_bad_month", text=text))
        first = date(year, month, 1)
        return Period(first, _next_month(first) - timedelta(days=1), text)
    if found := _QUARTER.match(text):
        year, quarter = int(found.group(1)), int(found.group(2))
        first = date(year, 3 * quarter - 2, 1)
        last = _next_month(_next_month(_next_month(first))) - timedelta(days=1)
        return Period(first, last, f"{year}-Q{quarter}")
    if found := _YEAR.match(text):
        year = int(found.group(1))
        if year < 1:
            raise PeriodError(messages.text("cli.period_no_year", text=text))
        return Period(date(year, 1, 1), date(year, 12, 31), text)
    raise PeriodError(messages.text("cli.period_unknown", text=text))


def date_range(first: date, last: date) -> Period:
    """--from/--to as a period; PeriodError when the range is backwards."""
    if last < first:
        raise PeriodError(messages.text("cli.period_backwards", last=last, first=first))
    return Period(first, last, f"{first.isoformat()} — {last.isoformat()}")


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
