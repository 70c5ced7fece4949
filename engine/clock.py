"""The engine's notion of now; tests replace it to control time.

SpiffWorkflow's timer events read ``datetime.now`` themselves. :func:`spiff_time` makes them read the
time of the step the engine is running instead, so a timer fires when the engine's clock says so,
in tests as in production, and one step sees one instant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock(Clock):
    """A clock that moves only when told to: for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


_step_time: ContextVar[datetime | None] = ContextVar("plusma_step_time", default=None)


class _StepDatetime(datetime):
    """``datetime`` whose ``now()`` is the running step's time, if any."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206 - datetime.now's signature
        moment = _step_time.get()
        if moment is None:
            return datetime.now(tz)
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


# SpiffWorkflow's timer module is the only place it asks for the time.
_spiff_timer.datetime = _StepDatetime


def stored_utc(value: datetime) -> datetime:
    """A datetime read from the database, aware in UTC: SQLite hands back naive datetimes, and the engine
    stores UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def step_time() -> datetime:
    """The time of the step running in this context, else the wall clock."""
    moment = _step_time.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def spiff_time(moment: datetime) -> Iterator[None]:
    """Run a block in which SpiffWorkflow's timers see ``moment`` as now."""
    token = _step_time.set(moment)
    try:
        yield
    finally:
        _step_time.reset(token)
