"""iCalendar export of the plan (RFC 5545), for a librarian's calendar app.

``calendar_bytes`` writes one VEVENT per entry, with its local time and TZID, and
one VTIMEZONE per zone used, so the file imports the same in any calendar app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vText

PRODID = "-//bibliobot//plan//RU"
UID_DOMAIN = "bibliobot"
_UTC_KEYS = {"UTC", "Etc/UTC", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"}


@dataclass(frozen=True)
class CalendarEntry:
    """One planned post as a calendar event; ``start`` is aware."""

    uid: str
    start: datetime
    summary: str
    description: str = ""
    url: str = ""
    duration_minutes: int = 30

    def __post_init__(self) -> None:
        if not isinstance(self.uid, str) or not self.uid.strip():
            raise ValueError("uid: must be non-empty text")
        if not isinstance(self.start, datetime) or self.start.utcoffset() is None:
            raise ValueError("start: must be an aware date and time")
        if not isinstance(self.summary, str) or not self.summary.strip():
            raise ValueError("summary: must be non-empty text")
        minutes = self.duration_minutes
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise ValueError(f"duration_minutes: must be a whole number above 0, not {minutes!r}")


def calendar_bytes(entries: list[CalendarEntry], name: str, now: datetime | None = None) -> bytes:
    """The .ics file of ``entries`` (in the given order); ``now`` (aware) becomes DTSTAMP.

    A start in a named zone keeps its local time with TZID (a time in a DST gap is
    written as the real local time after the gap); any other aware start is written
    in UTC. Event UIDs are ``uid@bibliobot`` and must be unique.
    """
    stamp = datetime.now(UTC) if now is None else now
    if stamp.utcoffset() is None:
        raise ValueError("now: must be an aware date and time")
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    uids = [entry.uid for entry in entries]
    for uid in uids:
        if uids.count(uid) > 1:
            raise ValueError(f"uid: {uid!r} is used by more than one entry")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(name))  # TEXT: escaped like SUMMARY
    starts = [_start(entry.start) for entry in entries]
    zones = {s.tzinfo.key: s.tzinfo for s in starts if isinstance(s.tzinfo, ZoneInfo)}
    if zones:
        first = date(min(starts).year, 1, 1)
        last = date(max(starts).year + 2, 1, 1)
        for key in sorted(zones):  # a fixed order keeps the bytes deterministic
            calendar.add_component(Timezone.from_tzinfo(zones[key], key, first, last))
    for entry, start in zip(entries, starts, strict=True):
        end = (start.astimezone(UTC) + timedelta(minutes=entry.duration_minutes)).astimezone(
            start.tzinfo
        )
        event = Event()
        event.add("uid", f"{entry.uid}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", entry.summary)
        if entry.description:
            event.add("description", entry.description)
        if entry.url:
            event.add("url", entry.url)
        calendar.add_component(event)
    return calendar.to_ical()


def _start(moment: datetime) -> datetime:
    """The start as written: real local time in its named zone, else UTC."""
    zone: tzinfo | None = moment.tzinfo
    if isinstance(zone, ZoneInfo) and zone.key not in _UTC_KEYS:
        return moment.astimezone(UTC).astimezone(zone).replace(microsecond=0)
    return moment.astimezone(UTC).replace(microsecond=0)
