"""Business calendar: working hours and public holidays, for deadlines counted in working time.

Public services count deadlines in working time ("3 working days", "16 darba stundas"). A
:class:`BusinessCalendar` knows the institution's working hours per weekday, the country's public
holidays from the maintained ``holidays`` package (Latvia by default, including the transferred
days off and working Saturdays the Cabinet of Ministers orders), and the institution's own
additions: extra days off and extra working days.

Working time is measured as real elapsed time inside working intervals, which are defined on the
local wall clock of the calendar's time zone; all arithmetic is done in UTC so daylight-saving
changes neither shift the working hours nor distort the durations.

A pure library: no database, no Flask, no clock. Callers pass timezone-aware datetimes.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "BusinessCalendar",
    "CalendarConfigError",
    "WorkingInterval",
    "load_calendar",
    "parse_working_duration",
]

#: The calendar shipped with Plūsma; an institution points ``load_calendar`` at its own copy.
DEFAULT_CONFIG_PATH = Path(__file__).with_name("business_calendar_default.toml")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_INTERVALS = ("08:30-17:00",)
DEFAULT_WORKING_HOURS: Mapping[str, tuple[str, ...]] = {
    **{day: DEFAULT_INTERVALS for day in WEEKDAYS[:5]},
    "saturday": (),
    "sunday": (),
}
CONFIG_KEYS = (
    "timezone",
    "country",
    "use_transferred_working_days",
    "working_hours",
    "extra_working_day_hours",
    "extra_days_off",
    "extra_working_days",
)
MINUTES_PER_DAY = 24 * 60
# A calendar whose every weekday is closed is refused at load time, so this only guards against
# an absurd list of extra days off; it keeps a bad calendar from looping forever.
MAX_CLOSED_DAYS = 3660


class CalendarConfigError(ValueError):
    """The calendar configuration is invalid; the message names the key or entry and the problem."""


@dataclass(frozen=True, order=True)
class WorkingInterval:
    """Working time within one day, in minutes after local midnight (``end`` may be 1440, i.e. 24:00)."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{_format_minutes(self.start)}-{_format_minutes(self.end)}"


Intervals = tuple[WorkingInterval, ...]


# --------------------------------------------------------------------------------------------
# Parsing and validating the configuration
# --------------------------------------------------------------------------------------------

_INTERVAL_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_interval(text: object, where: str) -> WorkingInterval:
    if not isinstance(text, str):
        raise CalendarConfigError(f"{where}: expected a time range like '08:30-17:00', got {text!r}")
    match = _INTERVAL_RE.match(text)
    if not match:
        raise CalendarConfigError(f"{where}: {text!r} is not a time range like '08:30-17:00'")
    sh, sm, eh, em = (int(g) for g in match.groups())
    if sh > 23 or sm > 59 or em > 59 or eh > 24 or (eh == 24 and em != 0):
        raise CalendarConfigError(f"{where}: {text!r} has an invalid clock time (00:00 to 24:00)")
    start, end = sh * 60 + sm, eh * 60 + em
    if end <= start:
        raise CalendarConfigError(f"{where}: {text!r} ends at or before it starts")
    return WorkingInterval(start, end)


def _parse_intervals(value: object, where: str) -> Intervals:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise CalendarConfigError(f"{where}: expected a list of time ranges like ['08:30-17:00'], got {value!r}")
    intervals = sorted(_parse_interval(item, f"{where}[{i}]") for i, item in enumerate(value))
    for before, after in zip(intervals, intervals[1:], strict=False):
        if after.start < before.end:
            raise CalendarConfigError(f"{where}: time ranges {before} and {after} overlap")
    return tuple(intervals)


