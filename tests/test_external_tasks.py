"""External tasks (Camunda's fetchAndLock pattern) through the REST API, on SQLite and PostgreSQL.

Most tests run the engine on a ManualClock, so lock expiry and retry timeouts are reached by moving the
clock, not by sleeping; only long polling waits for real. The last test runs the real Camunda client
(``camunda-external-task-client-python3``) against a running ``plusma serve``.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from engine.clock import ManualClock
from engine.identity import SYSTEM, Principal
from engine.process_engine import ProcessEngine
from engine.services.external_tasks import ExternalTaskService, FetchTopic
from engine.services.tasks import TaskQuery
from engine.variables import parse_date
from tests import live_server
from tests.conftest import FIXTURES, PASSWORD, ApiClient, typed
from tests.live_server import LiveServer, run_cli

pytest_plugins = ["tests.live_server"]

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
KEY = "adreses_parbaude"
TOPIC = "adreses-parbaude"
PROCESS = FIXTURES / "external_task.bpmn"
FETCH = "/engine-rest/external-task/fetchAndLock"
TASKS = "/engine-rest/external-task"
#: A member of "external-worker": the group that may work on external tasks besides "admin".
ROBOT = Principal("robots", frozenset({"external-worker"}))
ADDRESS = {"iela": "Brīvības iela", "numurs": 1, "prioritate": 0}


class Client(ApiClient):
    """The conftest client with PUT."""

    def as_user(self, user: str | None) -> Client:
        return Client(self.client, user)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def clocked(settings, clock):
    engine = ProcessEngine(settings, clock=clock)
    engine.users.create_user("admin", PASSWORD, groups=["admin"])
    engine.users.create_user("robots", PASSWORD, groups=["external-worker"])
    engine.users.create_user("klara", PASSWORD, groups=["kac"])
    engine.deployments.deploy({PROCESS.name: PROCESS.read_bytes()}, principal=SYSTEM, name="external")
    yield engine
    engine.close()


@pytest.fixture
def worker(clocked) -> Client:
    """A REST client signed in as the worker user ``robots``, on the clocked engine."""
    from web.app import create_app

    app = create_app(engine=clocked)
    app.config["TESTING"] = True
    return Client(app.test_client(), "robots")


def start(engine: ProcessEngine, business_key: str | None = None, drop: tuple[str, ...] = (), **variables) -> dict:
    values = {k: v for k, v in {**ADDRESS, **variables}.items() if k not in drop}
    return engine.instances.start(SYSTEM, key=KEY, variables=values, business_key=business_key)


def fetch(client: ApiClient, worker_id: str = "worker-a", max_tasks: int = 10, lock: int = 60_000, **body) -> list:
    topic = {"topicName": TOPIC, "lockDuration": lock, **body.pop("topic", {})}
    response = client.post(FETCH, json={"workerId": worker_id, "maxTasks": max_tasks, "topics": [topic], **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def only(items: list) -> dict:
    assert len(items) == 1, items
    return items[0]


def open_tasks(engine: ProcessEngine, instance_id: str) -> list[str]:
    return [t["task_definition_key"] for t in engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance_id))]


def event_types(engine: ProcessEngine, instance_id: str) -> list[str]:
    return [e["event_type"] for e in engine.history.events(instance_id)]


# --- the round trip --------------------------------------------------------------------------------------


def test_fetch_lock_and_complete_round_trip_with_typed_variables(api):
    engine = api.client.application.extensions["plusma"]
    assert api.deploy(PROCESS, name="external").status_code == 200
    started = api.post(
        f"/engine-rest/process-definition/key/{KEY}/start",
        json={"businessKey": "ADR-1", "variables": typed(iela="Brīvības iela", numurs=1, prioritate=7)},
    )
    assert started.status_code == 200, started.get_json()
    instance_id = started.get_json()["id"]

    waiting = only(api.get(TASKS, query_string={"processInstanceId": instance_id, "notLocked": "true"}).get_json())
    assert (waiting["topicName"], waiting["activityId"]) == (TOPIC, "Task_parbaudit_adresi")
    assert (waiting["priority"], waiting["businessKey"], waiting["workerId"], waiting["retries"]) == (
        7,
        "ADR-1",
        None,
        None,
    )

    before = datetime.now(UTC)
    task = only(fetch(api, "worker-a", variables=None, topic={"variables": ["iela", "adrese", "nav_tadas"]}))
    assert task["id"] == waiting["id"] and task["activityInstanceId"] == waiting["id"]
    assert (task["workerId"], task["topicName"], task["processInstanceId"]) == ("worker-a", TOPIC, instance_id)
    assert (task["processDefinitionKey"], task["businessKey"], task["priority"]) == (KEY, "ADR-1", 7)
    assert task["processDefinitionId"] == waiting["processDefinitionId"] and task["retries"] is None
    assert parse_date(task["lockExpirationTime"]) >= before + timedelta(seconds=59)
    # Only the variables asked for: a process variable and an input parameter (the task's local variable).
    assert task["variables"] == {
        "iela": {"type": "String", "value": "Brīvības iela", "valueInfo": {}},
        "adrese": {"type": "String", "value": "Brīvības iela 1, Rīga", "valueInfo": {}},
    }
    assert fetch(api, "worker-b") == []  # locked
    assert api.get(f"{TASKS}/{task['id']}").get_json()["workerId"] == "worker-a"

    completed = api.post(
        f"{TASKS}/{task['id']}/complete",
        json={
            "workerId": "worker-a",
            "variables": {
                "parbaudits": {"type": "Date", "value": "2026-11-24T10:15:00.000+0200"},
                "rezultats": {"type": "Json", "value": '{"kods": 100, "avots": "VZD"}'},
                "atrasts": {"type": "Boolean", "value": True},
            },
            "localVariables": {"derigs": {"type": "Boolean", "value": True}},
        },
    )
    assert completed.status_code == 204, completed.get_json()

    (user_task,) = api.get("/engine-rest/task", query_string={"processInstanceId": instance_id}).get_json()
    assert user_task["taskDefinitionKey"] == "Task_apstiprinat"
    variables = api.get(f"/engine-rest/process-instance/{instance_id}/variables").get_json()
    assert variables["parbaudits"]["type"] == "Date"
    assert parse_date(variables["parbaudits"]["value"]) == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert variables["rezultats"]["type"] == "Json"
    assert variables["atrasts"] == {"type": "Boolean", "value": True, "valueInfo": {}}
    # The output parameter mapped the local variable; local variables themselves stay with the task.
    assert variables["adrese_deriga"] == {"type": "Boolean", "value": True, "valueInfo": {}}
    assert "derigs" not in variables and "adrese" not in variables
    assert api.get(TASKS, query_string={"processInstanceId": instance_id}).get_json() == []

    done = [e for e in engine.history.events(instance_id) if e["event_type"] == "external_task_completed"]
    assert [(e["user_id"], e["activity_id"], e["data"]["workerId"]) for e in done] == [
        ("admin", "Task_parbaudit_adresi", "worker-a")
    ]


def test_local_variables_only_and_all_variables(clocked, worker):
    start(clocked, numurs=12)
    (task,) = fetch(worker, topic={"localVariables": True})
    assert {name: v["value"] for name, v in task["variables"].items()} == {
        "adrese": "Brīvības iela 12, Rīga",
        "avots": "VZD",
    }
    worker.post(f"{TASKS}/{task['id']}/unlock")
    (again,) = fetch(worker)
    assert set(again["variables"]) == {"iela", "numurs", "prioritate", "adrese", "avots"}
    assert again["variables"]["numurs"] == {"type": "Integer", "value": 12, "valueInfo": {}}


# --- locking ---------------------------------------------------------------------------------------------


def test_two_workers_fetching_concurrently_never_get_the_same_task(clocked, clock, settings):
    instances = [start(clocked) for _ in range(24)]
    other = ProcessEngine(settings, clock=clock)  # a second Plūsma process on the same database
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(engine: ProcessEngine, worker_id: str) -> None:
        try:
            barrier.wait()
            mine: list[str] = []
            while True:
                tasks = engine.external_tasks.fetch_and_lock(ROBOT, worker_id, 3, [FetchTopic(TOPIC, 60_000)])
                if not tasks:
                    break
                assert all(t["worker_id"] == worker_id for t in tasks)
                mine += [t["id"] for t in tasks]
            got[worker_id] = mine
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    try:
        threads = [
            threading.Thread(target=work, args=(engine, f"worker-{n}"))
            for n, engine in enumerate([clocked, clocked, other, other])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        other.close()
    assert errors == []
    fetched = [task_id for ids in got.values() for task_id in ids]
    assert len(fetched) == len(set(fetched)) == len(instances)
    # Each row is locked to the worker that received it.
    holders = {t["id"]: t["worker_id"] for t in clocked.external_tasks.list(ROBOT)}
    assert holders == {task_id: worker_id for worker_id, ids in got.items() for task_id in ids}


def test_an_expired_lock_lets_another_worker_fetch_and_only_the_new_holder_completes(clocked, clock, worker):
    instance = start(clocked)
    (task,) = fetch(worker, "worker-a", lock=60_000)
    assert fetch(worker, "worker-b") == []
    clock.advance(timedelta(seconds=59))
    assert fetch(worker, "worker-b") == []
    clock.advance(timedelta(seconds=2))
    (taken,) = fetch(worker, "worker-b")
    assert taken["id"] == task["id"] and taken["workerId"] == "worker-b"

    late = worker.post(f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-a", "variables": typed(x=1)})
    assert late.status_code == 400
    assert "worker-b" in late.get_json()["message"]
    assert open_tasks(clocked, instance["id"]) == []
    # The output parameter adrese_deriga reads ${derigs}: without it the completion fails and changes nothing.
    unmapped = worker.post(f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-b"})
    assert unmapped.status_code == 400 and "derigs" in unmapped.get_json()["message"]
    done = worker.post(
        f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-b", "localVariables": typed(derigs=False)}
    )
    assert done.status_code == 204
    assert open_tasks(clocked, instance["id"]) == ["Task_apstiprinat"]
    assert clocked.instances.variables(SYSTEM, instance["id"])["adrese_deriga"] is False


def test_a_result_from_a_worker_that_does_not_hold_the_lock_is_refused(clocked, worker):
    instance = start(clocked)
    (row,) = worker.get(TASKS).get_json()
    never = worker.post(f"{TASKS}/{row['id']}/complete", json={"workerId": "worker-a"})
    assert never.status_code == 400 and "no worker" in never.get_json()["message"]
    fetch(worker, "worker-a")
    for action, body in (
        ("complete", {}),
        ("failure", {"errorMessage": "x", "retries": 0}),
        ("bpmnError", {"errorCode": "NAV_ATRASTA"}),
        ("extendLock", {"newDuration": 1000}),
    ):
        refused = worker.post(f"{TASKS}/{row['id']}/{action}", json={"workerId": "worker-x", **body})
        assert refused.status_code == 400, action
        assert refused.get_json()["type"] == "InvalidRequestException"
    assert worker.get(f"{TASKS}/{row['id']}").get_json()["workerId"] == "worker-a"
    assert worker.get(f"{TASKS}/{row['id']}").get_json()["retries"] is None
    assert open_tasks(clocked, instance["id"]) == []


def test_extend_lock_and_unlock(clocked, clock, worker):
    start(clocked)
    (task,) = fetch(worker, "worker-a", lock=10_000)
    url = f"{TASKS}/{task['id']}"
    assert worker.post(f"{url}/extendLock", json={"workerId": "worker-a", "newDuration": 60_000}).status_code == 204
    clock.advance(timedelta(seconds=30))
    assert fetch(worker, "worker-b") == []
    clock.advance(timedelta(seconds=31))
    expired = worker.post(f"{url}/extendLock", json={"workerId": "worker-a", "newDuration": 60_000})
    assert expired.status_code == 400 and "expired" in expired.get_json()["message"]
    assert only(fetch(worker, "worker-b"))["id"] == task["id"]
    assert worker.post(f"{url}/unlock").status_code == 204
    row = worker.get(url).get_json()
    assert (row["workerId"], row["lockExpirationTime"]) == (None, None)
    assert only(fetch(worker, "worker-a"))["id"] == task["id"]


# --- failures and incidents ------------------------------------------------------------------------------


def test_a_failure_with_retries_is_fetchable_again_only_after_its_retry_timeout(clocked, clock, worker):
    start(clocked)
    (task,) = fetch(worker, "worker-a")
    failed = worker.post(
        f"{TASKS}/{task['id']}/failure",
        json={
            "workerId": "worker-a",
            "errorMessage": "Reģistrs neatbild",
            "errorDetails": "timeout after 30 s",
            "retries": 2,
            "retryTimeout": 30_000,
        },
    )
    assert failed.status_code == 204, failed.get_json()
    row = worker.get(f"{TASKS}/{task['id']}").get_json()
    assert (row["retries"], row["errorMessage"]) == (2, "Reģistrs neatbild")
    assert worker.get(f"{TASKS}/{task['id']}/errorDetails").get_data(as_text=True) == "timeout after 30 s"
    assert fetch(worker, "worker-b") == []
    clock.advance(timedelta(seconds=29))
    assert fetch(worker, "worker-b") == []
    clock.advance(timedelta(seconds=2))
    (again,) = fetch(worker, "worker-b")
    assert (again["id"], again["retries"], again["errorMessage"]) == (task["id"], 2, "Reģistrs neatbild")
    assert again["errorDetails"] == "timeout after 30 s"
    assert worker.as_user("admin").get("/engine-rest/incident").get_json() == []


def test_a_failure_without_retries_is_an_incident_until_an_admin_sets_retries(clocked, clock, worker):
    instance = start(clocked)
    admin = worker.as_user("admin")
    (task,) = fetch(worker, "worker-a")
    failed = worker.post(
        f"{TASKS}/{task['id']}/failure",
        json={"workerId": "worker-a", "errorMessage": "Reģistrs nav pieejams", "retries": 0, "retryTimeout": 0},
    )
    assert failed.status_code == 204

    incident = only(admin.get("/engine-rest/incident", query_string={"processInstanceId": instance["id"]}).get_json())
    assert (incident["incidentType"], incident["configuration"]) == ("failedExternalTask", task["id"])
    assert (incident["activityId"], incident["incidentMessage"]) == ("Task_parbaudit_adresi", "Reģistrs nav pieejams")
    assert only(worker.get(TASKS, query_string={"noRetriesLeft": "true"}).get_json())["id"] == task["id"]
    assert worker.get(f"{TASKS}/count", query_string={"withRetriesLeft": "true"}).get_json() == {"count": 0}
    clock.advance(timedelta(minutes=10))
    assert fetch(worker, "worker-b") == []  # no retries left: it waits for a person

    denied = worker.put(f"{TASKS}/{task['id']}/retries", json={"retries": 1})
    assert denied.status_code == 403
    assert admin.put(f"{TASKS}/{task['id']}/retries", json={"retries": 1}).status_code == 204
    assert admin.get("/engine-rest/incident").get_json() == []
    (again,) = fetch(worker, "worker-b")
    assert (again["id"], again["retries"]) == (task["id"], 1)
    kinds = event_types(clocked, instance["id"])
    assert kinds.index("external_task_failed") < kinds.index("incident_created") < kinds.index("incident_resolved")


def test_cancelling_the_instance_removes_its_external_task_and_incident(clocked, worker):
    instance = start(clocked)
    admin = worker.as_user("admin")
    (task,) = fetch(worker)
    worker.post(f"{TASKS}/{task['id']}/failure", json={"workerId": "worker-a", "errorMessage": "x", "retries": 0})
    assert len(admin.get("/engine-rest/incident").get_json()) == 1
    assert admin.delete(f"/engine-rest/process-instance/{instance['id']}").status_code == 204
    assert worker.get(TASKS).get_json() == []
    assert admin.get("/engine-rest/incident").get_json() == []
    assert worker.post(f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-a"}).status_code == 404


def test_input_parameters_that_cannot_be_evaluated_become_an_incident(clocked, worker):
    instance = start(clocked, drop=("numurs",))
    assert fetch(worker) == []
    row = only(worker.get(TASKS).get_json())
    assert (row["retries"], row["workerId"]) == (0, None)
    assert "Input parameters of 'Task_parbaudit_adresi'" in row["errorMessage"] and "numurs" in row["errorMessage"]
    admin = worker.as_user("admin")
    assert only(admin.get("/engine-rest/incident").get_json())["configuration"] == row["id"]

    # Fixed: the variable is set and the task gets a retry.
    clocked.instances.set_variables(SYSTEM, instance["id"], {"numurs": 3})
    assert admin.put(f"{TASKS}/{row['id']}/retries", json={"retries": 1}).status_code == 204
    (task,) = fetch(worker)
    assert task["variables"]["adrese"]["value"] == "Brīvības iela 3, Rīga"


# --- BPMN errors and boundary events -----------------------------------------------------------------------


def test_a_bpmn_error_is_caught_by_the_boundary_error_event_for_its_code(clocked, worker):
    instance = start(clocked)
    (task,) = fetch(worker)
    url = f"{TASKS}/{task['id']}/bpmnError"
    uncaught = worker.post(url, json={"workerId": "worker-a", "errorCode": "CITA_KLUDA"})
    assert uncaught.status_code == 400
    assert "CITA_KLUDA" in uncaught.get_json()["message"]
    assert worker.get(f"{TASKS}/{task['id']}").get_json()["workerId"] == "worker-a"  # nothing changed

    caught = worker.post(
        url,
        json={
            "workerId": "worker-a",
            "errorCode": "NAV_ATRASTA",
            "errorMessage": "Adrese nav atrasta",
            "variables": typed(iemesls="Nav adrešu reģistrā"),
        },
    )
    assert caught.status_code == 204, caught.get_json()
    assert open_tasks(clocked, instance["id"]) == ["Task_precizet"]
    assert clocked.instances.variables(SYSTEM, instance["id"])["iemesls"] == "Nav adrešu reģistrā"
    assert worker.get(TASKS).get_json() == []
    (event,) = [e for e in clocked.history.events(instance["id"]) if e["event_type"] == "external_task_bpmn_error"]
    assert (event["data"]["errorCode"], event["data"]["errorMessage"]) == ("NAV_ATRASTA", "Adrese nav atrasta")


def test_a_bpmn_error_inside_a_subprocess_is_caught_by_the_subprocess_boundary_event_for_its_code(clocked, worker):
    model = FIXTURES / "external_subprocess_error.bpmn"
    clocked.deployments.deploy({model.name: model.read_bytes()}, principal=SYSTEM, name="external")
    # The subprocess has a catch-all error event (first in the file) and one for REGISTRS: the one naming the
    # code wins, the catch-all takes the rest.
    for code, expected in (("REGISTRS", "Task_gaidit_registru"), ("CITS", "Task_izvertet_kludu")):
        instance = clocked.instances.start(SYSTEM, key="registra_parbaudes")
        (task,) = fetch(worker, topic={"topicName": "registra-parbaude"})
        response = worker.post(f"{TASKS}/{task['id']}/bpmnError", json={"workerId": "worker-a", "errorCode": code})
        assert response.status_code == 204, response.get_json()
        assert open_tasks(clocked, instance["id"]) == [expected]
        events = clocked.history.events(instance["id"])
        cancelled = {e["activity_id"] for e in events if e["event_type"] == "activity_cancelled"}
        assert {"Parbaudes", "Task_parbaudit_registra"} <= cancelled
    assert worker.get(TASKS).get_json() == []


def test_a_boundary_timer_interrupting_the_external_task_removes_it(clocked, clock, worker):
    instance = start(clocked)
    (task,) = fetch(worker)
    clock.set(START + timedelta(hours=1, seconds=1))
    assert [o.result for o in clocked.jobs.run_due("scheduler")] == ["done"]
    assert worker.get(TASKS).get_json() == []
    assert open_tasks(clocked, instance["id"]) == ["Task_parbaudit_manuali"]
    late = worker.post(f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-a"})
    assert late.status_code == 404


# --- long polling ------------------------------------------------------------------------------------------


def _fetch_in_thread(client: ApiClient, timeout_ms: int) -> tuple[threading.Thread, dict]:
    result: dict = {}

    def run() -> None:
        began = time.monotonic()
        response = client.post(
            FETCH,
            json={
                "workerId": "poller",
                "maxTasks": 1,
                "asyncResponseTimeout": timeout_ms,
                "topics": [{"topicName": TOPIC, "lockDuration": 60_000}],
            },
        )
        result.update(status=response.status_code, body=response.get_json(), seconds=time.monotonic() - began)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def test_long_polling_returns_as_soon_as_a_task_appears(clocked, worker):
    own_client = Client(worker.client.application.test_client(), "robots")
    thread, result = _fetch_in_thread(own_client, 20_000)
    time.sleep(0.3)  # the fetch is waiting by now (if not, it finds the task at once: the same outcome)
    instance = start(clocked)
    thread.join(timeout=30)
    assert result["status"] == 200
    assert only(result["body"])["processInstanceId"] == instance["id"]
    assert result["seconds"] < 15  # well before the 20 s timeout


def test_long_polling_answers_an_empty_list_after_the_timeout(worker):
    began = time.monotonic()
    assert fetch(worker, asyncResponseTimeout=600) == []
    assert time.monotonic() - began >= 0.6


def test_a_waiting_fetch_is_woken_when_this_process_frees_a_task(clocked):
    """Unlock, a failure to retry at once and new retries wake a waiting fetch of the same process at once.

    The service re-reads the table only every 60 s here: only the wake-up can answer before the timeout.
    """
    store = clocked.instances.store
    service = ExternalTaskService(clocked.db, store, clocked.serializer, clocked.clock, poll_interval=60)
    start(clocked)
    admin = Principal("admin", frozenset({"admin"}))
    topics = [FetchTopic(TOPIC, 60_000)]

    def waiting_fetch_while(free_it) -> tuple[list, float]:  # noqa: ANN001
        result: dict = {}

        def wait() -> None:
            began = time.monotonic()
            tasks = service.fetch_and_lock(ROBOT, "waiting", 1, topics, async_response_timeout_ms=20_000)
            result["answer"] = (tasks, time.monotonic() - began)

        thread = threading.Thread(target=wait)
        thread.start()
        time.sleep(0.3)  # the fetch is waiting by now (if not, it finds the task at once: the same outcome)
        free_it()
        thread.join(timeout=30)
        return result["answer"]

    (task,) = service.fetch_and_lock(ROBOT, "holder", 1, topics)
    tasks, seconds = waiting_fetch_while(lambda: service.unlock(ROBOT, task["id"]))
    assert [t["id"] for t in tasks] == [task["id"]] and seconds < 15

    def fail_with_retries_left() -> None:
        service.failure(ROBOT, task["id"], "waiting", error_message="x", retries=2)

    tasks, seconds = waiting_fetch_while(fail_with_retries_left)
    assert [(t["id"], t["retries"]) for t in tasks] == [(task["id"], 2)] and seconds < 15

    service.failure(ROBOT, task["id"], "waiting", error_message="x", retries=0)
    tasks, seconds = waiting_fetch_while(lambda: service.set_retries(admin, task["id"], 1))
    assert [(t["id"], t["retries"]) for t in tasks] == [(task["id"], 1)] and seconds < 15


# --- querying ----------------------------------------------------------------------------------------------


def test_priority_sorting_and_topic_filters(clocked, clock, worker):
    for priority, key in ((1, "A"), (9, "B"), (5, "C")):
        start(clocked, business_key=key, prioritate=priority)
        clock.advance(timedelta(minutes=1))
    assert fetch(worker, topic={"businessKey": "C"}, max_tasks=5)[0]["businessKey"] == "C"
    assert fetch(worker, topic={"processDefinitionKey": "cits_process"}) == []
    assert fetch(worker, topic={"processDefinitionKeyIn": ["cits_process"]}) == []
    worker.post(f"{TASKS}/{only(worker.get(TASKS, query_string={'workerId': 'worker-a'}).get_json())['id']}/unlock")

    by_priority = fetch(worker, "worker-p", max_tasks=2, usePriority=True)
    assert [t["priority"] for t in by_priority] == [9, 5]
    for task in by_priority:
        worker.post(f"{TASKS}/{task['id']}/unlock")
    newest = fetch(worker, "worker-n", max_tasks=1, sorting=[{"sortBy": "createTime", "sortOrder": "desc"}])
    assert only(newest)["businessKey"] == "C"
    oldest = fetch(worker, "worker-o", max_tasks=1)
    assert only(oldest)["businessKey"] == "A"


def test_list_filters_count_paging_and_topic_names(clocked, clock, worker):
    first = start(clocked, prioritate=3)
    clock.advance(timedelta(seconds=1))
    start(clocked, prioritate=8)
    (locked,) = fetch(worker, "worker-a", max_tasks=1)
    assert locked["processInstanceId"] == first["id"]

    def ids(**params) -> list[str]:
        response = worker.get(TASKS, query_string=params)
        assert response.status_code == 200, response.get_json()
        return [t["processInstanceId"] for t in response.get_json()]

    everything = ids()
    assert everything[0] == first["id"] and len(everything) == 2
    assert ids(locked="true") == [first["id"]]
    assert ids(notLocked="true") == everything[1:]
    assert ids(workerId="worker-a") == [first["id"]]
    assert ids(processInstanceId=first["id"]) == [first["id"]]
    assert ids(topicName="cits") == [] and len(ids(activityId="Task_parbaudit_adresi")) == 2
    assert ids(sortBy="taskPriority", sortOrder="desc") == everything[::-1]
    assert ids(priorityHigherThanOrEquals=5) == everything[1:]
    assert ids(firstResult=1, maxResults=1) == everything[1:]
    assert worker.get(f"{TASKS}/count", query_string={"locked": "true"}).get_json() == {"count": 1}
    assert worker.get(f"{TASKS}/topic-names").get_json() == [TOPIC]
    assert worker.get(f"{TASKS}/topic-names", query_string={"withUnlockedTasks": "true"}).get_json() == [TOPIC]
    clock.advance(timedelta(minutes=2))  # the lock expired: "locked" is about time, not about the worker id
    assert ids(locked="true") == []


# --- who may, and bad requests -----------------------------------------------------------------------------


def test_workers_need_the_external_worker_or_admin_group(clocked, worker):
    start(clocked)
    clerk = worker.as_user("klara")
    refused = clerk.post(
        FETCH, json={"workerId": "w", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": 1}]}
    )
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "AuthorizationException"
    assert "external-worker" in refused.get_json()["message"]
    assert clerk.get(TASKS).status_code == 403
    (task,) = fetch(worker)
    assert clerk.post(f"{TASKS}/{task['id']}/complete", json={"workerId": "worker-a"}).status_code == 403
    assert worker.as_user(None).get(TASKS).status_code == 401
    assert fetch(worker.as_user("admin"), "worker-admin") == []  # an admin may fetch; this one is locked


def test_bad_requests(clocked, worker):
    start(clocked)
    admin = worker.as_user("admin")
    unknown = f"{TASKS}/00000000-0000-0000-0000-000000000000"
    assert worker.get(unknown).status_code == 404
    for action, body in (
        ("complete", {"workerId": "w"}),
        ("failure", {"workerId": "w", "retries": 1}),
        ("bpmnError", {"workerId": "w", "errorCode": "E"}),
        ("extendLock", {"workerId": "w", "newDuration": 1000}),
        ("unlock", None),
    ):
        response = worker.post(f"{unknown}/{action}", json=body)
        assert response.status_code == 404, action
        assert response.get_json()["type"] == "InvalidRequestException"
    assert admin.put(f"{unknown}/retries", json={"retries": 1}).status_code == 404

    def status(body: dict) -> int:
        return worker.post(FETCH, json=body).status_code

    topic = {"topicName": TOPIC, "lockDuration": 1000}
    assert status({"maxTasks": 1, "topics": [topic]}) == 400  # no workerId
    assert status({"workerId": "w", "topics": [topic]}) == 400  # no maxTasks
    assert status({"workerId": "w", "maxTasks": 1, "topics": [{**topic, "lockDuration": -5}]}) == 400
    assert status({"workerId": "w", "maxTasks": 1, "topics": [{"topicName": TOPIC}]}) == 400
    assert status({"workerId": "w", "maxTasks": -1, "topics": [topic]}) == 400
    assert status({"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 1_800_001, "topics": [topic]}) == 400
    assert status({"workerId": "w", "maxTasks": 1, "topics": [{**topic, "processVariables": {"a": 1}}]}) == 400
    missing = worker.post(FETCH, json={"maxTasks": 1, "topics": [topic]}).get_json()
    assert "workerId" in missing["message"]

    (task,) = fetch(worker, "worker-a")
    url = f"{TASKS}/{task['id']}"
    assert worker.post(f"{url}/failure", json={"workerId": "worker-a", "retries": -1}).status_code == 400
    assert worker.post(f"{url}/failure", json={"errorMessage": "no worker id"}).status_code == 400
    assert worker.post(f"{url}/extendLock", json={"workerId": "worker-a", "newDuration": 0}).status_code == 400
    assert admin.put(f"{url}/retries", json={"retries": -1}).status_code == 400
    bad_variable = worker.post(
        f"{url}/complete", json={"workerId": "worker-a", "variables": {"n": {"type": "Integer", "value": "abc"}}}
    )
    assert bad_variable.status_code == 400
    assert worker.get(url).get_json()["workerId"] == "worker-a"  # nothing changed


# --- end to end: the real Camunda external task client against a running server -----------------------------


WORKER_USER = "robots"


def test_the_camunda_external_task_client_against_a_running_server(plusma_server: LiveServer, database_url: str):
    # Imported here: the client needs pydantic, which its package metadata does not declare.
    from camunda.client.external_task_client import ExternalTaskClient
    from camunda.external_task.external_task import ExternalTask, TaskResult
    from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

    url = plusma_server.url
    env = {**os.environ, "PLUSMA_DATABASE_URL": database_url}
    run_cli(
        ["user", "create", WORKER_USER, "--group", "external-worker", "--password", live_server.PASSWORD],
        env,
        plusma_server.log_path,
    )
    admin = requests.Session()
    admin.auth = (live_server.ADMIN, live_server.PASSWORD)
    deployed = admin.post(
        f"{url}/deployment/create",
        data={"deployment-name": "external-e2e"},
        files={"data": (PROCESS.name, PROCESS.read_bytes(), "application/octet-stream")},
    )
    assert deployed.status_code == 200, deployed.text

    config = {
        "auth_basic": {"username": WORKER_USER, "password": live_server.PASSWORD},
        "maxTasks": 1,
        "lockDuration": 30_000,
        "asyncResponseTimeout": 1_000,
        "sleepSeconds": 1,
    }
    # A front-office clerk is no worker: the client's request fails with the server's 403.
    clerk_config = {**config, "auth_basic": {"username": live_server.CLERK, "password": live_server.PASSWORD}}
    with pytest.raises(Exception, match="403"):
        ExternalTaskClient("clerk", url, clerk_config).fetch_and_lock(TOPIC)

    seen: dict[str, dict] = {}

    def handle(task: ExternalTask) -> TaskResult:
        business_key = task.get_business_key()
        seen[business_key] = task.get_variables()
        if business_key == "E2E-ATRASTA":
            return task.complete({"parbaudits_ar": "camunda-external-task-client"}, {"derigs": True})
        if business_key == "E2E-NAV":
            return task.bpmn_error("NAV_ATRASTA", "Adrese nav atrasta", {"iemesls": "Nav adrešu reģistrā"})
        return task.failure("Reģistrs neatbild", "timeout after 30 s", max_retries=0, retry_timeout=0)

    client_worker = ExternalTaskWorker(worker_id="e2e-worker", base_url=url, config=config)
    stop = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        # The client's own loop (subscribe) never ends; this is its loop body, until the test says stop.
        while not stop.is_set():
            try:
                client_worker.fetch_and_execute(TOPIC, handle)
            except NoExternalTaskFound:
                continue
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                return

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        instances = {}
        for business_key, numurs in (("E2E-ATRASTA", 1), ("E2E-NAV", 2), ("E2E-KLUDA", 3)):
            response = admin.post(
                f"{url}/process-definition/key/{KEY}/start",
                json={
                    "businessKey": business_key,
                    "variables": typed(iela="Brīvības iela", numurs=numurs, prioritate=0),
                },
            )
            assert response.status_code == 200, response.text
            instances[business_key] = response.json()["id"]

        def user_tasks(instance_id: str) -> list[str]:
            found = admin.get(f"{url}/task", params={"processInstanceId": instance_id}).json()
            return [t["taskDefinitionKey"] for t in found]

        def settled() -> bool:
            incidents = admin.get(f"{url}/incident", params={"processInstanceId": instances["E2E-KLUDA"]}).json()
            return (
                user_tasks(instances["E2E-ATRASTA"]) == ["Task_apstiprinat"]
                and user_tasks(instances["E2E-NAV"]) == ["Task_precizet"]
                and len(incidents) == 1
            )

        deadline = time.monotonic() + 60
        while not settled() and not errors and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert not thread.is_alive()
    assert settled()

    # The worker saw the process variables and the input parameters, typed values as plain ones.
    assert seen["E2E-ATRASTA"]["adrese"] == "Brīvības iela 1, Rīga"
    assert (seen["E2E-NAV"]["numurs"], seen["E2E-NAV"]["avots"]) == (2, "VZD")

    found = admin.get(f"{url}/process-instance/{instances['E2E-ATRASTA']}/variables").json()
    assert found["parbaudits_ar"] == {"type": "String", "value": "camunda-external-task-client", "valueInfo": {}}
    assert found["adrese_deriga"]["value"] is True and "derigs" not in found
    not_found = admin.get(f"{url}/process-instance/{instances['E2E-NAV']}/variables").json()
    assert not_found["iemesls"]["value"] == "Nav adrešu reģistrā"

    (incident,) = admin.get(f"{url}/incident", params={"processInstanceId": instances["E2E-KLUDA"]}).json()
    assert (incident["incidentType"], incident["incidentMessage"]) == ("failedExternalTask", "Reģistrs neatbild")
    robot = requests.Session()
    robot.auth = (WORKER_USER, live_server.PASSWORD)
    failed = robot.get(f"{url}/external-task/{incident['configuration']}").json()
    assert (failed["retries"], failed["workerId"]) == (0, "e2e-worker")
    assert robot.get(f"{url}/external-task/{incident['configuration']}/errorDetails").text == "timeout after 30 s"
