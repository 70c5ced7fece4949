"""Deadlines in working time inside processes: due_in, and a deadline that stops while the process
waits for the requester and runs on afterwards. Dates are real Latvian calendar dates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine import deadlines
from engine.business_calendar import BusinessCalendar
from engine.clock import ManualClock
from engine.identity import SYSTEM
from engine.process_engine import ProcessEngine
from engine.services.tasks import TaskQuery
from tests.conftest import FIXTURES

RIGA = ZoneInfo("Europe/Riga")


def riga(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(riga(2026, 11, 23, 9, 0))  # Monday


@pytest.fixture
def engine(settings, clock):
    engine = ProcessEngine(settings, clock=clock)
    engine.deployments.deploy(
        {"deadline_pause.bpmn": (FIXTURES / "deadline_pause.bpmn").read_bytes()}, principal=SYSTEM, name="deadlines"
    )
    yield engine
    engine.close()


def _due(engine: ProcessEngine, instance_id: str, activity_id: str) -> datetime:
    (job,) = [j for j in engine.jobs.list(instance_id=instance_id) if j["activity_id"] == activity_id]
    due = job["due"]
    return (due if due.tzinfo else due.replace(tzinfo=UTC)).astimezone(RIGA)


def _open(engine: ProcessEngine, instance_id: str) -> list[str]:
    return [t["task_definition_key"] for t in engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance_id))]


def test_due_in_working_days_skips_the_weekend_and_proclamation_day(engine, clock):
    # Friday 13 November 2026, 16:00: Monday 16, Tuesday 17, (18th is a holiday), Thursday 19.
    clock.set(riga(2026, 11, 13, 16, 0))
    instance = engine.instances.start(SYSTEM, key="termina_apturesana", variables={"izpildes_laiks": "3 darba dienas"})
    assert _due(engine, instance["id"], "Termins_izskatit") == riga(2026, 11, 19, 17, 0)
    # On the day, the SLA timer escalates; not a minute before.
    clock.set(riga(2026, 11, 19, 16, 59))
    assert engine.jobs.run_due("w") == []
    clock.set(riga(2026, 11, 19, 17, 1))
    assert [o.result for o in engine.jobs.run_due("w")] == ["done"]
    assert _open(engine, instance["id"]) == ["Task_eskalet"]


def test_the_deadline_stops_while_waiting_for_the_requester_and_runs_on_after(engine, clock):
    instance = engine.instances.start(SYSTEM, key="termina_apturesana", variables={"izpildes_laiks": "5 darba dienas"})
    # Monday 23 Nov 09:00 + 5 working days: the end of Monday 30 November.
    assert _due(engine, instance["id"], "Termins_izskatit") == riga(2026, 11, 30, 17, 0)

    # Tuesday 09:00 the executor asks the requester for more documents: 42 working hours are left
    # (Tue 8 h, Wed-Fri 3 x 8.5 h, Mon 8.5 h).
    clock.set(riga(2026, 11, 24, 9, 0))
    (task,) = engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance["id"]))
    engine.tasks.complete(SYSTEM, task["id"], {})
    assert engine.instances.variables(SYSTEM, instance["id"])["atlikums"] == 42 * 3600
    # While the process waits nothing counts down: no timer job at all.
    assert engine.jobs.list(instance_id=instance["id"]) == []

    # The documents arrive the next Monday 09:00: the 42 hours run from then, to Friday 4 December 17:00.
    clock.set(riga(2026, 11, 30, 9, 0))
    engine.messages.correlate(SYSTEM, "papildinajumi_sanemti", process_instance_id=instance["id"])
    assert _open(engine, instance["id"]) == ["Task_pabeigt"]
    assert _due(engine, instance["id"], "Termins_pabeigt") == riga(2026, 12, 4, 17, 0)


def test_an_institution_calendar_with_an_extra_day_off_moves_the_deadline(engine, clock):
    deadlines.use_calendar(BusinessCalendar(extra_days_off=["2026-11-24"]))
    try:
        instance = engine.instances.start(
            SYSTEM, key="termina_apturesana", variables={"izpildes_laiks": "1 darba diena"}
        )
        # Tuesday is off: the next working day after Monday is Wednesday.
        assert _due(engine, instance["id"], "Termins_izskatit") == riga(2026, 11, 25, 17, 0)
    finally:
        deadlines.use_calendar(BusinessCalendar())


def test_a_bad_deadline_text_stops_the_start_with_the_element_named(engine):
    from engine.errors import PlusmaError

    with pytest.raises(PlusmaError) as caught:
        engine.instances.start(SYSTEM, key="termina_apturesana", variables={"izpildes_laiks": "3 nedēļas"})
    assert "Noteikt_terminu" in str(caught.value) and "3 nedēļas" in str(caught.value)
    assert engine.instances.list(SYSTEM) == []


def test_due_in_uses_the_steps_time():
    from engine.clock import spiff_time

    with spiff_time(datetime(2026, 11, 13, 14, 0, tzinfo=UTC)):  # Friday 16:00 in Riga
        assert datetime.fromisoformat(deadlines.due_in("3 working days")) == riga(2026, 11, 19, 17, 0)
        # Due at the end of Monday: from Friday 16:00, one working hour left on Friday and 8.5 on Monday.
        assert deadlines.remaining_working_time(deadlines.due_in("1 darba diena")) == int(9.5 * 3600)
        with pytest.raises(ValueError, match="no time zone"):
            deadlines.remaining_working_time("2026-11-20T10:00:00")
