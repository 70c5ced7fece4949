"""Who a user task is for: camunda:assignee, candidateUsers, candidateGroups, else the lane; and
tasks inside embedded subprocesses. Runs on the engine's services directly."""

from __future__ import annotations

from engine.errors import Forbidden
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
    instance = engine.instances.start(ANNA, key="leave_request", variables={"amount": 50, "urgent": False})
    [review] = open_tasks(engine, ANNA)
    assert review["task_definition_key"] == "Task_review" and review["assignee"] == "anna"
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
    instance = engine.instances.start(ANNA, key="leave_request", variables={"amount": 500, "urgent": False})
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
    engine.instances.start(Principal("anna", frozenset()), key="leave_request", variables={"amount": 1, "urgent": True})


def test_bare_iso_timer_as_the_modeller_writes_it_gets_a_due_time(engine):
    engine.deployments.deploy(FILES, principal=SYSTEM)
    instance = engine.instances.start(ANNA, key="leave_request", variables={"amount": 5, "urgent": False})
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
