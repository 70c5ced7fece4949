"""Optimistic locking: concurrent writes to one instance — exactly one wins, nothing half-done."""

from __future__ import annotations

import threading

from sqlalchemy import select

from engine.errors import Conflict
from engine.identity import Principal
from engine.storage.tables import history_event, process_instance
from tests.test_api_instances import REGISTRATION, start, tasks

THREADS = 8
ROUNDS = 3


def race(action, threads: int = THREADS) -> list[str]:
    """Run ``action`` in several threads released at once; say how each ended."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            action()
            result = "ok"
        except Conflict:
            result = "conflict"
        except Exception as error:  # noqa: BLE001 - the test reports any other failure
            result = f"{type(error).__name__}: {error}"
        with lock:
            outcomes.append(result)

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


def test_racing_completions_of_one_task_one_wins(engine, api, deployed):
    clerk = Principal("klara", frozenset({"kac"}))
    for round_number in range(ROUNDS):
        instance = start(api, f"RACE-{round_number}")
        [task] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
        outcomes = race(
            lambda task_id=task["id"]: engine.tasks.complete(clerk, task_id, dict(REGISTRATION, eskalet=True))
        )

        # The losers either hit the stale version (409) or find the task gone (404): never a second success.
        successes = [o for o in outcomes if o == "ok"]
        failures = [o for o in outcomes if o != "ok"]
        assert len(successes) == 1, outcomes
        assert all(o == "conflict" or o.startswith("NotFound") for o in failures), outcomes

        with engine.db.engine.connect() as connection:
            version = connection.execute(
                select(process_instance.c.version).where(process_instance.c.id == instance["id"])
            ).scalar_one()
            completions = connection.execute(
                select(history_event.c.id).where(
                    history_event.c.instance_id == instance["id"], history_event.c.event_type == "task_completed"
                )
            ).all()
        assert version == 2
        assert len(completions) == 1
        [next_task] = tasks(api.as_user("ilze"), processInstanceId=instance["id"])
        assert next_task["taskDefinitionKey"] == "Task_izpildit"


def test_stale_version_write_is_refused(engine, api, deployed):
    """A writer that read version N and saves after someone else wrote gets 409 and changes nothing."""
    instance = start(api, "STALE")
    [task] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
    store = engine.instances.store
    with engine.db.transaction(write=False) as uow:
        stale = store.load(uow, instance["id"])
    engine.tasks.complete(Principal("klara", frozenset({"kac"})), task["id"], dict(REGISTRATION, eskalet=False))

    from engine import runtime

    step = runtime.complete_user_task(stale.workflow, task["id"], dict(REGISTRATION, eskalet=True))
    try:
        with engine.db.transaction() as uow:
            store.save(uow, stale, step, now=engine.clock.now(), user_id="klara")
    except Conflict as error:
        assert "stale" in error.message
    else:
        raise AssertionError("a stale write was stored")
    [current] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
    assert current["taskDefinitionKey"] == "Task_informet"


def test_racing_http_completions_answer_409(app, api, deployed):
    """The same race through the REST API: one 204, the others 409 (or 404 once the task is gone)."""
    from tests.conftest import ApiClient, typed

    instance = start(api, "RACE-HTTP")
    [task] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
    statuses: list[int] = []

    def complete_over_http() -> None:
        client = ApiClient(app.test_client(), "klara")
        response = client.post(
            f"/engine-rest/task/{task['id']}/complete", json={"variables": typed(**REGISTRATION, eskalet=True)}
        )
        statuses.append(response.status_code)
        if response.status_code == 409:
            assert response.get_json()["type"] == "OptimisticLockingException"

    outcomes = race(complete_over_http)
    assert outcomes == ["ok"] * THREADS
    assert statuses.count(204) == 1, statuses
    assert set(statuses) <= {204, 409, 404}, statuses


def test_racing_claims_one_wins(engine, api, deployed):
    instance = start(api, "RACE-CLAIM")
    [task] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
    principals = [Principal("klara", frozenset({"kac"})), Principal("karlis", frozenset({"kac"}))] * (THREADS // 2)
    iterator = iter(principals)
    lock = threading.Lock()

    def claim() -> None:
        with lock:
            principal = next(iterator)
        engine.tasks.claim(principal, task["id"], principal.user_id)

    outcomes = race(claim)
    winner = engine.tasks.get(Principal("admin", frozenset({"admin"})), task["id"])["assignee"]
    assert winner in ("klara", "karlis")
    # Whoever won, the other user's attempts were refused; the winner's repeats are harmless.
    assert outcomes.count("ok") >= 1 and "conflict" in outcomes, outcomes
    assert all(o in ("ok", "conflict") for o in outcomes), outcomes
