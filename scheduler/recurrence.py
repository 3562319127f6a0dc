"""Repeat rules: the ``[repeat]`` table of an event file and the times it gives.

``parse_repeat`` checks the table (RepeatError names the field); ``occurrences``
expands a rule into aware local times, keeping the wall-clock time across DST
changes; ``describe`` says a rule in Russian or English for ``bibliobot plan``.

Every time an event file gives lies within ``YEARS`` (2000 to 2100): far from the ends
of the calendar (years 1 and 9999), where a reminder before a time, or a time zone
conversion, would overflow.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as rr

from core.messages import language, text
from core.tomlfile import key_name, unknown_key

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEYS = ("every", "interval", "weekdays", "nth_weekday", "until", "count", "skip")
MAX_OCCURRENCES = 1000
MAX_INTERVAL = 100
YEARS = (2000, 2100)  # the first and the last year an event may be in
_FREQ = {"day": rr.DAILY, "week": rr.WEEKLY, "month": rr.MONTHLY}
_NTH = re.compile(r"^(-?[1-5])(mon|tue|wed|thu|fri|sat|sun)$")


class RepeatError(ValueError):
    """A bad ``[repeat]`` table; ``field`` names the key, e.g. ``repeat.weekdays``."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Recurrence:
    """How an event repeats from its first time ``at``; ``parse_repeat`` fills the defaults.

    ``weekdays`` (week) and ``month_day`` (month without ``nth_weekday``) are empty/None
    only when built by hand; ``occurrences`` then takes them from ``at``. A month without
    the day (the 31st, a fifth Monday) has no occurrence and does not count toward
    ``count`` (RFC 5545); ``skip`` dates give no occurrence but do count (like EXDATE).
    """

    every: str  # "day" | "week" | "month"
    interval: int = 1
    weekdays: tuple[str, ...] = ()  # week: "mon".."sun", in week order
    nth_weekday: str | None = None  # month: "1mon" first Monday, "-1fri" last Friday
    month_day: int | None = None  # month without nth_weekday: day of month (1..31)
    until: date | None = None  # last local date, inclusive
    count: int | None = None
    skip: tuple[date, ...] = ()  # local dates, sorted

    def to_rrule_text(self, zone: ZoneInfo | None = None) -> str:
        """The RFC 5545 RRULE value; with ``zone`` UNTIL is in UTC, as a TZID'd DTSTART needs.

        Skip dates are not part of an RRULE: export them as EXDATE.
        """
        parts = [f"FREQ={rr.FREQNAMES[_FREQ[self.every]]}", f"INTERVAL={self.interval}"]
        if self.every == "week" and self.weekdays:
            parts.append("BYDAY=" + ",".join(day[:2].upper() for day in self.weekdays))
        if self.nth_weekday:
            nth, day = _split_nth(self.nth_weekday)
            parts.append(f"BYDAY={nth}{WEEKDAYS[day][:2].upper()}")
        elif self.every == "month" and self.month_day:
            parts.append(f"BYMONTHDAY={self.month_day}")
        parts.append("WKST=MO")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        elif self.until is not None:
            end = datetime.combine(self.until, time(23, 59, 59))
            if zone is None:
                parts.append(f"UNTIL={end:%Y%m%dT%H%M%S}")
            else:
                parts.append(f"UNTIL={_localize(end, zone).astimezone(UTC):%Y%m%dT%H%M%SZ}")
        return ";".join(parts)


