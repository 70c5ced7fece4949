"""Business calendar: working hours, Latvian public holidays, working-time deadlines, pausing.

The holiday dates asserted here are the real ones for 2025-2027 from the ``holidays`` package, so an
upstream change to the Latvian calendar shows up here first. No database: these tests request no
fixtures from conftest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.business_calendar import (
    DEFAULT_CONFIG_PATH,
    BusinessCalendar,
    CalendarConfigError,
    WorkingInterval,
    load_calendar,
    parse_working_duration,
)

RIGA = ZoneInfo("Europe/Riga")
H = timedelta(hours=1)


def riga(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIGA)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar()


@pytest.fixture(scope="module")
def lunch() -> BusinessCalendar:
    return BusinessCalendar(working_hours={day: ["08:30-12:00", "12:30-17:00"] for day in _WORKDAYS})


_WORKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


# ---- holidays from the package ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 17), True),  # Tuesday before Proclamation Day
        (date(2026, 11, 18), False),  # Proclamation Day, a Wednesday
        (date(2026, 11, 19), True),
        (date(2026, 11, 21), False),  # an ordinary Saturday
        (date(2026, 11, 22), False),  # Sunday
        (date(2026, 6, 22), False),  # Monday, day off transferred from Saturday 27 June
        (date(2026, 6, 23), False),  # Līgo
        (date(2026, 6, 24), False),  # Jāņi
        (date(2026, 6, 27), True),  # the Saturday worked in exchange
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 12, 24), False),
        (date(2026, 12, 25), False),
        (date(2026, 12, 28), True),
        (date(2026, 12, 31), False),
        (date(2027, 1, 1), False),
        (date(2026, 1, 2), False),  # Friday, transferred from Saturday 17 January 2026
        (date(2026, 1, 17), True),
        (date(2025, 11, 17), False),  # Monday, transferred from Saturday 8 November 2025
        (date(2025, 11, 8), True),
        (date(2027, 11, 18), False),
    ],
)
def test_latvian_calendar_from_the_holidays_package(cal, day, working):
    assert cal.is_working_day(day) is working


def test_holiday_names_and_that_weekend_observances_do_not_matter(cal):
    assert cal.holiday_name(date(2026, 11, 18)) == "Republic of Latvia Proclamation Day"
    assert cal.holiday_name(date(2026, 11, 19)) is None
    assert cal.is_public_holiday(date(2026, 6, 23)) and not cal.is_public_holiday(date(2026, 6, 27))


def test_transferred_working_saturdays_can_be_switched_off():
    plain = BusinessCalendar(use_transferred_working_days=False)
    assert not plain.is_working_day(date(2026, 6, 27))
    # The transferred day off stays a day off: it is in the package's holidays.
    assert not plain.is_working_day(date(2026, 6, 22))
    # Thursday 25, Friday 26, then Monday 29 June.
    assert plain.add_working_days(riga(2026, 6, 19, 10), 3) == riga(2026, 6, 29, 17)


# ---- working hours arithmetic ---------------------------------------------------------------


def test_weekend_is_skipped(cal):
    assert cal.add_working_time(riga(2026, 11, 13, 16), 3 * H) == riga(2026, 11, 16, 10, 30)


def test_holiday_in_the_week_is_skipped(cal):
    # Tuesday 17 Nov 16:00 + 2 h: one hour on Tuesday, Wednesday is Proclamation Day, one hour Thursday.
    assert cal.add_working_time(riga(2026, 11, 17, 16), 2 * H) == riga(2026, 11, 19, 9, 30)


def test_easter_and_christmas_and_new_year(cal):
    assert cal.add_working_time(riga(2026, 4, 2, 16), 2 * H) == riga(2026, 4, 7, 9, 30)
    assert cal.add_working_time(riga(2026, 12, 23, 16), 2 * H) == riga(2026, 12, 28, 9, 30)
    assert cal.add_working_time(riga(2026, 12, 30, 16), 2 * H) == riga(2027, 1, 4, 9, 30)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (riga(2026, 11, 16, 17), H, riga(2026, 11, 17, 9, 30)),  # exactly at closing: counts from the next day
        (riga(2026, 11, 16, 7), H, riga(2026, 11, 16, 9, 30)),  # before opening: counts from 08:30
        (riga(2026, 11, 16, 8, 30), H, riga(2026, 11, 16, 9, 30)),  # exactly at opening
        (riga(2026, 11, 16, 16), H, riga(2026, 11, 16, 17)),  # ends exactly at closing: not the next morning
        (riga(2026, 11, 16, 23), 8 * H + 30 * timedelta(minutes=1), riga(2026, 11, 17, 17)),  # one full day
        (riga(2026, 11, 14, 12), H, riga(2026, 11, 16, 9, 30)),  # Saturday start
        (riga(2026, 11, 16, 12), 5 * 8.5 * H, riga(2026, 11, 24, 12)),  # a working week (minus the holiday)
        (riga(2026, 11, 16, 9), timedelta(seconds=1), riga(2026, 11, 16, 9).replace(second=1)),
    ],
)
def test_add_working_time_boundaries(cal, start, duration, due):
    assert cal.add_working_time(start, duration) == due


def test_zero_duration_is_the_start_itself(cal):
    saturday = riga(2026, 11, 14, 12)
    assert cal.add_working_time(saturday, timedelta(0)) == saturday


def test_lunch_break(lunch):
    assert lunch.add_working_time(riga(2026, 11, 16, 11), 2 * H) == riga(2026, 11, 16, 13, 30)
    assert lunch.add_working_time(riga(2026, 11, 16, 12, 10), H) == riga(2026, 11, 16, 13, 30)
    assert lunch.add_working_time(riga(2026, 11, 16, 11), H) == riga(2026, 11, 16, 12)  # ends as lunch begins
    assert lunch.next_working_moment(riga(2026, 11, 16, 12, 10)) == riga(2026, 11, 16, 12, 30)
    assert lunch.working_time_between(riga(2026, 11, 16, 8), riga(2026, 11, 16, 18)) == 8 * H
    assert lunch.working_hours["monday"] == (WorkingInterval(510, 720), WorkingInterval(750, 1020))


def test_next_working_moment(cal):
    inside = riga(2026, 11, 16, 10, 15)
    assert cal.next_working_moment(inside) == inside
    assert cal.next_working_moment(riga(2026, 11, 16, 17)) == riga(2026, 11, 17, 8, 30)
    assert cal.next_working_moment(riga(2026, 11, 17, 17, 30)) == riga(2026, 11, 19, 8, 30)  # holiday next
    assert cal.next_working_moment(riga(2026, 12, 23, 20)) == riga(2026, 12, 28, 8, 30)


def test_results_are_in_the_calendar_time_zone(cal):
    start_utc = datetime(2026, 11, 13, 14, 0, tzinfo=UTC)  # 16:00 in Riga
    due = cal.add_working_time(start_utc, 3 * H)
    assert due == riga(2026, 11, 16, 10, 30)
    assert due.tzinfo == RIGA and due.hour == 10


def test_working_time_between(cal):
    assert cal.working_time_between(riga(2026, 11, 13, 16), riga(2026, 11, 16, 10, 30)) == 3 * H
    assert cal.working_time_between(riga(2026, 11, 16, 10, 30), riga(2026, 11, 13, 16)) == -3 * H
    # Monday to Monday across Proclamation Day: four working days.
    assert cal.working_time_between(riga(2026, 11, 16), riga(2026, 11, 23)) == 4 * 8.5 * H
    assert cal.working_time_between(riga(2026, 11, 14), riga(2026, 11, 15, 23)) == timedelta(0)
    assert cal.working_time_between(riga(2026, 11, 16, 10), riga(2026, 11, 16, 10)) == timedelta(0)


def _starts() -> list[datetime]:
    # Every 97 minutes over weeks that hold a weekend, Proclamation Day, both DST changes, Midsummer.
    starts = []
    for first in (riga(2026, 3, 25), riga(2026, 6, 17), riga(2026, 10, 21), riga(2026, 11, 12)):
        starts += [first + timedelta(minutes=97 * i) for i in range(0, 12 * 24 * 60 // 97)]
    return starts


_DURATIONS = [timedelta(minutes=m) for m in (1, 29, 60, 211, 510, 511, 1020, 2 * 1440 + 7, 5 * 1440)]


@pytest.mark.parametrize("name", ["cal", "lunch"])
def test_working_time_between_inverts_add_working_time(name, request):
    calendar: BusinessCalendar = request.getfixturevalue(name)
    for start in _starts():
        for duration in _DURATIONS:
            due = calendar.add_working_time(start, duration)
            assert due > start
            assert calendar.working_time_between(start, due) == duration, (start, duration)
            # Earliest such moment: a moment earlier has not yet reached the duration.
            assert calendar.working_time_between(start, due - timedelta(seconds=1)) < duration
            back = calendar.add_working_time(start, -duration)
            assert calendar.working_time_between(back, start) == duration, (start, -duration)
            assert calendar.working_time_between(back + timedelta(seconds=1), start) < duration


def test_add_working_time_of_the_time_between_does_not_pass_the_end(cal):
    for start in _starts()[::7]:
        for end in (start + timedelta(hours=h) for h in (1, 13, 50, 170)):
            elapsed = cal.working_time_between(start, end)
            due = cal.add_working_time(start, elapsed)
            assert due <= end
            assert cal.working_time_between(due, end) == timedelta(0)


# ---- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (riga(2026, 11, 13, 16), 3, riga(2026, 11, 19, 17)),  # Mon, Tue, (18th holiday), Thu
        (riga(2026, 11, 16, 7), 1, riga(2026, 11, 17, 17)),  # the start day never counts, even before opening
        (riga(2026, 11, 16, 23), 1, riga(2026, 11, 17, 17)),
        (riga(2026, 11, 14, 10), 1, riga(2026, 11, 16, 17)),  # Saturday start: Monday is the first
        (riga(2026, 11, 17, 10), 1, riga(2026, 11, 19, 17)),
        (riga(2026, 6, 19, 10), 1, riga(2026, 6, 25, 17)),  # Midsummer: 22 (transferred), 23, 24 off
        (riga(2026, 6, 19, 10), 3, riga(2026, 6, 27, 17)),  # ... and Saturday 27 June is worked
        (riga(2026, 12, 23, 10), 1, riga(2026, 12, 28, 17)),
        (riga(2026, 12, 30, 10), 1, riga(2027, 1, 4, 17)),
        (riga(2026, 4, 2, 10), 1, riga(2026, 4, 7, 17)),
        (riga(2026, 11, 2, 10), 20, riga(2026, 12, 1, 17)),  # 21 weekdays in between, one a holiday
    ],
)
def test_add_working_days(cal, start, days, due):
    assert cal.add_working_days(start, days) == due


def test_add_working_days_ends_at_the_last_interval_of_the_day(lunch):
    assert lunch.add_working_days(riga(2026, 11, 13, 16), 1) == riga(2026, 11, 16, 17)


@pytest.mark.parametrize("days", [0, -1])
def test_add_working_days_needs_at_least_one(cal, days):
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(riga(2026, 11, 13), days)


def test_add_working_days_takes_an_int(cal):
    with pytest.raises(TypeError):
        cal.add_working_days(riga(2026, 11, 13), 1.5)  # type: ignore[arg-type]


# ---- the institution's own days --------------------------------------------------------------


def test_extra_day_off():
    bridge = BusinessCalendar(extra_days_off=[date(2026, 11, 19)])
    assert not bridge.is_working_day(date(2026, 11, 19))
    assert bridge.add_working_time(riga(2026, 11, 17, 16), 2 * H) == riga(2026, 11, 20, 9, 30)
    assert bridge.add_working_days(riga(2026, 11, 17, 10), 1) == riga(2026, 11, 20, 17)


def test_extra_day_off_overrides_a_transferred_working_saturday():
    closed = BusinessCalendar(extra_days_off=["2026-06-27"])
    assert not closed.is_working_day(date(2026, 6, 27))


def test_extra_working_saturday():
    worked = BusinessCalendar(extra_working_days=[date(2026, 11, 21)], extra_working_day_hours=["09:00-13:00"])
    assert worked.is_working_day(date(2026, 11, 21))
    assert worked.working_intervals(date(2026, 11, 21)) == (WorkingInterval(540, 780),)
    assert worked.add_working_time(riga(2026, 11, 20, 16), 2 * H) == riga(2026, 11, 21, 10)
    assert worked.add_working_days(riga(2026, 11, 20, 10), 1) == riga(2026, 11, 21, 13)
    # Without its own hours an extra working day works Friday's hours.
    default_hours = BusinessCalendar(working_hours={"friday": ["08:00-15:00"]}, extra_working_days=["2026-11-21"])
    assert default_hours.working_intervals(date(2026, 11, 21)) == (WorkingInterval(480, 900),)


def test_extra_working_days_with_their_own_hours():
    config = {
        "extra_working_days": {
            "2026-11-21": ["10:00-12:00"],
            date(2026, 11, 18): ["09:00-11:00"],  # works on the holiday: the institution knows best
            "2026-11-17": ["08:30-16:00"],  # a shortened day before the holiday
        }
    }
    custom = BusinessCalendar.from_mapping(config)
    assert custom.working_intervals(date(2026, 11, 21)) == (WorkingInterval(600, 720),)
    assert custom.is_working_day(date(2026, 11, 18))
    assert custom.add_working_time(riga(2026, 11, 17, 15), 2 * H) == riga(2026, 11, 18, 10)


def test_working_hours_merge_with_the_defaults():
    short_friday = BusinessCalendar(working_hours={"Friday": ["08:30-15:00"], "saturday": ["10:00-14:00"]})
    hours = short_friday.working_hours
    assert hours["monday"] == (WorkingInterval(510, 1020),)
    assert hours["friday"] == (WorkingInterval(510, 900),)
    assert short_friday.is_working_day(date(2026, 11, 21))
    assert not short_friday.is_working_day(date(2026, 11, 22))


# ---- daylight saving time --------------------------------------------------------------------


def test_spring_forward(cal):
    # Riga moves from +02:00 to +03:00 at 03:00 on Sunday 29 March 2026.
    start, due = riga(2026, 3, 27, 16), riga(2026, 3, 30, 10, 30)
    assert cal.add_working_time(start, 3 * H) == due
    assert due.utcoffset() == 3 * H and start.utcoffset() == 2 * H
    assert cal.working_time_between(start, due) == 3 * H
    assert cal.add_working_days(start, 1) == riga(2026, 3, 30, 17)


def test_fall_back(cal):
    # ... and back to +02:00 at 04:00 on Sunday 25 October 2026.
    start = riga(2026, 10, 23, 16)
    assert cal.add_working_time(start, 3 * H) == riga(2026, 10, 26, 10, 30)
    assert cal.add_working_time(riga(2026, 10, 26, 10, 30), -3 * H) == start


def test_round_the_clock_calendar_counts_real_hours_over_dst():
    always = BusinessCalendar(working_hours={day: ["00:00-24:00"] for day in ("saturday", "sunday", *_WORKDAYS)})
    # Sunday 29 March 2026 has 23 hours, so 24 working hours from Saturday noon end at 13:00 Sunday.
    assert always.add_working_time(riga(2026, 3, 28, 12), 24 * H) == riga(2026, 3, 29, 13)
    # Sunday 25 October 2026 has 25 hours.
    assert always.add_working_time(riga(2026, 10, 24, 12), 24 * H) == riga(2026, 10, 25, 11)
    assert always.working_time_between(riga(2026, 10, 25), riga(2026, 10, 26)) == 25 * H


def test_working_hours_inside_the_skipped_hour_shrink():
    odd = BusinessCalendar(working_hours={"sunday": ["03:30-05:00"]}, country="LV")
    # 03:00-04:00 does not exist on 29 March 2026; the gap's 03:30 is read with the old offset
    # (PEP 495, fold=0), i.e. 04:30 EEST, so the range holds half an hour of real time that day.
    assert odd.working_time_between(riga(2026, 3, 29), riga(2026, 3, 30)) == 0.5 * H
    assert odd.working_time_between(riga(2026, 4, 5), riga(2026, 4, 6)) == timedelta(0)  # Easter Sunday
    assert odd.working_time_between(riga(2026, 4, 12), riga(2026, 4, 13)) == 1.5 * H
    # A range that starts in the gap and ends at 04:00 would run backwards in real time: it holds nothing.
    split = BusinessCalendar(working_hours={"sunday": ["03:30-04:00", "04:00-05:00"]})
    assert split.working_time_between(riga(2026, 3, 29), riga(2026, 3, 30)) == H
    assert split.add_working_time(riga(2026, 3, 29), 0.5 * H) == riga(2026, 3, 29, 4, 30)


# ---- deadlines as text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("3 working days", 3),
        ("1 working day", 1),
        ("5 darba dienas", 5),
        ("1 darba diena", 1),
        ("2 darba dienām", 2),
        ("10 darba dienu", 10),
        ("  7   Working  Days ", 7),
        ("4 working hours", 4 * H),
        ("1 working hour", H),
        ("16 darba stundas", 16 * H),
        ("1 darba stunda", H),
        ("PT4H30M working", 4.5 * H),
        ("PT90M working", 1.5 * H),
        ("P3D working", 3),
    ],
)
def test_parse_working_duration(spec, expected):
    assert parse_working_duration(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        "3 days",
        "PT4H",  # calendar time, not working time
        "P1DT2H working",
        "0 working days",
        "0 darba stundas",
        "PT0H working",
        "P working",
        "three working days",
        "-1 working days",
        "1.5 working hours",
        "",
        "3 working days please",
    ],
)
def test_parse_errors_name_the_text(spec):
    with pytest.raises(ValueError) as caught:
        parse_working_duration(spec)
    assert repr(spec) in str(caught.value)


def test_parse_error_lists_the_accepted_forms():
    with pytest.raises(ValueError, match="accepted forms: .*darba dienas.*working hours.*PT4H30M working"):
        parse_working_duration("3 weeks")


def test_due_in(cal):
    start = riga(2026, 11, 13, 16)
    assert cal.due_in(start, "3 darba dienas") == riga(2026, 11, 19, 17)
    assert cal.due_in(start, "3 working hours") == riga(2026, 11, 16, 10, 30)
    assert cal.due_in(start, "PT1H30M working") == riga(2026, 11, 16, 9)
    with pytest.raises(ValueError, match="'3 dienas'"):
        cal.due_in(start, "3 dienas")


# ---- pausing -----------------------------------------------------------------------------------


def test_pause_and_resume(cal):
    due = cal.due_in(riga(2026, 11, 13, 16), "3 darba dienas")  # Thursday 19 Nov 17:00
    # Paused on Monday 16 Nov at 12:00 waiting for the requester: Mon 5 h, Tue 8.5 h, Thu 8.5 h left.
    remaining = cal.pause_deadline(due, riga(2026, 11, 16, 12))
    assert remaining == 22 * H
    # The requester answers on Monday 23 Nov at 10:00: the 22 hours count from there.
    resumed = cal.resume_deadline(remaining, riga(2026, 11, 23, 10))
    assert resumed == riga(2026, 11, 25, 15)
    assert cal.working_time_between(riga(2026, 11, 23, 10), resumed) == remaining


def test_pause_outside_working_hours_and_resume_the_same_weekend(cal):
    due = riga(2026, 11, 19, 17)
    remaining = cal.pause_deadline(due, riga(2026, 11, 14, 10))  # Saturday
    assert remaining == 3 * 8.5 * H
    assert cal.resume_deadline(remaining, riga(2026, 11, 15, 20)) == due  # nothing was lost


def test_overdue_deadline_stays_overdue(cal):
    due = riga(2026, 11, 16, 12)
    now = riga(2026, 11, 17, 10)  # 5 h Monday afternoon + 1.5 h Tuesday morning late
    remaining = cal.pause_deadline(due, now)
    assert remaining == -6.5 * H
    later = riga(2026, 11, 23, 9)
    resumed = cal.resume_deadline(remaining, later)
    assert resumed < later
    assert cal.working_time_between(later, resumed) == remaining
    assert resumed == riga(2026, 11, 20, 11)  # 0.5 h back to Monday 08:30, then 6 h back from Friday 17:00


# ---- naive datetimes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c, t: c.add_working_time(t, H),
        lambda c, t: c.add_working_days(t, 1),
        lambda c, t: c.working_time_between(t, riga(2026, 11, 20)),
        lambda c, t: c.working_time_between(riga(2026, 11, 10), t),
        lambda c, t: c.next_working_moment(t),
        lambda c, t: c.due_in(t, "1 working day"),
        lambda c, t: c.pause_deadline(t, riga(2026, 11, 10)),
        lambda c, t: c.resume_deadline(H, t),
    ],
)
def test_naive_datetimes_are_refused(cal, call):
    with pytest.raises(ValueError, match="timezone-aware.*2026-11-16T10:00:00"):
        call(cal, datetime(2026, 11, 16, 10))


# ---- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezon": "Europe/Riga"}, r"unknown key\(s\) timezon; accepted keys: timezone"),
        ({"working_hours": {"mondy": ["08:30-17:00"]}}, "working_hours: unknown weekday 'mondy'"),
        ({"working_hours": {"monday": ["17:00-08:30"]}}, r"working_hours.monday\[0\]: '17:00-08:30' ends at or before"),
        ({"working_hours": {"monday": ["08:30-08:30"]}}, "ends at or before it starts"),
        (
            {"working_hours": {"tuesday": ["08:00-12:00", "11:30-17:00"]}},
            "working_hours.tuesday: time ranges 08:00-12:00 and 11:30-17:00 overlap",
        ),
        ({"working_hours": {"monday": ["8-17"]}}, r"working_hours.monday\[0\]: '8-17' is not a time range"),
        ({"working_hours": {"monday": ["08:30-25:00"]}}, "invalid clock time"),
        ({"working_hours": {"monday": ["08:60-17:00"]}}, "invalid clock time"),
        ({"working_hours": {"monday": "08:30-17:00"}}, "working_hours.monday: expected a list of time ranges"),
        ({"working_hours": {d: [] for d in _WORKDAYS}}, "every weekday is closed"),
        ({"working_hours": ["08:30-17:00"]}, "working_hours: expected a table"),
        ({"extra_days_off": ["2026-02-30"]}, r"extra_days_off\[0\]: '2026-02-30' is not a valid date"),
        ({"extra_days_off": ["19.11.2026"]}, r"extra_days_off\[0\]: '19.11.2026' is not a valid date"),
        ({"extra_days_off": [datetime(2026, 11, 19, 8)]}, r"extra_days_off\[0\]: expected a date.*date and time"),
        ({"extra_days_off": "2026-11-19"}, "extra_days_off: expected a list of dates"),
        ({"extra_working_days": [20261121]}, r"extra_working_days\[0\]: expected a date"),
        ({"extra_working_days": {"2026-11-21": []}}, "extra_working_days.2026-11-21: no working hours given"),
        ({"extra_working_days": {"2026-13-01": ["09:00-12:00"]}}, "extra_working_days: key: '2026-13-01'"),
        (
            {"extra_days_off": ["2026-11-21"], "extra_working_days": ["2026-11-21"]},
            "extra_days_off and extra_working_days both list 2026-11-21",
        ),
        ({"extra_working_day_hours": []}, "extra_working_day_hours: must list at least one"),
        ({"country": "XX"}, "country: the holidays package has no calendar for 'XX'"),
        ({"country": ""}, "country: expected a country code"),
        ({"timezone": "Europe/Atlantis"}, "timezone: unknown time zone 'Europe/Atlantis'"),
        ({"timezone": "../etc/passwd"}, "timezone: unknown time zone"),
        ({"use_transferred_working_days": "yes"}, "use_transferred_working_days: expected true or false"),
    ],
)
def test_config_errors(config, message):
    with pytest.raises(CalendarConfigError, match=message):
        BusinessCalendar.from_mapping(config)


def test_config_error_is_a_value_error():
    assert issubclass(CalendarConfigError, ValueError)


def test_from_toml(tmp_path: Path):
    path = tmp_path / "calendar.toml"
    path.write_text(
        """
