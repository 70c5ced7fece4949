"""Who a user task is for: camunda:assignee, candidateUsers, candidateGroups, else the lane; and
tasks inside embedded subprocesses. Runs on the engine's services directly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import Forbidden, PlusmaError
from engine.identity import SYSTEM, Principal
from engine.services.tasks import TaskQuery
from tests.conftest import FIXTURES

MODELS = FIXTURES / "models"
FILES = {name: (MODELS / name).read_bytes() for name in ("leave_request.bpmn", "review.form", "risk.dmn")}

ANNA = Principal("anna", frozenset({"staff"}))
JONAS = Principal("jonas", frozenset())
MANAGER = Principal("maris", frozenset({"Manager"}))
ARCHIVIST = Principal("arta", frozenset({"archive"}))
CLERK = Principal("klara", frozenset({"kac"}))


def open_tasks(engine, principal, **filters):
    return engine.tasks.list(principal, TaskQuery(**filters))


def test_assignee_candidates_and_lane(engine):
    engine.deployments.deploy(FILES, principal=SYSTEM)
    instance = engine.instances.start(
        ANNA, key="leave_request", variables={"amount": 50, "urgent": False, "dueDate": "2026-12-01T09:00:00+02:00"}
    )
    [review] = open_tasks(engine, ANNA)
    assert review["task_definition_key"] == "Task_review" and review["assignee"] == "anna"
    # camunda:dueDate="${dueDate}" is evaluated over the task's data.
    due = review["due"] if review["due"].tzinfo else review["due"].replace(tzinfo=UTC)
    assert due == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert review["priority"] == 60 and review["form_ref"] == "review-form"
    assert engine.tasks.candidates(review["id"]) == {"group": ["kac", "l2"], "user": ["jonas", "marta"]}
    # candidates see it; someone else does not
    assert [t["id"] for t in open_tasks(engine, JONAS)] == [review["id"]]
    assert [t["id"] for t in open_tasks(engine, CLERK)] == [review["id"]]
    assert open_tasks(engine, MANAGER) == []
    # assigned to anna: a candidate may not complete it, anna may
    try:
        engine.tasks.complete(JONAS, review["id"], {"comment": "ok"})
    except Forbidden as error:
        assert "anna" in error.message
    else:
        raise AssertionError("a candidate completed a task assigned to someone else")
    engine.tasks.complete(ANNA, review["id"], {"comment": "ok"})

    [approve] = open_tasks(engine, MANAGER)
    assert approve["task_definition_key"] == "Task_approve"
    assert approve["form_key"] == "camunda-forms:deployment:review.form"
    assert approve["form_ref"] == "review-form", "the file's form id, resolved at deployment"
    assert set(engine.tasks.form_variables(MANAGER, approve["id"])) == {"comment", "urgent"}
    assert engine.tasks.candidates(approve["id"]) == {"group": ["Manager"], "user": []}, "the lane names the role"
    assert open_tasks(engine, ANNA) == []
    engine.tasks.complete(MANAGER, approve["id"], {})
    assert engine.instances.get(SYSTEM, instance["id"])["state"] == "COMPLETED"


def test_user_task_in_an_embedded_subprocess(engine):
    engine.deployments.deploy(FILES, principal=SYSTEM)
    instance = engine.instances.start(
        ANNA, key="leave_request", variables={"amount": 500, "urgent": False, "dueDate": "2026-12-01T09:00:00Z"}
    )
    [review] = open_tasks(engine, ANNA)
    engine.tasks.complete(ANNA, review["id"], {})
    [file_task] = open_tasks(engine, ARCHIVIST)
    assert file_task["task_definition_key"] == "Task_file"
    variables = engine.instances.variables(SYSTEM, instance["id"])
    assert variables["fee"] == 10.0 and variables["approved"] is True
    engine.tasks.complete(ARCHIVIST, file_task["id"], {"archived": True})
    assert engine.instances.get(SYSTEM, instance["id"])["state"] == "COMPLETED"
    events = engine.history.events(instance["id"])
    completed = [e["activity_id"] for e in events if e["event_type"] == "activity_completed"]
    assert completed.index("Task_file") < completed.index("Sub_archive") < completed.index("End_done")
    cancelled = [e["activity_id"] for e in events if e["event_type"] == "activity_cancelled"]
    assert cancelled == ["Timer_review"], "the boundary timer was cancelled when the review completed"


def test_start_is_limited_to_candidate_starters(engine):
    engine.deployments.deploy(FILES, principal=SYSTEM)
    try:
        engine.instances.start(CLERK, key="leave_request", variables={"amount": 1, "urgent": False})
    except Forbidden as error:
        assert "leave_request" in error.message
    else:
        raise AssertionError("a user outside candidateStarterGroups started the process")
    engine.instances.start(
        Principal("anna", frozenset()),
        key="leave_request",
        variables={"amount": 1, "urgent": True, "dueDate": "2026-12-01T09:00:00Z"},
    )


def test_bare_iso_timer_as_the_modeller_writes_it_gets_a_due_time(engine):
    engine.deployments.deploy(FILES, principal=SYSTEM)
    instance = engine.instances.start(
        ANNA, key="leave_request", variables={"amount": 5, "urgent": False, "dueDate": "2026-12-01T09:00:00Z"}
    )
    with engine.db.transaction(write=False) as uow:
        workflow = engine.instances.store.load(uow, instance["id"]).workflow
    [event] = workflow.waiting_events()
    from engine.variables import parse_date

    due = parse_date(event.value)
    delay = (due - instance["start_time"]).total_seconds()
    assert 2.5 < delay < 4, delay
    # the stored file keeps the modeller's text
    definition = engine.definitions.latest("leave_request")
    assert b">PT3S<" in engine.definitions.xml(definition)


EXPRESSIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="izpilde" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Task_izpildit"/>
    <bpmn:userTask id="Task_izpildit" name="Izpildit" camunda:assignee="${izpilditajs}"
        camunda:candidateGroups="${grupa}, kac" camunda:priority="${100 - prioritate * 20}"
        camunda:dueDate="${due_in('3 darba dienas')}"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Task_izpildit" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_user_task_attributes_may_be_expressions_over_the_process_data(engine):
    from engine.clock import ManualClock

    clock = ManualClock(datetime(2026, 11, 13, 14, 0, tzinfo=UTC))  # Friday 16:00 in Riga
    engine.clock = engine.instances.clock = clock
    engine.deployments.deploy({"izpilde.bpmn": EXPRESSIONS}, principal=SYSTEM)
    engine.instances.start(SYSTEM, key="izpilde", variables={"izpilditajs": "ilze", "grupa": "l2", "prioritate": 2})
    [task] = open_tasks(engine, Principal("ilze", frozenset()))
    assert task["assignee"] == "ilze" and task["priority"] == 60
    assert engine.tasks.candidates(task["id"]) == {"group": ["kac", "l2"], "user": []}
    due = task["due"] if task["due"].tzinfo else task["due"].replace(tzinfo=UTC)
    # Three working days from Friday 13 Nov: Mon 16, Tue 17, (18 Nov is a holiday), Thu 19 at 17:00 Riga.
    assert due == datetime(2026, 11, 19, 15, 0, tzinfo=UTC)


def test_an_attribute_expression_that_fails_names_the_element_and_starts_nothing(engine):
    engine.deployments.deploy({"izpilde.bpmn": EXPRESSIONS}, principal=SYSTEM)
    with pytest.raises(PlusmaError) as caught:
        engine.instances.start(SYSTEM, key="izpilde", variables={"grupa": "l2", "prioritate": 2})
    assert "Task_izpildit" in str(caught.value) and "izpilditajs" in str(caught.value)
    assert engine.instances.list(SYSTEM) == []
