"""Repeat rules: every supported shape, skips, month ends, DST and Russian zones, each error."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as rr

from scheduler.recurrence import (
    Recurrence,
    RepeatError,
    describe,
    occurrences,
    parse_repeat,
)

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def times(first: str, table: dict, zone: ZoneInfo = MOSCOW) -> list[datetime]:
    return occurrences(at(first), parse_repeat(table, at(first)), zone)


def local(moments: list[datetime]) -> list[str]:
    return [m.strftime("%Y-%m-%d %H:%M%z") for m in moments]


def test_every_friday_at_18() -> None:
    got = times("2026-12-04T18:00", {"every": "week", "count": 3})
    assert local(got) == ["2026-12-04 18:00+0300", "2026-12-11 18:00+0300", "2026-12-18 18:00+0300"]
    assert all(m.tzinfo is MOSCOW for m in got)


def test_first_monday_of_each_month() -> None:
    got = times("2027-01-04T10:30", {"every": "month", "nth_weekday": "1mon", "count": 4})
    assert [m.date() for m in got] == [
        date(2027, 1, 4),
        date(2027, 2, 1),
        date(2027, 3, 1),
        date(2027, 4, 5),
    ]
    assert {(m.hour, m.minute) for m in got} == {(10, 30)}


def test_last_friday_of_each_month() -> None:
    got = times("2026-12-25T18:00", {"every": "month", "nth_weekday": "-1FRI", "count": 4})
    assert [m.date() for m in got] == [
        date(2026, 12, 25),
        date(2027, 1, 29),
        date(2027, 2, 26),
        date(2027, 3, 26),
    ]


def test_every_day_for_seven_days() -> None:
    got = times("2026-12-28T09:00", {"every": "day", "count": 7})
    assert [m.date() for m in got] == [date(2026, 12, 28) + timedelta(days=i) for i in range(7)]


def test_every_two_weeks_on_tuesday_and_thursday_until_a_date() -> None:
    table = {
        "every": "week",
        "interval": 2,
        "weekdays": ["thu", "tue"],
        "until": date(2026, 12, 31),
    }
    got = times("2026-12-01T18:00", table)
    assert [m.day for m in got] == [1, 3, 15, 17, 29, 31]  # the until date is inclusive


def test_skip_dates_give_no_occurrence_but_count() -> None:
    table = {"every": "week", "count": 4, "skip": [date(2026, 12, 11), "2026-12-25"]}
    got = times("2026-12-04T18:00", table)
    assert [m.day for m in got] == [4, 18]


def test_the_first_time_itself_can_be_skipped() -> None:
    got = times("2026-12-04T18:00", {"every": "day", "count": 2, "skip": [date(2026, 12, 4)]})
    assert [m.day for m in got] == [5]


def test_month_day_31_skips_short_months() -> None:
    got = times("2027-01-31T12:00", {"every": "month", "count": 4})
    assert [m.date() for m in got] == [
        date(2027, 1, 31),
        date(2027, 3, 31),
        date(2027, 5, 31),
        date(2027, 7, 31),
    ]


def test_fifth_weekday_skips_months_without_one() -> None:
    got = times(
        "2026-12-31T12:00", {"every": "month", "nth_weekday": "5thu", "until": "2027-06-30"}
    )
    assert [m.date() for m in got] == [date(2026, 12, 31), date(2027, 4, 29)]


def test_year_crossing_weekly_and_monthly() -> None:
    weekly = times("2026-12-24T18:00", {"every": "week", "count": 3, "skip": ["2026-12-31"]})
    assert [m.date() for m in weekly] == [date(2026, 12, 24), date(2027, 1, 7)]
    monthly = times("2026-11-15T18:00", {"every": "month", "interval": 2, "count": 3})
    assert [m.date() for m in monthly] == [date(2026, 11, 15), date(2027, 1, 15), date(2027, 3, 15)]


def test_berlin_spring_forward_keeps_wall_clock() -> None:
    got = times("2026-03-21T18:00", {"every": "week", "count": 3}, BERLIN)
    assert local(got) == ["2026-03-21 18:00+0100", "2026-03-28 18:00+0100", "2026-04-04 18:00+0200"]
    assert [m.astimezone(UTC).hour for m in got] == [17, 17, 16]


def test_berlin_fall_back_keeps_wall_clock() -> None:
    got = times("2026-10-17T18:00", {"every": "week", "count": 3}, BERLIN)
    assert local(got) == ["2026-10-17 18:00+0200", "2026-10-24 18:00+0200", "2026-10-31 18:00+0100"]
    assert [m.astimezone(UTC).hour for m in got] == [16, 16, 17]


def test_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    got = times("2026-03-28T02:30", {"every": "day", "count": 3}, BERLIN)
    assert local(got) == ["2026-03-28 02:30+0100", "2026-03-29 03:30+0200", "2026-03-30 02:30+0200"]
    assert got[1].astimezone(UTC) - got[0].astimezone(UTC) == timedelta(hours=24)


def test_ambiguous_time_in_the_fall_takes_the_first() -> None:
    got = times("2026-10-24T02:30", {"every": "day", "count": 3}, BERLIN)
    assert local(got) == ["2026-10-24 02:30+0200", "2026-10-25 02:30+0200", "2026-10-26 02:30+0100"]
    assert got[1].fold == 0
    assert got[1].astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


RUSSIA = {
    "Europe/Kaliningrad": 2,
    "Europe/Moscow": 3,
    "Europe/Kirov": 3,
    "Europe/Volgograd": 3,
    "Europe/Astrakhan": 4,
    "Europe/Saratov": 4,
    "Europe/Ulyanovsk": 4,
    "Europe/Samara": 4,
    "Asia/Yekaterinburg": 5,
    "Asia/Omsk": 6,
    "Asia/Novosibirsk": 7,
    "Asia/Barnaul": 7,
    "Asia/Tomsk": 7,
    "Asia/Novokuznetsk": 7,
    "Asia/Krasnoyarsk": 7,
    "Asia/Irkutsk": 8,
    "Asia/Chita": 9,
    "Asia/Yakutsk": 9,
    "Asia/Khandyga": 9,
    "Asia/Vladivostok": 10,
    "Asia/Ust-Nera": 10,
    "Asia/Magadan": 11,
    "Asia/Sakhalin": 11,
    "Asia/Srednekolymsk": 11,
    "Asia/Kamchatka": 12,
    "Asia/Anadyr": 12,
}


@pytest.mark.parametrize("name", sorted(RUSSIA))
def test_russian_zones_give_the_right_instants(name: str) -> None:
    zone = ZoneInfo(name)
    got = times("2026-12-04T18:00", {"every": "month", "interval": 6, "count": 2}, zone)
    expected = [datetime(2026, 12, 4, 18, tzinfo=UTC), datetime(2027, 6, 4, 18, tzinfo=UTC)]
    assert [m.astimezone(UTC) for m in got] == [e - timedelta(hours=RUSSIA[name]) for e in expected]
    assert [(m.hour, m.tzinfo) for m in got] == [(18, zone), (18, zone)]


def test_no_rule_is_the_first_time_only() -> None:
    assert occurrences(at("2026-12-04T18:00"), None, MOSCOW) == [
        datetime(2026, 12, 4, 18, tzinfo=MOSCOW)
    ]


def test_aware_first_must_be_in_the_zone() -> None:
    rule = Recurrence("day", count=2)
    aware = datetime(2026, 12, 4, 18, tzinfo=MOSCOW)
    assert occurrences(aware, rule, MOSCOW) == occurrences(aware.replace(tzinfo=None), rule, MOSCOW)
    with pytest.raises(ValueError, match="first"):
        occurrences(aware, rule, BERLIN)


def test_limit_caps_the_list() -> None:
    rule = Recurrence("day", count=50)
    assert len(occurrences(at("2026-12-04T18:00"), rule, MOSCOW, limit=10)) == 10


def test_parse_fills_the_defaults_from_at() -> None:
    first = at("2026-12-04T18:00")
    assert parse_repeat({"every": "week", "count": 2}, first).weekdays == ("fri",)
    monthly = parse_repeat({"every": "month", "count": 2}, first)
    assert (monthly.month_day, monthly.interval, monthly.skip) == (4, 1, ())


def test_parses_a_toml_table() -> None:
    data = tomllib.loads(
        "at = 2026-12-04T18:00:00\n[repeat]\nevery = 'week'\nweekdays = ['fri']\n"
        "until = 2027-05-31\nskip = [2026-12-25, 2027-01-01]\n"
    )
    rule = parse_repeat(data["repeat"], data["at"])
    assert rule == Recurrence(
        "week",
        weekdays=("fri",),
        until=date(2027, 5, 31),
        skip=(date(2026, 12, 25), date(2027, 1, 1)),
    )
    assert len(occurrences(data["at"], rule, MOSCOW)) == 26 - 2


@pytest.mark.parametrize(
    ("first", "table", "text"),
    [
        ("2026-12-04T18:00", {"every": "week", "count": 7}, "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR;WKST=MO;COUNT=7"),
        ("2026-12-01T18:00", {"every": "week", "interval": 2, "weekdays": ["tue", "thu"], "until": "2027-05-31"},
         "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=MO;UNTIL=20270531T235959"),
        ("2026-12-25T18:00", {"every": "month", "nth_weekday": "-1fri", "count": 5},
         "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR;WKST=MO;COUNT=5"),
        ("2027-01-31T12:00", {"every": "month", "count": 5}, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=31;WKST=MO;COUNT=5"),
        ("2026-12-28T09:00", {"every": "day", "interval": 3, "until": "2027-02-01"},
         "FREQ=DAILY;INTERVAL=3;WKST=MO;UNTIL=20270201T235959"),
    ],
)  # fmt: skip
def test_rrule_text_gives_the_same_times(first: str, table: dict, text: str) -> None:
    rule = parse_repeat(table, at(first))
    assert rule.to_rrule_text() == text
    expected = [m.replace(tzinfo=None) for m in occurrences(at(first), rule, MOSCOW)]
    assert list(rr.rrulestr(text, dtstart=at(first))) == expected


def test_rrule_until_is_utc_with_a_zone() -> None:
    rule = parse_repeat({"every": "week", "until": "2027-05-31"}, at("2026-12-04T18:00"))
    assert rule.to_rrule_text(MOSCOW).endswith(";UNTIL=20270531T205959Z")
    assert rule.to_rrule_text(ZoneInfo("Asia/Kamchatka")).endswith(";UNTIL=20270531T115959Z")


@pytest.mark.parametrize(
    ("first", "table", "ru", "en"),
    [
        ("2026-12-04T18:00", {"every": "week", "count": 7}, "каждую пятницу, 7 раз", "every Friday, 7 times"),
        ("2026-12-01T18:00", {"every": "week", "weekdays": ["mon"], "count": 1}, None, None),
        ("2026-12-07T18:00", {"every": "week", "count": 22}, "каждый понедельник, 22 раза", "every Monday, 22 times"),
        ("2026-12-06T18:00", {"every": "week", "count": 21}, "каждое воскресенье, 21 раз", "every Sunday, 21 times"),
        ("2026-12-01T18:00", {"every": "week", "weekdays": ["tue", "thu"], "count": 1},
         "по вторникам и четвергам, 1 раз", "every Tuesday and Thursday, once"),
        ("2026-12-01T18:00", {"every": "week", "interval": 2, "weekdays": ["tue", "thu", "sat"], "until": "2027-05-31"},
         "раз в 2 недели по вторникам, четвергам и субботам, до 31 мая 2027 включительно",
         "every 2 weeks on Tuesday, Thursday and Saturday, until 31 May 2027"),
        ("2027-01-04T10:00", {"every": "month", "nth_weekday": "1mon", "count": 5},
         "каждый месяц в первый понедельник, 5 раз", "every month on the first Monday, 5 times"),
        ("2026-12-25T10:00", {"every": "month", "nth_weekday": "-1fri", "count": 3},
         "каждый месяц в последнюю пятницу, 3 раза", "every month on the last Friday, 3 times"),
        ("2026-12-12T10:00", {"every": "month", "nth_weekday": "2sat", "count": 3},
         "каждый месяц во вторую субботу, 3 раза", "every month on the second Saturday, 3 times"),
        ("2026-12-24T10:00", {"every": "month", "nth_weekday": "-2thu", "count": 3},
         "каждый месяц в предпоследний четверг, 3 раза", "every month on the second-to-last Thursday, 3 times"),
        ("2026-12-13T10:00", {"every": "month", "interval": 3, "nth_weekday": "2sun", "count": 2},
         "раз в 3 месяца во второе воскресенье, 2 раза", "every 3 months on the second Sunday, 2 times"),
        ("2026-12-31T10:00", {"every": "month", "count": 6}, "каждый месяц 31-го числа, 6 раз", "every month on the 31st, 6 times"),
        ("2026-12-22T10:00", {"every": "month", "count": 2}, "каждый месяц 22-го числа, 2 раза", "every month on the 22nd, 2 times"),
        ("2026-12-11T10:00", {"every": "month", "count": 2}, "каждый месяц 11-го числа, 2 раза", "every month on the 11th, 2 times"),
        ("2026-12-28T09:00", {"every": "day", "count": 7, "skip": ["2026-12-31", "2027-01-01"]},
         "каждый день, 7 раз, кроме 31 декабря 2026 и 1 января 2027",
         "every day, 7 times, except 31 December 2026 and 1 January 2027"),
        ("2026-12-28T09:00", {"every": "day", "count": 9, "skip": ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"]},
         "каждый день, 9 раз, кроме 4 дат", "every day, 9 times, except 4 dates"),
        ("2026-12-28T09:00", {"every": "day", "interval": 5, "count": 5}, "раз в 5 дней, 5 раз", "every 5 days, 5 times"),
    ],
)  # fmt: skip
def test_describe(first: str, table: dict, ru: str | None, en: str | None) -> None:
    if ru is None:
        with pytest.raises(RepeatError):
            parse_repeat(table, at(first))
        return
    rule = parse_repeat(table, at(first))
    assert (describe(rule, "ru"), describe(rule, "en")) == (ru, en)


def test_describe_once_and_unknown_language() -> None:
    assert (describe(None, "ru"), describe(None, "en")) == ("однократно", "once")
    with pytest.raises(ValueError, match="language"):
        describe(None, "de")


@pytest.mark.parametrize(
    ("table", "field"),
    [
        (["week"], "repeat"),
        ({"every": "week", "count": 2, "times": 3}, "repeat.times"),
        ({"count": 2}, "repeat.every"),
        ({"every": "weekly", "count": 2}, "repeat.every"),
        ({"every": ["week"], "count": 2}, "repeat.every"),
        ({"every": "week", "interval": 0, "count": 2}, "repeat.interval"),
        ({"every": "week", "interval": "2", "count": 2}, "repeat.interval"),
        ({"every": "week", "interval": True, "count": 2}, "repeat.interval"),
        ({"every": "week", "interval": 1.5, "count": 2}, "repeat.interval"),
        ({"every": "day", "weekdays": ["fri"], "count": 2}, "repeat.weekdays"),
        ({"every": "week", "weekdays": ["friday"], "count": 2}, "repeat.weekdays"),
        ({"every": "week", "weekdays": "fri", "count": 2}, "repeat.weekdays"),
        ({"every": "week", "weekdays": [], "count": 2}, "repeat.weekdays"),
        ({"every": "week", "weekdays": ["mon"], "count": 2}, "repeat.weekdays"),  # at is a Friday
        ({"every": "week", "nth_weekday": "1fri", "count": 2}, "repeat.nth_weekday"),
        ({"every": "month", "nth_weekday": "0fri", "count": 2}, "repeat.nth_weekday"),
        ({"every": "month", "nth_weekday": "6fri", "count": 2}, "repeat.nth_weekday"),
        ({"every": "month", "nth_weekday": "first friday", "count": 2}, "repeat.nth_weekday"),
        ({"every": "month", "nth_weekday": 1, "count": 2}, "repeat.nth_weekday"),
        ({"every": "month", "nth_weekday": "2fri", "count": 2}, "repeat.nth_weekday"),  # at: 1st
        ({"every": "week"}, "repeat.until"),
        ({"every": "week", "until": date(2026, 12, 3)}, "repeat.until"),
        ({"every": "week", "until": datetime(2027, 1, 1, 12)}, "repeat.until"),
        ({"every": "week", "until": "31.05.2027"}, "repeat.until"),
        ({"every": "week", "until": 20270531}, "repeat.until"),
        ({"every": "day", "until": date(2029, 12, 31)}, "repeat.until"),  # > 1000 times
        ({"every": "week", "until": date(2027, 1, 1), "count": 2}, "repeat.count"),
        ({"every": "week", "count": 1001}, "repeat.count"),
        ({"every": "week", "count": 0}, "repeat.count"),
        ({"every": "week", "count": "7"}, "repeat.count"),
        ({"every": "week", "count": 2, "skip": date(2026, 12, 11)}, "repeat.skip"),
        ({"every": "week", "count": 2, "skip": ["11.12.2026"]}, "repeat.skip"),
        ({"every": "week", "count": 2, "skip": [date(2026, 12, 12)]}, "repeat.skip"),  # a Saturday
        ({"every": "week", "count": 2, "skip": [date(2027, 1, 1)]}, "repeat.skip"),  # after the end
        ({"every": "week", "count": 1, "skip": [date(2026, 12, 4)]}, "repeat.skip"),  # all of them
    ],
)
def test_repeat_errors_name_the_field(table: object, field: str) -> None:
    with pytest.raises(RepeatError) as caught:
        parse_repeat(table, at("2026-12-04T18:00"))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)