def _parse_date(value: object, where: str) -> date:
    # TOML datetimes are date instances too; a day off is a whole date, so refuse them.
    if isinstance(value, datetime):
        raise CalendarConfigError(f"{where}: expected a date like 2026-11-19, got a date and time {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise CalendarConfigError(f"{where}: {value!r} is not a valid date like 2026-11-19")
    raise CalendarConfigError(f"{where}: expected a date like 2026-11-19, got {value!r}")


def _parse_date_list(value: object, where: str) -> frozenset[date]:
    if isinstance(value, str) or not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise CalendarConfigError(f"{where}: expected a list of dates like [2026-11-19], got {value!r}")
    return frozenset(_parse_date(item, f"{where}[{i}]") for i, item in enumerate(value))


def _parse_working_hours(value: object) -> dict[int, Intervals]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise CalendarConfigError(f"working_hours: expected a table of weekday = [time ranges], got {value!r}")
    # Weekdays not named keep their default, so changing Friday alone does not close Monday.
    merged: dict[str, object] = dict(DEFAULT_WORKING_HOURS)
    for name, intervals in value.items():
        key = name.lower() if isinstance(name, str) else name
        if key not in WEEKDAYS:
            raise CalendarConfigError(f"working_hours: unknown weekday {name!r}; use one of {', '.join(WEEKDAYS)}")
        merged[key] = intervals
    hours = {i: _parse_intervals(merged[day], f"working_hours.{day}") for i, day in enumerate(WEEKDAYS)}
    if not any(hours.values()):
        raise CalendarConfigError("working_hours: every weekday is closed; at least one needs working hours")
    return hours


def _parse_extra_working_days(value: object, default: Intervals) -> dict[date, Intervals]:
    where = "extra_working_days"
    if isinstance(value, Mapping):
        days: dict[date, Intervals] = {}
        for key, intervals in value.items():
            day = _parse_date(key, f"{where}: key")
            parsed = _parse_intervals(intervals, f"{where}.{key}")
            if not parsed:
                raise CalendarConfigError(f"{where}.{key}: no working hours given; list the date in extra_days_off")
            days[day] = parsed
        return days
    return dict.fromkeys(_parse_date_list(value, where), default)


def _timezone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise CalendarConfigError(f"timezone: expected a time zone name like 'Europe/Riga', got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarConfigError(f"timezone: unknown time zone {name!r}") from exc


def _check_country(code: object) -> str:
    if not isinstance(code, str) or not code:
        raise CalendarConfigError(f"country: expected a country code like 'LV', got {code!r}")
    try:
        holidays.country_holidays(code, years=[])
    except NotImplementedError as exc:
        raise CalendarConfigError(f"country: the holidays package has no calendar for {code!r}") from exc
    return code


# --------------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------------


def _aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes, whose meaning would be a guess."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}; "
            "attach a time zone, e.g. datetime(..., tzinfo=ZoneInfo('Europe/Riga'))"
        )
    return value.astimezone(UTC)


class BusinessCalendar:
    """Working hours, public holidays and the institution's own days, with working-time arithmetic.

    A date is a working day, and has working hours, by the first rule that applies:

    1. listed in ``extra_days_off``: a day off;
    2. listed in ``extra_working_days``: works the hours given there (or ``extra_working_day_hours``);
    3. a public holiday of ``country`` (``holidays`` package, including transferred days off): a day off;
    4. its weekday has working hours: works those;
    5. a working Saturday/Sunday ordered by the government (``holidays``' ``weekend_workdays``) and
       ``use_transferred_working_days`` is on: works ``extra_working_day_hours``;
    6. otherwise a day off.

    Constructor arguments take the same values as the TOML file (time ranges as ``"08:30-17:00"``,
    dates as :class:`date` or ``"2026-11-19"``) and are validated the same way.
    Instances are immutable and safe to share between threads.
    """

    def __init__(
        self,
        *,
        timezone: str = "Europe/Riga",
        country: str = "LV",
        use_transferred_working_days: bool = True,
        working_hours: Mapping[str, Iterable[str]] | None = None,
        extra_working_day_hours: Iterable[str] | None = None,
        extra_days_off: Iterable[date | str] = (),
        extra_working_days: Iterable[date | str] | Mapping[date | str, Iterable[str]] = (),
    ) -> None:
        self._tz = _timezone(timezone)
        self._country = _check_country(country)
        if not isinstance(use_transferred_working_days, bool):
            raise CalendarConfigError(
                f"use_transferred_working_days: expected true or false, got {use_transferred_working_days!r}"
            )
        self._use_transferred = use_transferred_working_days
        self._hours = _parse_working_hours(working_hours)
        if extra_working_day_hours is None:
            # A worked Saturday replaces a weekday; Friday's hours are the usual choice.
            self._extra_hours = self._hours[4] or next(h for h in self._hours.values() if h)
        else:
            self._extra_hours = _parse_intervals(extra_working_day_hours, "extra_working_day_hours")
            if not self._extra_hours:
                raise CalendarConfigError("extra_working_day_hours: must list at least one time range")
        self._days_off = _parse_date_list(extra_days_off, "extra_days_off")
        self._extra_days = _parse_extra_working_days(extra_working_days, self._extra_hours)
        both = sorted(self._days_off & self._extra_days.keys())
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise CalendarConfigError(f"extra_days_off and extra_working_days both list {listed}")
        # Holidays per year, looked up lazily. Filling the dict from two threads at once only
        # computes a year twice; each entry is immutable.
        self._years: dict[int, tuple[Mapping[date, str], frozenset[date]]] = {}

    # ---- loading -------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from a parsed configuration (the TOML file's top-level table)."""
        if not isinstance(config, Mapping):
            raise CalendarConfigError(f"calendar configuration must be a table, got {type(config).__name__}")
        unknown = sorted(str(k) for k in config if k not in CONFIG_KEYS)
        if unknown:
            raise CalendarConfigError(f"unknown key(s) {', '.join(unknown)}; accepted keys: {', '.join(CONFIG_KEYS)}")
        return cls(**config)

    @classmethod
    def from_toml(cls, path: str | Path) -> BusinessCalendar:
        """Read a calendar from a TOML file; errors name the file."""
        path = Path(path)
        try:
            with path.open("rb") as f:
                config = tomllib.load(f)
        except OSError as exc:
            raise CalendarConfigError(f"{path}: cannot read the calendar: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise CalendarConfigError(f"{path}: not valid TOML: {exc}") from exc
        try:
            return cls.from_mapping(config)
        except CalendarConfigError as exc:
            raise CalendarConfigError(f"{path}: {exc}") from exc

    # ---- what the calendar holds -----------------------------------------------------------

    @property
    def timezone(self) -> ZoneInfo:
        return self._tz

    @property
    def country(self) -> str:
        return self._country

    @property
    def working_hours(self) -> dict[str, Intervals]:
        return {WEEKDAYS[i]: hours for i, hours in self._hours.items()}

    @property
    def extra_days_off(self) -> frozenset[date]:
        return self._days_off

    @property
    def extra_working_days(self) -> dict[date, Intervals]:
        return dict(self._extra_days)

    def _year(self, year: int) -> tuple[Mapping[date, str], frozenset[date]]:
        """The year's public holidays (date to name) and government-ordered weekend working days."""
        cached = self._years.get(year)
        if cached is None:
            found = holidays.country_holidays(self._country, years=year)
            # weekend_workdays: Saturdays worked in exchange for a transferred day off (Latvia has them).
            workdays = frozenset(d for d in getattr(found, "weekend_workdays", ()) if d.year == year)
            cached = (MappingProxyType(dict(found)), workdays)
            self._years[year] = cached
        return cached

    def is_public_holiday(self, day: date) -> bool:
        """True if the country's calendar has a public holiday (or transferred day off) on ``day``."""
        return day in self._year(day.year)[0]

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name on ``day`` (English), or None."""
        return self._year(day.year)[0].get(day)

    def working_intervals(self, day: date) -> Intervals:
        """The working hours on ``day`` (local wall clock); empty on a day off. See the class doc for the rules."""
        if isinstance(day, datetime):
            raise TypeError("working_intervals takes a date, not a datetime")
        if day in self._days_off:
            return ()
        if day in self._extra_days:
            return self._extra_days[day]
        holidays_, weekend_workdays = self._year(day.year)
        if day in holidays_:
            return ()
        hours = self._hours[day.weekday()]
        if hours:
            return hours
        if self._use_transferred and day in weekend_workdays:
            return self._extra_hours
        return ()

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` has any working hours."""
        return bool(self.working_intervals(day))

    # ---- intervals as instants -----------------------------------------------------------

    def _utc_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        # Adding minutes to local midnight moves the wall clock (Python adds timedeltas to aware
        # datetimes on the wall clock), and zoneinfo then gives the offset valid at that wall time;
        # so 08:30 stays 08:30 on both sides of a DST change. A range over a missing hour shrinks.
        midnight = datetime.combine(day, time(0), tzinfo=self._tz)
        result = []
        for interval in self.working_intervals(day):
            start = (midnight + timedelta(minutes=interval.start)).astimezone(UTC)
            end = (midnight + timedelta(minutes=interval.end)).astimezone(UTC)
            if end > start:
                result.append((start, end))
        return result

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date()

    def _forward(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals ending after ``after`` (UTC), clipped to start no earlier, in order."""
        day = self._local_date(after)
        closed = 0
        while True:
            intervals = [(max(s, after), e) for s, e in self._utc_intervals(day) if e > after]
            closed = 0 if intervals else closed + 1
            if closed > MAX_CLOSED_DAYS:
                raise ValueError(f"the calendar has no working time for {MAX_CLOSED_DAYS} days after {day}")
            yield from intervals
            day += timedelta(days=1)

    def _backward(self, before: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals starting before ``before`` (UTC), clipped to end no later, latest first."""
        day = self._local_date(before)
        closed = 0
        while True:
            intervals = [(s, min(e, before)) for s, e in reversed(self._utc_intervals(day)) if s < before]
            closed = 0 if intervals else closed + 1
            if closed > MAX_CLOSED_DAYS:
                raise ValueError(f"the calendar has no working time for {MAX_CLOSED_DAYS} days before {day}")
            yield from intervals
            day -= timedelta(days=1)

    # ---- arithmetic ------------------------------------------------------------------------

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is inside working hours, else the start of the next working interval.

        Working intervals are half-open: at exactly 17:00 the office is closed.
        """
        start, _ = next(self._forward(_aware(moment, "moment")))
        return start.astimezone(self._tz)

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest moment by which ``duration`` of working time has passed since ``start``.

        Counting begins at the next working moment if ``start`` is outside working hours, so
        3 working hours from Friday 16:00 (hours 08:30-17:00) is Monday 10:30, and 1 hour from
        Friday 16:00 is Friday 17:00 itself. A zero duration returns ``start``; a negative one
        counts backwards (the latest moment with that much working time before ``start``).
        ``working_time_between(start, result) == duration`` always holds.
        """
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        moment = _aware(start, "start")
        if duration > timedelta(0):
            remaining = duration
            for s, e in self._forward(moment):
                if remaining <= e - s:
                    return (s + remaining).astimezone(self._tz)
                remaining -= e - s
        elif duration < timedelta(0):
            remaining = -duration
            for s, e in self._backward(moment):
                if remaining <= e - s:
                    return (e - remaining).astimezone(self._tz)
                remaining -= e - s
        return moment.astimezone(self._tz)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside ``[start, end]``; negative if ``end`` is before ``start``."""
        a, b = _aware(start, "start"), _aware(end, "end")
        if b < a:
            return -self.working_time_between(end, start)
        total = timedelta(0)
        for s, e in self._forward(a):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of working hours on the ``days``-th working day after the date of ``start``.

        The day of ``start`` never counts, whatever the hour or whether it is a working day,
        as in Latvian administrative practice where a term in days starts the following day; the
        term then runs to the close of that working day. Example with hours 08:30-17:00: a request
        on Friday 13 November 2026 at 16:00, 3 working days: Monday 16, Tuesday 17 and Thursday
        19 (18 November is a public holiday), so due Thursday 19 November 2026 at 17:00.
        ``days`` must be at least 1.
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {type(days).__name__}")
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        day = self._local_date(_aware(start, "start"))
        counted = 0
        closed = 0
        while True:
            day += timedelta(days=1)
            intervals = self._utc_intervals(day)
            if intervals:
                closed = 0
                counted += 1
                if counted == days:
                    return intervals[-1][1].astimezone(self._tz)
            else:
                closed += 1
                if closed > MAX_CLOSED_DAYS:
                    raise ValueError(f"the calendar has no working time for {MAX_CLOSED_DAYS} days after {day}")

    def due_in(self, start: datetime, spec: str) -> datetime:
        """The due time for a deadline written by a process owner; see :func:`parse_working_duration`.

        Working days use :meth:`add_working_days`, working time :meth:`add_working_time`.
        """
        amount = parse_working_duration(spec)
        if isinstance(amount, int):
            return self.add_working_days(start, amount)
        return self.add_working_time(start, amount)

    # ---- pausing -------------------------------------------------------------------------

    def pause_deadline(self, due: datetime, now: datetime) -> timedelta:
        """Working time left until ``due`` when a deadline pauses at ``now`` (e.g. waiting for the requester).

        An overdue deadline gives a negative remainder, so it is still overdue when resumed.
        """
        return self.working_time_between(now, due)

    def resume_deadline(self, remaining: timedelta, now: datetime) -> datetime:
        """The new due time when a paused deadline with ``remaining`` working time resumes at ``now``."""
        return self.add_working_time(now, remaining)

    def __repr__(self) -> str:
        return f"BusinessCalendar(timezone={self._tz.key!r}, country={self._country!r})"


# --------------------------------------------------------------------------------------------
# Deadlines as text
# --------------------------------------------------------------------------------------------

_DAYS_RE = re.compile(r"^(\d+)\s+(?:working\s+days?|work\s*days?|darba\s+dien(?:a|as|ām|u))$", re.IGNORECASE)
_HOURS_RE = re.compile(r"^(\d+)\s+(?:working\s+hours?|darba\s+stund(?:a|as|ām|u))$", re.IGNORECASE)
_ISO_RE = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?\s+working$",
    re.IGNORECASE,
)
ACCEPTED_FORMS = (
    "'<N> working days' or '<N> darba dienas' (also 'darba diena', 'darba dienām', 'darba dienu'), "
    "'<N> working hours' or '<N> darba stundas' (also 'darba stunda', 'darba stundām', 'darba stundu'), "
    "or an ISO 8601 duration marked 'working': 'P3D working' (working days) or 'PT4H30M working' (working time)"
)


def parse_working_duration(spec: str) -> int | timedelta:
    """Parse a deadline in working time: an ``int`` of working days, or a ``timedelta`` of working time.

    Accepted: ``"3 working days"``, ``"5 darba dienas"``, ``"4 working hours"``, ``"16 darba stundas"``,
    ``"P3D working"``, ``"PT4H30M working"``. An ISO duration must be days alone or time alone.
    A bad string raises :class:`ValueError` naming the text and the accepted forms.
    """
    if not isinstance(spec, str):
        raise TypeError(f"a working-time deadline must be text, got {type(spec).__name__}")
    text = " ".join(spec.split())
    if match := _DAYS_RE.match(text):
        days = int(match.group(1))
        if days < 1:
            raise ValueError(f"bad working-time deadline {spec!r}: at least 1 working day")
        return days
    if match := _HOURS_RE.match(text):
        hours = int(match.group(1))
        if hours < 1:
            raise ValueError(f"bad working-time deadline {spec!r}: at least 1 working hour")
        return timedelta(hours=hours)
    if (match := _ISO_RE.match(text)) and any(match.groupdict().values()):
        parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        days = parts.pop("days", None)
        if days is not None and parts:
            raise ValueError(
                f"bad working-time deadline {spec!r}: give working days (P3D) or working time (PT4H), not both"
            )
        if days is not None:
            if days < 1:
                raise ValueError(f"bad working-time deadline {spec!r}: at least 1 working day")
            return days
        duration = timedelta(**parts)
        if duration <= timedelta(0):
            raise ValueError(f"bad working-time deadline {spec!r}: the duration must be positive")
        return duration
    raise ValueError(f"bad working-time deadline {spec!r}; accepted forms: {ACCEPTED_FORMS}")


def load_calendar(path: str | Path | None = None) -> BusinessCalendar:
    """The calendar in the TOML file at ``path``, or the shipped default when ``path`` is None."""
    if path is not None:
        return BusinessCalendar.from_toml(path)
    if DEFAULT_CONFIG_PATH.is_file():
        return BusinessCalendar.from_toml(DEFAULT_CONFIG_PATH)
    # An installed wheel may lack the data file; the built-in defaults are the same calendar
    # (a test keeps the two equal).
    return BusinessCalendar()