def parse_repeat(table: Any, first: datetime) -> Recurrence:
    """Check an event's ``[repeat]`` table; ``first`` is its ``at`` (its wall clock is used)."""
    if not isinstance(table, dict):
        raise RepeatError("repeat", text("events.repeat_table"))
    for key in table:
        if key not in KEYS:
            where = text("events.in_repeat")
            raise RepeatError(f"repeat.{key_name(key)}", unknown_key(key, KEYS, where))
    every = table.get("every")
    if every is None:
        raise RepeatError("repeat.every", text("events.every_required"))
    if not isinstance(every, str) or every not in _FREQ:
        raise RepeatError("repeat.every", text("events.every_form", value=repr(every)))
    start = first.replace(tzinfo=None)
    interval = _whole(table, "interval", MAX_INTERVAL) if "interval" in table else 1
    weekdays, nth, month_day = (), None, None
    if "weekdays" in table:
        if every != "week":
            raise RepeatError("repeat.weekdays", text("events.only_weekly"))
        weekdays = _weekdays(table["weekdays"])
        if WEEKDAYS[start.weekday()] not in weekdays:
            day = _day_name(start.weekday())
            raise RepeatError(
                "repeat.weekdays",
                text("events.at_not_weekday", date=f"{start:%Y-%m-%d}", day=day),
            )
    elif every == "week":
        weekdays = (WEEKDAYS[start.weekday()],)
    if "nth_weekday" in table:
        if every != "month":
            raise RepeatError("repeat.nth_weekday", text("events.only_monthly"))
        nth = table["nth_weekday"]
        if not isinstance(nth, str) or not _NTH.match(nth := nth.strip().lower()):
            raise RepeatError("repeat.nth_weekday", text("events.nth_form", value=repr(nth)))
        if _nth_date(start.date(), nth) != start.date():
            raise RepeatError("repeat.nth_weekday", text("events.at_not_nth", nth=_nth_name(nth)))
    elif every == "month":
        month_day = start.day
    until = _date(table["until"], "repeat.until") if "until" in table else None
    count = _whole(table, "count", MAX_OCCURRENCES) if "count" in table else None
    if until is not None and count is not None:
        raise RepeatError("repeat.count", text("events.until_or_count"))
    if until is None and count is None:
        raise RepeatError("repeat.until", text("events.until_needed"))
    if until is not None and until < start.date():
        first_day = f"{start:%Y-%m-%d}"
        raise RepeatError("repeat.until", text("events.until_before", until=until, first=first_day))
    skip = table.get("skip", [])
    if not isinstance(skip, list):
        raise RepeatError("repeat.skip", text("events.skip_list"))
    skipped = tuple(sorted({_date(value, "repeat.skip") for value in skip}))
    rule = Recurrence(every, interval, weekdays, nth, month_day, until, count, skipped)
    dates = [moment.date() for moment in itertools.islice(_times(start, rule), MAX_OCCURRENCES + 1)]
    if len(dates) > MAX_OCCURRENCES:
        raise RepeatError("repeat.until", text("events.too_many_times", most=MAX_OCCURRENCES))
    late = next((day for day in dates if day.year > YEARS[1]), None)
    if late is not None:
        raise RepeatError(
            "repeat.until" if count is None else "repeat.count",
            text("events.past_years", first=YEARS[0], last=YEARS[1], late=late),
        )
    for day in skipped:
        if day not in dates:
            raise RepeatError("repeat.skip", text("events.skip_not_date", day=day))
    if len(skipped) == len(dates):
        raise RepeatError("repeat.skip", text("events.skips_all"))
    return rule


def occurrences(
    first: datetime, rule: Recurrence | None, zone: ZoneInfo, limit: int = MAX_OCCURRENCES
) -> list[datetime]:
    """The first ``limit`` times (aware, in ``zone``, sorted) from local ``first``, skips left out.

    ``first`` is naive local time (an aware one must already be in ``zone``). Each time
    keeps the wall clock of ``first``: 18:00 stays 18:00 across DST changes. A time that
    does not exist (a spring-forward gap) moves on by the gap, 02:30 -> 03:30; an
    ambiguous one (fall-back) is the earlier instant (fold=0).
    """
    if first.tzinfo is not None:
        if getattr(first.tzinfo, "key", None) != zone.key:
            raise ValueError(f"first: give naive local time, not a time in {first.tzinfo}")
        first = first.replace(tzinfo=None)
    if rule is None:
        return [_localize(first, zone)]
    skip = set(rule.skip)
    naive = (moment for moment in _times(first, rule) if moment.date() not in skip)
    return sorted(_localize(moment, zone) for moment in itertools.islice(naive, limit))


