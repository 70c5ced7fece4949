"""Timers as jobs: stored due times, firing exactly once, retries and incidents, on a clock the tests move.

Nothing here sleeps: the engine runs on a ManualClock and the tests call ``jobs.run_due`` the way the
scheduler does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.identity import SYSTEM, Principal
from engine.process_engine import ProcessEngine
from engine.services.tasks import TaskQuery
from engine.storage.tables import event_subscription, history_event, job
from tests.conftest import FIXTURES, PASSWORD

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
EXECUTOR = Principal("ilze", frozenset({"l2"}))
CLERK = Principal("klara", frozenset({"kac"}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def timed(settings, clock):
    engine = ProcessEngine(settings, clock=clock)
    engine.users.create_user("admin", PASSWORD, groups=["admin"])
    yield engine
    engine.close()


def deploy(engine: ProcessEngine, *names: str) -> None:
    files = {name: (FIXTURES / name).read_bytes() for name in names}
    engine.deployments.deploy(files, principal=SYSTEM, name="timers")


def jobs(engine: ProcessEngine, **filters) -> list[dict]:
    return engine.jobs.list(**filters)


def open_tasks(engine: ProcessEngine, instance_id: str | None = None) -> list[dict]:
    return engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance_id))


def events(engine: ProcessEngine, instance_id: str) -> list[tuple[str, str | None]]:
    with engine.db.transaction(write=False) as uow:
        rows = uow.execute(
            select(history_event.c.event_type, history_event.c.activity_id)
            .where(history_event.c.instance_id == instance_id)
            .order_by(history_event.c.id)
        )
        return [tuple(r) for r in rows]


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_boundary_timers_are_stored_as_jobs_with_their_due_times(timed, clock):
    deploy(timed, "timers_boundary.bpmn")
    instance = timed.instances.start(SYSTEM, key="incidenta_termini")
    rows = {j["activity_id"]: j for j in jobs(timed, instance_id=instance["id"])}
    assert set(rows) == {"Timer_sla", "Timer_atgadinajums"}
    assert as_utc(rows["Timer_sla"]["due"]) == START + timedelta(hours=4)
    assert as_utc(rows["Timer_atgadinajums"]["due"]) == START + timedelta(hours=1)
    assert all(j["retries"] == 3 and j["lock_owner"] is None for j in rows.values())
    # Nothing is due yet: running the scheduler now does nothing at all.
    assert timed.jobs.run_due("worker-a") == []
    assert timed.jobs.next_due() == START + timedelta(hours=1)


def test_non_interrupting_cycle_fires_each_repetition_once_then_the_interrupting_timer_escalates(timed, clock):
    deploy(timed, "timers_boundary.bpmn")
    instance = timed.instances.start(SYSTEM, key="incidenta_termini")

    fired = []
    for hour in (1, 2, 3):
        clock.set(START + timedelta(hours=hour, seconds=1))
        outcomes = timed.jobs.run_due("worker-a")
        fired.append([o.result for o in outcomes])
        # Running again at the same moment finds nothing: each repetition fires once.
        assert timed.jobs.run_due("worker-a") == []
    assert fired == [["done"], ["done"], ["done"]]
    reminders = [e for e in events(timed, instance["id"]) if e == ("timer_fired", "Timer_atgadinajums")]
    assert len(reminders) == 3
    # The cycle ran out (R3): only the SLA timer is left.
    assert [j["activity_id"] for j in jobs(timed, instance_id=instance["id"])] == ["Timer_sla"]
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_diagnosticet"]

    clock.set(START + timedelta(hours=4, minutes=5))
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_eskalet"]
    assert jobs(timed, instance_id=instance["id"]) == []
    assert ("activity_cancelled", "Task_diagnosticet") in events(timed, instance["id"])


def test_completing_the_task_removes_its_boundary_timers(timed, clock):
    deploy(timed, "timers_boundary.bpmn")
    instance = timed.instances.start(SYSTEM, key="incidenta_termini")
    task = open_tasks(timed, instance["id"])[0]
    timed.tasks.complete(EXECUTOR, task["id"], {})
    assert jobs(timed, instance_id=instance["id"]) == []
    clock.set(START + timedelta(days=1))
    assert timed.jobs.run_due("worker-a") == []


def test_cancelling_an_instance_removes_its_jobs(timed, clock):
    deploy(timed, "timers_boundary.bpmn")
    instance = timed.instances.start(SYSTEM, key="incidenta_termini")
    timed.instances.cancel(SYSTEM, instance["id"], "duplicate")
    assert jobs(timed, instance_id=instance["id"]) == []


def test_jobs_that_fell_due_during_downtime_fire_in_due_order(timed, clock):
    deploy(timed, "timer_catch.bpmn")
    dues = [START + timedelta(minutes=m) for m in (30, 10, 20)]
    ids = {}
    for due in dues:
        instance = timed.instances.start(
            SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 4}
        )
        ids[instance["id"]] = due
    # Everything was down for a day; at start-up the worker catches up, earliest first.
    clock.set(START + timedelta(days=1))
    acquired = timed.jobs.acquire("worker-a", 10)
    assert [as_utc(j["due"]) for j in acquired] == sorted(dues)
    outcomes = [timed.jobs.execute(row, "worker-a") for row in acquired]
    assert [o.result for o in outcomes] == ["done"] * 3
    assert len(open_tasks(timed)) == 3
    assert jobs(timed) == []


def test_a_failing_job_is_retried_with_back_off_then_becomes_an_incident_and_retries_after_a_fix(timed, clock):
    deploy(timed, "timer_catch.bpmn")
    due = START + timedelta(minutes=5)
    instance = timed.instances.start(
        SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 0}
    )
    clock.set(due + timedelta(seconds=1))
    first = timed.jobs.run_due("worker-a")
    assert [o.result for o in first] == ["retry"]
    assert "division by zero" in first[0].error
    row = jobs(timed, instance_id=instance["id"])[0]
    assert row["retries"] == 2 and "division by zero" in row["exception_message"]
    # Back-off: not again at once, but after the retry delay (10 s, then 20 s).
    assert timed.jobs.run_due("worker-a") == []
    clock.advance(timedelta(seconds=10))
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["retry"]
    clock.advance(timedelta(seconds=10))
    assert timed.jobs.run_due("worker-a") == []
    clock.advance(timedelta(seconds=10))
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["incident"]

    # The instance stayed where it was; the incident names the element and the error.
    assert open_tasks(timed, instance["id"]) == []
    (incident,) = timed.incidents.list(instance_id=instance["id"])
    assert incident["incident_type"] == "failedJob"
    assert incident["activity_id"] == "Gaidit"
    assert "division by zero" in incident["incident_message"]
    clock.advance(timedelta(hours=5))
    assert timed.jobs.run_due("worker-a") == []  # no retries left: it waits for a person

    # The cause is fixed, the job gets retries again: it runs at once and the incident closes.
    timed.instances.set_variables(SYSTEM, instance["id"], {"dalitajs": 5})
    timed.jobs.set_retries(SYSTEM, row["id"], 1)
    assert timed.incidents.list(instance_id=instance["id"]) == []
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert timed.instances.variables(SYSTEM, instance["id"])["rezultats"] == 20
    kinds = [e[0] for e in events(timed, instance["id"])]
    assert kinds.count("job_failed") == 3
    assert kinds.index("incident_created") < kinds.index("incident_resolved")


def test_only_an_admin_may_set_retries(timed, clock):
    from engine.errors import Forbidden

    deploy(timed, "timer_catch.bpmn")
    timed.instances.start(SYSTEM, key="gaidit_un_aprekinat", variables={"termins": START.isoformat(), "dalitajs": 1})
    row = jobs(timed)[0]
    with pytest.raises(Forbidden):
        timed.jobs.set_retries(CLERK, row["id"], 3)


def test_a_crashed_workers_lease_expires_and_another_worker_fires_the_job_once(timed, clock):
    deploy(timed, "timer_catch.bpmn")
    due = START + timedelta(minutes=1)
    instance = timed.instances.start(
        SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 2}
    )
    clock.set(due + timedelta(seconds=1))
    held = timed.jobs.acquire("worker-that-dies", 10)
    assert len(held) == 1
    # worker-that-dies never comes back. Until its lease expires nobody else takes the job...
    assert timed.jobs.acquire("worker-b", 10) == []
    clock.advance(timed.jobs.lease + timedelta(seconds=1))
    # ...then worker-b does, and fires it.
    assert [o.result for o in timed.jobs.run_due("worker-b")] == ["done"]
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_parbaudit"]
    # The dead worker's late attempt finds nothing to do.
    assert timed.jobs.execute(held[0], "worker-that-dies").result == "gone"
    fired = [e for e in events(timed, instance["id"]) if e == ("timer_fired", "Gaidit")]
    assert len(fired) == 1


def test_a_slow_worker_whose_lease_expired_cannot_fire_the_timer_a_second_time(timed, clock):
    deploy(timed, "timer_catch.bpmn")
    due = START + timedelta(minutes=1)
    instance = timed.instances.start(
        SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 2}
    )
    clock.set(due + timedelta(seconds=1))
    (slow,) = timed.jobs.acquire("slow", 10)
    clock.advance(timed.jobs.lease + timedelta(seconds=1))
    (fast,) = timed.jobs.acquire("fast", 10)
    assert timed.jobs.execute(fast, "fast").result == "done"
    assert timed.jobs.execute(slow, "slow").result == "gone"
    fired = [e for e in events(timed, instance["id"]) if e == ("timer_fired", "Gaidit")]
    assert len(fired) == 1


def test_timer_start_event_starts_an_instance_per_repetition(timed, clock):
    deploy(timed, "timer_start.bpmn")
    (start_job,) = jobs(timed)
    first = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 09:00 in Riga
    assert start_job["kind"] == "timer-start" and as_utc(start_job["due"]) == first
    clock.set(first + timedelta(seconds=1))
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert len(open_tasks(timed)) == 1
    (start_job,) = jobs(timed)
    assert as_utc(start_job["due"]) == first + timedelta(hours=1)
    # Down for a day: the two repetitions left fire in order, then the cycle (R3) is over.
    clock.set(first + timedelta(days=1))
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert jobs(timed) == []
    assert len(open_tasks(timed)) == 3


def test_a_new_version_takes_over_the_timer_start_schedule(timed, clock):
    deploy(timed, "timer_start.bpmn")
    (old_job,) = jobs(timed)
    changed = (FIXTURES / "timer_start.bpmn").read_bytes().replace(b"R3/", b"R5/")
    timed.deployments.deploy({"timer_start.bpmn": changed}, principal=SYSTEM, name="timers")
    (new_job,) = jobs(timed)
    assert new_job["id"] != old_job["id"]
    assert new_job["definition_id"].startswith("kvdb_audits:2:")
    assert new_job["configuration"]["remaining"] == 5


def test_two_workers_racing_fire_each_timer_exactly_once(timed, clock, settings):
    """Two engines (as two worker processes) on one database acquire and run the same due jobs."""
    import threading

    deploy(timed, "timer_catch.bpmn")
    due = START + timedelta(minutes=1)
    instances = [
        timed.instances.start(SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 2})
        for _ in range(12)
    ]
    clock.set(due + timedelta(seconds=1))
    other = ProcessEngine(settings, clock=clock)
    try:
        results: dict[str, list] = {}
        barrier = threading.Barrier(2)

        def work(engine: ProcessEngine, owner: str) -> None:
            barrier.wait()
            done = []
            while True:
                outcomes = engine.jobs.run_due(owner, limit=3)
                if not outcomes:
                    break
                done += outcomes
            results[owner] = done

        threads = [
            threading.Thread(target=work, args=(timed, "worker-a")),
            threading.Thread(target=work, args=(other, "worker-b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        other.close()
    done = [o.job_id for outcomes in results.values() for o in outcomes if o.result == "done"]
    assert sorted(done) == sorted(set(done)) and len(done) == 12
    for instance in instances:
        fired = [e for e in events(timed, instance["id"]) if e == ("timer_fired", "Gaidit")]
        assert len(fired) == 1, instance["id"]
    with timed.db.transaction(write=False) as uow:
        assert uow.execute(select(job)).all() == []


def test_jobs_and_incidents_through_the_rest_api(timed, clock):
    from tests.conftest import ApiClient
    from web.app import create_app

    timed.users.create_user("klara", PASSWORD, groups=["kac"])
    app = create_app(engine=timed)
    api = ApiClient(app.test_client(), "admin")
    deploy(timed, "timer_catch.bpmn")
    due = START + timedelta(minutes=5)
    instance = timed.instances.start(
        SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 0}
    )
    (listed,) = api.get("/engine-rest/job", query_string={"processInstanceId": instance["id"]}).get_json()
    assert listed["dueDate"] == "2026-11-24T08:05:00.000+0000"
    assert listed["retries"] == 3 and listed["exceptionMessage"] is None
    clock.set(due + timedelta(seconds=1))
    for _ in range(3):
        timed.jobs.run_due("worker-a")
        clock.advance(timedelta(minutes=1))
    failed = api.get("/engine-rest/job", query_string={"noRetriesLeft": "true"}).get_json()
    assert [j["id"] for j in failed] == [listed["id"]]
    assert "division by zero" in failed[0]["exceptionMessage"] and failed[0]["failedActivityId"] == "Gaidit"
    stacktrace = api.get(f"/engine-rest/job/{listed['id']}/stacktrace")
    assert stacktrace.status_code == 200 and "ZeroDivisionError" in stacktrace.get_data(as_text=True)
    (incident,) = api.get("/engine-rest/incident").get_json()
    assert incident["incidentType"] == "failedJob" and incident["configuration"] == listed["id"]
    assert incident["processInstanceId"] == instance["id"] and incident["activityId"] == "Gaidit"
    assert api.get("/engine-rest/incident/count").get_json() == {"count": 1}

    # Clerks may not see or touch jobs; bad retries are refused; unknown jobs are 404.
    clerk = api.as_user("klara")
    assert clerk.get("/engine-rest/job").status_code == 403
    assert clerk.get("/engine-rest/incident").status_code == 403
    assert (
        clerk.client.put(
            f"/engine-rest/job/{listed['id']}/retries", json={"retries": 3}, headers=clerk._headers(None)
        ).status_code
        == 403
    )
    put = api.client.put
    headers = api._headers(None)
    assert put(f"/engine-rest/job/{listed['id']}/retries", json={"retries": -1}, headers=headers).status_code == 400
    assert put(f"/engine-rest/job/{listed['id']}/retries", json={}, headers=headers).status_code == 400
    assert put("/engine-rest/job/nope/retries", json={"retries": 1}, headers=headers).status_code == 404

    # Fix the cause through the variables API, retry, and the instance goes on.
    fixed = api.post(
        f"/engine-rest/process-instance/{instance['id']}/variables",
        json={"modifications": {"dalitajs": {"value": 4, "type": "Integer"}}},
    )
    assert fixed.status_code == 204, fixed.get_json()
    assert put(f"/engine-rest/job/{listed['id']}/retries", json={"retries": 2}, headers=headers).status_code == 204
    assert api.get("/engine-rest/incident").get_json() == []
    assert [o.result for o in timed.jobs.run_due("worker-a")] == ["done"]
    assert api.get(f"/engine-rest/process-instance/{instance['id']}/variables/rezultats").get_json()["value"] == 25


def test_a_timer_written_as_camunda_modeler_writes_expressions_runs(timed, clock):
    modeller = (FIXTURES / "timer_catch.bpmn").read_bytes().replace(b">termins<", b">${termins}<")
    timed.deployments.deploy({"timer_catch.bpmn": modeller}, principal=SYSTEM, name="timers")
    due = START + timedelta(minutes=7)
    instance = timed.instances.start(
        SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 4}
    )
    (row,) = jobs(timed, instance_id=instance["id"])
    assert as_utc(row["due"]) == due
    # The deployed file keeps the modeller's text.
    xml = timed.definitions.xml(timed.definitions.latest("gaidit_un_aprekinat"))
    assert b"${termins}" in xml
    clock.set(due + timedelta(seconds=1))
    assert [o.result for o in timed.jobs.run_due("w")] == ["done"]


@pytest.mark.parametrize(
    ("timer", "first_due", "second_due"),
    [
        # Quarterly from deployment (10:00 in Riga), in calendar months and on the wall clock: 24 Feb 10:00
        # (UTC+2), 24 May 10:00 (summer time, UTC+3).
        (
            "<bpmn:timeCycle>R/P3M</bpmn:timeCycle>",
            datetime(2027, 2, 24, 8, 0, tzinfo=UTC),
            datetime(2027, 5, 24, 7, 0, tzinfo=UTC),
        ),
        # Once, on a date (as Camunda Modeler writes it, with an offset).
        ("<bpmn:timeDate>2027-01-04T09:00:00+02:00</bpmn:timeDate>", datetime(2027, 1, 4, 7, 0, tzinfo=UTC), None),
    ],
)
def test_timer_start_events_with_a_date_or_an_unbounded_cycle(timed, clock, timer, first_due, second_due):
    source = (FIXTURES / "timer_start.bpmn").read_text()
    start, end = source.index("<bpmn:timeCycle>"), source.index("</bpmn:timeCycle>") + len("</bpmn:timeCycle>")
    model = source[:start] + timer + source[end:]
    timed.deployments.deploy({"timer_start.bpmn": model.encode()}, principal=SYSTEM, name="timers")
    (start_job,) = jobs(timed)
    assert as_utc(start_job["due"]) == first_due
    clock.set(first_due + timedelta(seconds=1))
    assert [o.result for o in timed.jobs.run_due("w")] == ["done"]
    assert len(open_tasks(timed)) == 1
    if second_due is None:
        assert jobs(timed) == []
    else:
        (start_job,) = jobs(timed)
        assert as_utc(start_job["due"]) == second_due


def test_a_cyclic_start_timer_keeps_its_wall_clock_time_across_daylight_saving(timed, clock):
    # 09:00 in Riga on 1 March (UTC+2) is 07:00 UTC; three months later, in summer time (UTC+3), 06:00 UTC.
    source = (
        (FIXTURES / "timer_start.bpmn")
        .read_text()
        .replace("R3/2026-12-01T09:00:00+02:00/PT1H", "R/2027-03-01T09:00:00+02:00/P3M")
    )
    timed.deployments.deploy({"timer_start.bpmn": source.encode()}, principal=SYSTEM, name="timers")
    (start_job,) = jobs(timed)
    assert as_utc(start_job["due"]) == datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    clock.set(datetime(2027, 3, 1, 7, 0, 1, tzinfo=UTC))
    assert [o.result for o in timed.jobs.run_due("w")] == ["done"]
    (start_job,) = jobs(timed)
    assert as_utc(start_job["due"]) == datetime(2027, 6, 1, 6, 0, tzinfo=UTC)


def test_a_process_without_a_plain_start_event_is_not_started_by_start(timed, clock):
    from engine.errors import BadRequest

    deploy(timed, "timer_start.bpmn")
    with pytest.raises(BadRequest, match="no plain start event"):
        timed.instances.start(SYSTEM, key="kvdb_audits")
    assert timed.instances.list(SYSTEM) == []


def test_a_timer_start_event_beside_a_plain_one_starts_its_own_way(timed, clock):
    source = (FIXTURES / "timer_start.bpmn").read_text()
    source = source.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="Ik_stundu" targetRef="Task_auditet"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="Ik_stundu" targetRef="Task_auditet"/>\n'
        '    <bpmn:startEvent id="Uzreiz"/>\n'
        '    <bpmn:sequenceFlow id="f0" sourceRef="Uzreiz" targetRef="Task_auditet"/>',
    )
    timed.deployments.deploy({"timer_start.bpmn": source.encode()}, principal=SYSTEM, name="timers")
    (start_job,) = jobs(timed)
    clock.set(as_utc(start_job["due"]) + timedelta(seconds=1))
    assert [o.result for o in timed.jobs.run_due("w")] == ["done"]
    assert len(open_tasks(timed)) == 1
    direct = timed.instances.start(SYSTEM, key="kvdb_audits")
    assert [t["task_definition_key"] for t in open_tasks(timed, direct["id"])] == ["Task_auditet"]


def test_overdue_timers_of_one_instance_fire_in_due_order_after_downtime(timed, clock):
    """Down for five hours: the three hourly reminders run first, then the four-hour deadline escalates."""
    deploy(timed, "timers_boundary.bpmn")
    instance = timed.instances.start(SYSTEM, key="incidenta_termini")
    clock.set(START + timedelta(hours=5))
    results = []
    while outcomes := timed.jobs.run_due("worker-a"):
        results += [o.result for o in outcomes]
    assert results.count("done") == 4 and set(results) <= {"done", "deferred"}
    fired = [a for e, a in events(timed, instance["id"]) if e == "timer_fired"]
    assert fired == ["Timer_atgadinajums"] * 3 + ["Timer_sla"]
    reminders = [
        a for e, a in events(timed, instance["id"]) if a == "Atgadinajums_nosutits" and e == "activity_completed"
    ]
    assert len(reminders) == 3
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_eskalet"]


def _gateway_instance(timed) -> dict:
    deploy(timed, "event_gateway.bpmn")
    instance = timed.instances.start(SYSTEM, key="gaidit_atbildi_vai_terminu", business_key="PIE-EG")
    with timed.db.transaction(write=False) as uow:
        names = sorted(
            uow.execute(
                select(event_subscription.c.event_name).where(event_subscription.c.instance_id == instance["id"])
            ).scalars()
        )
    assert names == ["pieprasijums_atsaukts", "pieprasitaja_atbilde"]
    (timer,) = jobs(timed, instance_id=instance["id"])
    # Tuesday 24 Nov 08:00 UTC (10:00 Riga) + 10 working days = the end of Tuesday 8 December, 17:00 Riga.
    assert as_utc(timer["due"]) == datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    return instance


def _subscriptions(timed, instance_id: str) -> list:
    with timed.db.transaction(write=False) as uow:
        return uow.execute(select(event_subscription).where(event_subscription.c.instance_id == instance_id)).all()


def test_an_event_based_gateway_takes_the_message_that_comes_first(timed, clock):
    instance = _gateway_instance(timed)
    timed.messages.correlate(SYSTEM, "pieprasitaja_atbilde", business_key="PIE-EG", variables={"atbilde": "Jā"})
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_izvertet"]
    assert jobs(timed, instance_id=instance["id"]) == [] and _subscriptions(timed, instance["id"]) == []
    assert timed.instances.variables(SYSTEM, instance["id"])["atbilde"] == "Jā"


def test_an_event_based_gateway_takes_its_timer_when_no_message_comes(timed, clock):
    instance = _gateway_instance(timed)
    clock.set(datetime(2026, 12, 8, 15, 1, tzinfo=UTC))
    assert [o.result for o in timed.jobs.run_due("w")] == ["done"]
    assert [t["task_definition_key"] for t in open_tasks(timed, instance["id"])] == ["Task_atgadinat"]
    assert _subscriptions(timed, instance["id"]) == []
    from engine.errors import BadRequest

    with pytest.raises(BadRequest, match="no process instance"):
        timed.messages.correlate(SYSTEM, "pieprasitaja_atbilde", business_key="PIE-EG")


def test_an_event_based_gateway_takes_the_other_message(timed, clock):
    instance = _gateway_instance(timed)
    timed.messages.correlate(SYSTEM, "pieprasijums_atsaukts", business_key="PIE-EG")
    assert timed.instances.get(SYSTEM, instance["id"])["state"] == "COMPLETED"
    assert jobs(timed, instance_id=instance["id"]) == [] and _subscriptions(timed, instance["id"]) == []