timezone = "Europe/Riga"
country = "LV"
extra_days_off = [2026-11-19, "2026-11-20"]

[working_hours]
monday = ["08:30-12:00", "12:30-17:00"]
friday = ["08:30-15:00"]

[extra_working_days]
"2026-11-21" = ["09:00-13:00"]
""",
        encoding="utf-8",
    )
    loaded = load_calendar(path)
    assert loaded.extra_days_off == {date(2026, 11, 19), date(2026, 11, 20)}
    assert loaded.working_hours["monday"] == (WorkingInterval(510, 720), WorkingInterval(750, 1020))
    assert loaded.working_hours["tuesday"] == (WorkingInterval(510, 1020),)
    assert loaded.add_working_days(riga(2026, 11, 17, 10), 1) == riga(2026, 11, 21, 13)


def test_toml_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[working_hours]\nfunday = ["08:30-17:00"]\n', encoding="utf-8")
    with pytest.raises(CalendarConfigError, match=r"bad.toml: working_hours: unknown weekday 'funday'"):
        BusinessCalendar.from_toml(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("timezone = \n", encoding="utf-8")
    with pytest.raises(CalendarConfigError, match="broken.toml: not valid TOML"):
        BusinessCalendar.from_toml(broken)
    with pytest.raises(CalendarConfigError, match="missing.toml: cannot read"):
        BusinessCalendar.from_toml(tmp_path / "missing.toml")


def _describe(calendar: BusinessCalendar) -> tuple:
    return (
        calendar.timezone.key,
        calendar.country,
        calendar.working_hours,
        calendar.extra_days_off,
        calendar.extra_working_days,
        calendar.is_working_day(date(2026, 6, 27)),
        calendar.working_intervals(date(2026, 6, 27)),
    )


def test_shipped_default_is_the_built_in_default(monkeypatch):
    assert DEFAULT_CONFIG_PATH.is_file()
    shipped = load_calendar()
    assert _describe(shipped) == _describe(BusinessCalendar())
    assert _describe(shipped) == _describe(BusinessCalendar.from_toml(DEFAULT_CONFIG_PATH))
    # An install without the data file falls back to the same calendar.
    monkeypatch.setattr("engine.business_calendar.DEFAULT_CONFIG_PATH", Path("/nonexistent/calendar.toml"))
    assert _describe(load_calendar(None)) == _describe(shipped)
