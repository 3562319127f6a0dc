"""iCalendar export: required properties, time zones, folding, escaping, determinism."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.ics import PRODID, CalendarEntry, calendar_bytes
from scheduler.recurrence import occurrences, parse_repeat

NOW = datetime(2026, 12, 1, 9, 15, 30, tzinfo=UTC)
MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
LONG = "Клуб любителей чтения: обсуждаем «Мастера и Маргариту», часть первая — приходите все!"


def entry(**fields: object) -> CalendarEntry:
    values: dict = {"uid": "central/club:1", "start": datetime(2026, 12, 4, 18, tzinfo=MOSCOW)}
    values["summary"] = "Книжный клуб"
    return CalendarEntry(**(values | fields))


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def test_calendar_and_events_have_the_required_properties() -> None:
    entries = [
        entry(),
        entry(uid="central/club:2", start=datetime(2026, 12, 11, 18, tzinfo=MOSCOW)),
    ]
    calendar = parse(calendar_bytes(entries, "Центральная библиотека", now=NOW))
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == PRODID == "-//bibliobot//plan//RU"
    assert str(calendar["X-WR-CALNAME"]) == "Центральная библиотека"
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        "central/club:1@bibliobot",
        "central/club:2@bibliobot",
    ]
    for event in events:
        assert event.decoded("DTSTAMP") == NOW
        assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=30)
        assert str(event["SUMMARY"]) == "Книжный клуб"
        assert "DESCRIPTION" not in event and "URL" not in event


def test_start_keeps_local_time_with_its_tzid_and_a_vtimezone() -> None:
    entries = [
        entry(start=datetime(2026, 12, 4, 18, tzinfo=ZoneInfo("Asia/Kamchatka"))),
        entry(uid="b", start=datetime(2026, 7, 4, 18, tzinfo=BERLIN), duration_minutes=90),
    ]
    data = calendar_bytes(entries, "Plan", now=NOW)
    assert b"DTSTART;TZID=Asia/Kamchatka:20261204T180000\r\n" in data
    assert b"DTSTART;TZID=Europe/Berlin:20260704T180000\r\n" in data
    assert b"DTEND;TZID=Europe/Berlin:20260704T193000\r\n" in data
    calendar = parse(data)
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == [
        "Asia/Kamchatka",
        "Europe/Berlin",
    ]
    assert calendar.get_missing_tzids() == set()
    kamchatka, berlin = calendar.walk("VEVENT")
    assert kamchatka["DTSTART"].params["TZID"] == "Asia/Kamchatka"
    assert kamchatka.decoded("DTSTART").astimezone(UTC) == datetime(2026, 12, 4, 6, tzinfo=UTC)
    assert berlin.decoded("DTSTART").astimezone(UTC) == datetime(2026, 7, 4, 16, tzinfo=UTC)


def test_vtimezone_comes_before_the_events_and_covers_dst() -> None:
    data = calendar_bytes([entry(start=datetime(2026, 3, 29, 18, tzinfo=BERLIN))], "x", now=NOW)
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    (zone,) = parse(data).walk("VTIMEZONE")
    assert {str(c["TZNAME"]) for c in zone.walk("DAYLIGHT")} == {"CEST"}
    assert {str(c["TZNAME"]) for c in zone.walk("STANDARD")} == {"CET"}


def test_occurrences_across_dst_export_with_the_same_wall_clock() -> None:
    first = datetime(2026, 3, 21, 18)
    times = occurrences(first, parse_repeat({"every": "week", "count": 3}, first), BERLIN)
    entries = [entry(uid=f"club:{i}", start=t) for i, t in enumerate(times)]
    events = parse(calendar_bytes(entries, "x", now=NOW)).walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == times
    assert [e["DTSTART"].to_ical() for e in events] == [
        b"20260321T180000",
        b"20260328T180000",
        b"20260404T180000",
    ]


def test_a_time_in_the_dst_gap_is_written_as_the_real_local_time() -> None:
    gap = datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)  # does not exist on the wall clock
    data = calendar_bytes([entry(start=gap)], "x", now=NOW)
    assert b"DTSTART;TZID=Europe/Berlin:20260329T033000\r\n" in data
    assert b"DTEND;TZID=Europe/Berlin:20260329T040000\r\n" in data


def test_utc_and_fixed_offset_starts_are_written_in_utc() -> None:
    entries = [
        entry(start=datetime(2026, 12, 4, 15, tzinfo=UTC)),
        entry(uid="b", start=datetime(2026, 12, 4, 18, tzinfo=timezone(timedelta(hours=3)))),
        entry(uid="c", start=datetime(2026, 12, 4, 15, tzinfo=ZoneInfo("UTC"))),
    ]
    data = calendar_bytes(entries, "x", now=NOW)
    assert data.count(b"DTSTART:20261204T150000Z\r\n") == 3
    assert b"VTIMEZONE" not in data


def test_description_and_url_when_given() -> None:
    url = "https://vk.com/wall-1_2?utm=ics&x=1"
    data = calendar_bytes([entry(description="Вход свободный", url=url)], "x", now=NOW)
    (event,) = parse(data).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == "Вход свободный"
    assert str(event["URL"]) == url


def test_crlf_and_folding_at_75_octets_for_long_cyrillic_text() -> None:
    data = calendar_bytes([entry(summary=LONG, description=LONG * 3)], LONG, now=NOW)
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # folded
    for line in lines:
        line.decode("utf-8")  # no fold splits a character
    (event,) = parse(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == LONG
    assert str(event["DESCRIPTION"]) == LONG * 3


def test_special_characters_are_escaped_and_round_trip() -> None:
    text = "Чтения; «Пушкин, Лермонтов»\nвход: свободный \\ 6+"
    data = calendar_bytes([entry(summary=text, description=text)], "a, b; c", now=NOW)
    unfolded = data.replace(b"\r\n ", b"")
    assert (
        "SUMMARY:Чтения\\; «Пушкин\\, Лермонтов»\\nвход: свободный \\\\ 6+\r\n".encode() in unfolded
    )
    assert b"X-WR-CALNAME:a\\, b\\; c\r\n" in unfolded
    calendar = parse(data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == str(event["DESCRIPTION"]) == text
    raw = str(calendar["X-WR-CALNAME"])  # icalendar reads an X- property without unescaping
    assert re.sub(r"\\(.)", r"\1", raw) == "a, b; c"


def test_output_is_deterministic_for_a_fixed_now() -> None:
    entries = [entry(uid=str(i), start=datetime(2026, 12, 4, 18, tzinfo=ZoneInfo(name)))
               for i, name in enumerate(["Europe/Moscow", "Asia/Kamchatka", "Europe/Berlin"])]  # fmt: skip
    assert calendar_bytes(entries, "x", now=NOW) == calendar_bytes(entries, "x", now=NOW)
    assert calendar_bytes(entries, "x", now=NOW) != calendar_bytes(
        entries, "x", now=NOW + timedelta(1)
    )


def test_output_does_not_depend_on_hash_seed() -> None:
    script = (
        "import sys; from datetime import datetime, UTC; from zoneinfo import ZoneInfo\n"
        "from scheduler.ics import CalendarEntry, calendar_bytes\n"
        "zones = ['Europe/Moscow', 'Asia/Kamchatka', 'Europe/Berlin', 'Asia/Omsk']\n"
        "entries = [CalendarEntry(str(i), datetime(2026, 12, 4, 18, tzinfo=ZoneInfo(z)), 's')"
        " for i, z in enumerate(zones)]\n"
        "sys.stdout.buffer.write(calendar_bytes(entries, 'x', now=datetime(2026, 1, 1, tzinfo=UTC)))"
    )
    root = Path(__file__).resolve().parent.parent
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_dtstamp_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    (event,) = parse(calendar_bytes([entry()], "x")).walk("VEVENT")
    assert before <= event.decoded("DTSTAMP") <= datetime.now(UTC)
    assert event["DTSTAMP"].to_ical().endswith(b"Z")


def test_empty_plan_is_a_valid_calendar() -> None:
    calendar = parse(calendar_bytes([], "x", now=NOW))
    assert str(calendar["VERSION"]) == "2.0" and calendar.walk("VEVENT") == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"uid": " "}, "uid"),
        ({"start": datetime(2026, 12, 4, 18)}, "start"),
        ({"summary": ""}, "summary"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": True}, "duration_minutes"),
    ],
)
def test_bad_entries_name_the_field(fields: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        entry(**fields)


def test_duplicate_uids_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="^uid:"):
        calendar_bytes([entry(), entry()], "x", now=NOW)
    with pytest.raises(ValueError, match="^now:"):
        calendar_bytes([entry()], "x", now=datetime(2026, 12, 1, 9))
