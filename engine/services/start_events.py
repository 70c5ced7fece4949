"""Start events that start instances by themselves: timer start events (jobs) and message start events.

They belong to a definition, not to an instance, and only the latest version of a key listens: a new
version takes over the schedule and subscriptions of the one before, as in Camunda 7.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import and_, delete, select

from engine import deadlines
from engine.errors import ScriptError
from engine.parsing.timers import TIME_CYCLE, TIME_DATE, TIME_DURATION, parse_iso_timer
from engine.runtime import MESSAGE
from engine.scripting import evaluate
from engine.storage.database import UnitOfWork
from engine.storage.tables import event_subscription, incident, job, process_definition

TIMER_START = "timer-start"


@dataclass(frozen=True)
class StartTimer:
    activity_id: str
    kind: str  # timeDate, timeDuration, timeCycle
    value: str  # the ISO 8601 value the expression gave


def _timer_kind(definition: TimerEventDefinition) -> str:
    if isinstance(definition, CycleTimerEventDefinition):
        return TIME_CYCLE
    if isinstance(definition, DurationTimerEventDefinition):
        return TIME_DURATION
    return TIME_DATE


def _start_events(spec: BpmnProcessSpec) -> list[Any]:
    return [t for t in spec.task_specs.values() if isinstance(t, StartEvent) and getattr(t, "event_definition", None)]


def start_timers(spec: BpmnProcessSpec) -> list[StartTimer]:
    """The timer start events of a process, with their values evaluated (they see no process data)."""
    timers = []
    for event in _start_events(spec):
        definition = event.event_definition
        if isinstance(definition, TimerEventDefinition):
            value = evaluate(definition.expression, {}, event.bpmn_id)
            if not isinstance(value, str):
                raise ScriptError(f"the timer gave {value!r}, not an ISO 8601 text", event.bpmn_id)
            timers.append(StartTimer(event.bpmn_id, _timer_kind(definition), value))
    return timers


def start_messages(spec: BpmnProcessSpec) -> list[tuple[str, str]]:
    """(activity id, message name) of every message start event of a process."""
    return [
        (event.bpmn_id, event.event_definition.name)
        for event in _start_events(spec)
        if isinstance(event.event_definition, MessageEventDefinition)
    ]


def first_due(timer: StartTimer, now: datetime) -> tuple[datetime, dict[str, Any]] | None:
    """When a start timer first fires and what its job keeps to reschedule; None if it never will (R0/...)."""
    iso = parse_iso_timer(timer.value, timer.kind)
    configuration: dict[str, Any] = {"kind": timer.kind, "value": timer.value}
    if timer.kind == TIME_DATE:
        # A date already past fires at once, as in Camunda.
        return iso.date, configuration
    if timer.kind == TIME_DURATION:
        return _later(now, iso), configuration
    if iso.repetitions == 0:
        return None
    configuration["remaining"] = iso.repetitions
    due = iso.date if iso.date is not None else _later(now, iso)
    return due, configuration


def next_due(configuration: dict[str, Any], fired_due: datetime) -> tuple[datetime, dict[str, Any]] | None:
    """A cycle's next repetition after the one due at ``fired_due``; None when it has run out."""
    if configuration.get("kind") != TIME_CYCLE:
        return None
    remaining = configuration.get("remaining", -1)
    if remaining > 0:
        remaining -= 1
        if remaining == 0:
            return None
    iso = parse_iso_timer(configuration["value"], TIME_CYCLE)
    return _later(fired_due, iso), {**configuration, "remaining": remaining}


def _later(moment: datetime, iso: Any) -> datetime:
    """``moment`` plus the timer's duration on the institution's wall clock: a 09:00 quarterly start stays at
    09:00 across daylight saving time, and months have their calendar lengths."""
    local = moment.astimezone(deadlines.calendar().timezone)
    return (local + iso.duration_from(local)).astimezone(UTC)


def register_definition(
    uow: UnitOfWork, definition: dict[str, Any], spec: BpmnProcessSpec, now: datetime, *, job_retries: int
) -> datetime | None:
    """Give a new latest definition version the start timers and message subscriptions of its key.

    Returns the earliest new job's due time, if any, so the scheduler can wake for it.
    """
    older = select(process_definition.c.id).where(
        and_(process_definition.c.key == definition["key"], process_definition.c.id != definition["id"])
    )
    old_jobs = select(job.c.id).where(and_(job.c.kind == TIMER_START, job.c.definition_id.in_(older)))
    uow.execute(delete(incident).where(incident.c.configuration.in_(old_jobs)))
    uow.execute(delete(job).where(and_(job.c.kind == TIMER_START, job.c.definition_id.in_(older))))
    uow.execute(
        delete(event_subscription).where(
            and_(event_subscription.c.instance_id.is_(None), event_subscription.c.definition_id.in_(older))
        )
    )
    earliest = None
    for timer in start_timers(spec):
        scheduled = first_due(timer, now)
        if scheduled is None:
            continue
        due, configuration = scheduled
        uow.execute(
            job.insert(),
            {
                "id": str(uuid.uuid4()),
                "kind": TIMER_START,
                "instance_id": None,
                "definition_id": definition["id"],
                "definition_key": definition["key"],
                "activity_id": timer.activity_id,
                "task_id": None,
                "due": due,
                "retries": job_retries,
                "configuration": configuration,
                "created": now,
            },
        )
        earliest = min(earliest or due, due)
    for activity_id, name in start_messages(spec):
        uow.execute(
            event_subscription.insert(),
            {
                "id": str(uuid.uuid4()),
                "event_type": MESSAGE,
                "event_name": name,
                "instance_id": None,
                "definition_id": definition["id"],
                "definition_key": definition["key"],
                "activity_id": activity_id,
                "task_id": None,
                "business_key": None,
                "created": now,
            },
        )
    return earliest
