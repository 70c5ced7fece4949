"""Deadlines in working time, for process owners' expressions (timers, scripts, conditions).

Public services count deadlines in working days. These functions are offered to every expression:

* ``due_in("3 darba dienas")`` -- the due time (ISO 8601 text, as a ``timeDate`` timer wants it) that
  many working days or hours from now, skipping weekends and public holidays;
* ``remaining_working_time(due)`` -- working seconds left until ``due`` (negative when overdue): keep it
  when the clock stops, e.g. while the process waits for the requester;
* ``resume_deadline(seconds)`` -- the new due time when the clock runs again.

"Now" is the time of the step that runs (the engine's clock), so a deadline is the same however long
the computation takes. The calendar is the institution's (``PLUSMA_CALENDAR``, else the shipped one).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.business_calendar import BusinessCalendar, load_calendar
from engine.clock import step_time

_calendar: BusinessCalendar | None = None


def use_calendar(calendar: BusinessCalendar) -> None:
    """Make ``calendar`` the one deadlines are counted in (one institution per Plūsma process)."""
    global _calendar
    _calendar = calendar


def calendar() -> BusinessCalendar:
    global _calendar
    if _calendar is None:
        _calendar = load_calendar(None)
    return _calendar


def _moment(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} {value!r} is not an ISO 8601 date-time") from None
    else:
        raise TypeError(f"{what} must be an ISO 8601 date-time text, not {type(value).__name__}")
    if moment.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no time zone offset")
    return moment


def due_in(spec: str) -> str:
    """The due time ``spec`` ("3 working days", "5 darba dienas", "4 darba stundas") from now."""
    if not isinstance(spec, str):
        raise TypeError(f"due_in needs a text such as '3 darba dienas', not {type(spec).__name__}")
    return calendar().due_in(step_time(), spec).isoformat()


def remaining_working_time(due: Any) -> int:
    """Working seconds from now until ``due``; negative when it has passed."""
    return int(calendar().pause_deadline(_moment(due, "due"), step_time()).total_seconds())


def resume_deadline(remaining_seconds: int | float) -> str:
    """The due time when ``remaining_seconds`` of working time are left from now."""
    if not isinstance(remaining_seconds, int | float) or isinstance(remaining_seconds, bool):
        raise TypeError("resume_deadline needs the number of working seconds left")
    return calendar().resume_deadline(timedelta(seconds=remaining_seconds), step_time()).isoformat()


#: What expressions may call.
FUNCTIONS = {
    "due_in": due_in,
    "remaining_working_time": remaining_working_time,
    "resume_deadline": resume_deadline,
}