def _times(start: datetime, rule: Recurrence) -> Iterator[datetime]:
    """Naive local times of ``rule`` from ``start``, skip dates included."""
    options: dict[str, Any] = {"dtstart": start, "interval": rule.interval, "wkst": rr.MO}
    if rule.every == "week":
        days = rule.weekdays or (WEEKDAYS[start.weekday()],)
        options["byweekday"] = [WEEKDAYS.index(day) for day in days]
    elif rule.every == "month" and rule.nth_weekday:
        nth, day = _split_nth(rule.nth_weekday)
        options["byweekday"] = rr.weekday(day, nth)
    elif rule.every == "month":
        options["bymonthday"] = rule.month_day or start.day
    if rule.count is not None:
        options["count"] = rule.count
    elif rule.until is not None:
        options["until"] = datetime.combine(rule.until, time.max)
    return iter(rr.rrule(_FREQ[rule.every], **options))


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """Wall-clock time in ``zone``: gaps move forward by their length, overlaps take fold=0."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _nth_date(day: date, nth: str) -> date | None:
    """The date ``nth`` (e.g. "-1fri") gives in the month of ``day``, if any."""
    number, weekday = _split_nth(nth)
    start = datetime(day.year, day.month, 1)
    rule = rr.rrule(rr.MONTHLY, dtstart=start, count=1, byweekday=rr.weekday(weekday, number))
    found = next(iter(rule)).date()
    return found if (found.year, found.month) == (day.year, day.month) else None


def _split_nth(nth: str) -> tuple[int, int]:
    match = _NTH.match(nth)
    assert match, nth
    return int(match[1]), WEEKDAYS.index(match[2])


def _whole(table: dict, key: str, most: int) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise RepeatError(f"repeat.{key}", text("events.whole_not", high=most, value=repr(value)))
    return value


def _weekdays(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise RepeatError("repeat.weekdays", text("events.weekdays_list"))
    days = {v.strip().lower() for v in value}
    for day in sorted(days):
        if day not in WEEKDAYS:
            raise RepeatError(
                "repeat.weekdays",
                text("events.unknown_day", value=repr(day), known=", ".join(WEEKDAYS)),
            )
    return tuple(day for day in WEEKDAYS if day in days)


def _date(value: Any, field: str) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise RepeatError(field, text("events.not_date", value=repr(value))) from None
    if isinstance(value, datetime):
        raise RepeatError(field, text("events.date_has_time", value=value))
    if not isinstance(value, date):
        raise RepeatError(field, text("events.not_date", value=repr(value)))
    return value


# Human text --------------------------------------------------------------------------

_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# fmt: off
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря")
_RU_DAYS_DAT = ("понедельникам", "вторникам", "средам", "четвергам", "пятницам", "субботам",
                "воскресеньям")
_EN_NTH = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_RU_GENDER = (0, 0, 1, 0, 1, 1, 2)  # masculine, feminine, neuter for mon..sun
_RU_EACH = ("каждый", "каждую", "каждое")
_RU_DAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
_RU_DAYS_ACC = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")
_RU_NTH = {1: ("первый", "первую", "первое"), 2: ("второй", "вторую", "второе"),
           3: ("третий", "третью", "третье"), 4: ("четвёртый", "четвёртую", "четвёртое"),
           5: ("пятый", "пятую", "пятое"), -1: ("последний", "последнюю", "последнее"),
           -2: ("предпоследний", "предпоследнюю", "предпоследнее")}
# fmt: on


def describe(rule: Recurrence | None, language: str) -> str:
    """Short human text: "каждую пятницу, 7 раз" / "every Friday, 7 times"."""
    if language not in ("ru", "en"):
        raise ValueError(f"language: {language!r} is not 'ru' or 'en'")
    if language == "en":
        return "once" if rule is None else _en_head(rule) + _en_tail(rule)
    return "однократно" if rule is None else _ru_head(rule) + _ru_tail(rule)


def _en_head(rule: Recurrence) -> str:
    n, days = rule.interval, [WEEKDAYS.index(day) for day in rule.weekdays]
    head = f"every {rule.every}" if n == 1 else f"every {n} {rule.every}s"
    if rule.every == "week" and days:
        names = _join([_EN_DAYS[d] for d in days], "and")
        return f"every {names}" if n == 1 else f"{head} on {names}"
    if rule.every == "month" and rule.nth_weekday:
        return f"{head} on the {_en_nth(rule.nth_weekday)}"
    if rule.every == "month" and rule.month_day:
        return f"{head} on the {_en_ordinal(rule.month_day)}"
    return head


def _en_tail(rule: Recurrence) -> str:
    tail = ""
    if rule.count is not None:
        tail = ", once" if rule.count == 1 else f", {rule.count} times"
    elif rule.until is not None:
        tail = f", until {_en_date(rule.until)}"
    if len(rule.skip) > 3:
        tail += f", except {len(rule.skip)} dates"
    elif rule.skip:
        tail += f", except {_join([_en_date(d) for d in rule.skip], 'and')}"
    return tail


def _ru_head(rule: Recurrence) -> str:
    n, days = rule.interval, [WEEKDAYS.index(day) for day in rule.weekdays]
    if rule.every == "day":
        return _ru_every(n, "каждый день", "день", "дня", "дней")
    if rule.every == "week":
        if n == 1 and len(days) == 1:
            return f"{_RU_EACH[_RU_GENDER[days[0]]]} {_RU_DAYS_ACC[days[0]]}"
        head = _ru_every(n, "каждую неделю", "неделю", "недели", "недель")
        names = "по " + _join([_RU_DAYS_DAT[d] for d in days], "и") if days else ""
        return (names or head) if n == 1 else f"{head} {names}".strip()
    head = _ru_every(n, "каждый месяц", "месяц", "месяца", "месяцев")
    if rule.nth_weekday:
        nth, day = _split_nth(rule.nth_weekday)
        ordinal = _RU_NTH[nth if nth in _RU_NTH else -nth][_RU_GENDER[day]]
        ordinal += "" if nth in _RU_NTH else " с конца"
        preposition = "во" if ordinal.startswith("втор") else "в"
        return f"{head} {preposition} {ordinal} {_RU_DAYS_ACC[day]}"
    return f"{head} {rule.month_day}-го числа" if rule.month_day else head


def _ru_tail(rule: Recurrence) -> str:
    tail = ""
    if rule.count is not None:
        tail = f", {rule.count} {_ru_plural(rule.count, 'раз', 'раза', 'раз')}"
    elif rule.until is not None:
        tail = f", до {_ru_date(rule.until)} включительно"
    if len(rule.skip) > 3:
        tail += f", кроме {len(rule.skip)} {_ru_plural(len(rule.skip), 'даты', 'дат', 'дат')}"
    elif rule.skip:
        tail += f", кроме {_join([_ru_date(d) for d in rule.skip], 'и')}"
    return tail


def _day_name(day: int) -> str:
    """A weekday's name in the language in hand: "пятница", "Friday"."""
    return _RU_DAYS[day] if language() == "ru" else _EN_DAYS[day]


def _nth_name(nth: str) -> str:
    """ "-1fri" in the language in hand: "последнюю пятницу", "last Friday"."""
    if language() != "ru":
        return _en_nth(nth)
    number, day = _split_nth(nth)
    ordinal = _RU_NTH[number if number in _RU_NTH else -number][_RU_GENDER[day]]
    ordinal += "" if number in _RU_NTH else " с конца"
    return f"{ordinal} {_RU_DAYS_ACC[day]}"


def _en_nth(nth: str) -> str:
    number, day = _split_nth(nth)
    word = _EN_NTH[number] if number in _EN_NTH else f"{_EN_NTH[-number]}-to-last"
    return f"{word} {_EN_DAYS[day]}"


def _en_ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _en_date(day: date) -> str:
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def _ru_date(day: date) -> str:
    return f"{day.day} {_RU_MONTHS[day.month - 1]} {day.year}"


def _ru_every(n: int, each: str, one: str, few: str, many: str) -> str:
    return each if n == 1 else f"раз в {n} {_ru_plural(n, one, few, many)}"


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many


def _join(items: list[str], conjunction: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
