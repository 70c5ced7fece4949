"""Message correlation through ``POST /engine-rest/message``, on both databases."""

from __future__ import annotations

from tests.conftest import FIXTURES, typed

MESSAGES = FIXTURES / "message_wait.bpmn"


def _start(api, business_key: str, **variables) -> dict:
    response = api.post(
        "/engine-rest/process-definition/key/gaidit_atbildi/start",
        json={"businessKey": business_key, "variables": typed(**variables)},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _tasks(api, instance_id: str) -> list[dict]:
    return api.get("/engine-rest/task", query_string={"processInstanceId": instance_id}).get_json()


def _variables(api, instance_id: str) -> dict:
    return api.get(f"/engine-rest/process-instance/{instance_id}/variables").get_json()


def test_a_message_reaches_the_instance_with_that_business_key_and_sets_its_variables(api):
    assert api.deploy(MESSAGES).status_code == 200
    first = _start(api, "PIE-2026-001", temats="Piekļuve sistēmai")
    second = _start(api, "PIE-2026-002", temats="Cits")
    assert _tasks(api, first["id"]) == []

    response = api.post(
        "/engine-rest/message",
        json={
            "messageName": "pieprasitaja_atbilde",
            "businessKey": "PIE-2026-001",
            "processVariables": typed(atbilde="Pielikumā dokumenti", pielikumi=2),
            "resultEnabled": True,
            "variablesInResultEnabled": True,
        },
    )
    assert response.status_code == 200, response.get_json()
    (result,) = response.get_json()
    assert result["resultType"] == "Execution"
    assert result["processInstance"]["id"] == first["id"]
    assert result["variables"]["atbilde"] == {"value": "Pielikumā dokumenti", "type": "String", "valueInfo": {}}
    assert [t["taskDefinitionKey"] for t in _tasks(api, first["id"])] == ["Task_izvertet"]
    assert _tasks(api, second["id"]) == []
    variables = _variables(api, first["id"])
    assert variables["pielikumi"]["value"] == 2 and variables["temats"]["value"] == "Piekļuve sistēmai"
    assert not any(name.startswith("__") or name.endswith("_Response") for name in variables)

    history = api.get("/engine-rest/history/activity-instance", query_string={"processInstanceId": first["id"]})
    assert "Atbilde" in [a["activityId"] for a in history.get_json()]


def test_correlation_keys_pick_the_instance_by_its_variables(api):
    assert api.deploy(MESSAGES).status_code == 200
    first = _start(api, "A", pieteikumaNr=101)
    second = _start(api, "B", pieteikumaNr=102)
    response = api.post(
        "/engine-rest/message",
        json={"messageName": "pieprasitaja_atbilde", "correlationKeys": typed(pieteikumaNr=102)},
    )
    assert response.status_code == 204, response.get_json()
    assert _tasks(api, first["id"]) == []
    assert len(_tasks(api, second["id"])) == 1


def test_a_message_nobody_waits_for_is_a_400_and_changes_nothing(api):
    assert api.deploy(MESSAGES).status_code == 200
    instance = _start(api, "PIE-1")
    for body, expected in [
        ({"messageName": "nezinama_zina"}, "no process instance"),
        ({"messageName": "pieprasitaja_atbilde", "businessKey": "CITS"}, "businessKey 'CITS'"),
        (
            {"messageName": "pieprasitaja_atbilde", "correlationKeys": typed(pieteikumaNr=5)},
            "correlation keys",
        ),
    ]:
        response = api.post("/engine-rest/message", json=body)
        assert response.status_code == 400, body
        error = response.get_json()
        assert error["type"] and expected in error["message"], error
    assert _tasks(api, instance["id"]) == []
    # Once delivered, the same message finds nobody waiting any more.
    ok = api.post("/engine-rest/message", json={"messageName": "pieprasitaja_atbilde", "businessKey": "PIE-1"})
    assert ok.status_code == 204
    again = api.post("/engine-rest/message", json={"messageName": "pieprasitaja_atbilde", "businessKey": "PIE-1"})
    assert again.status_code == 400


def test_two_waiting_instances_need_all_or_a_narrower_message(api):
    assert api.deploy(MESSAGES).status_code == 200
    first, second = _start(api, "X"), _start(api, "X")
    ambiguous = api.post("/engine-rest/message", json={"messageName": "pieprasitaja_atbilde", "businessKey": "X"})
    assert ambiguous.status_code == 400 and "2 instances" in ambiguous.get_json()["message"]
    assert _tasks(api, first["id"]) == [] and _tasks(api, second["id"]) == []
    both = api.post(
        "/engine-rest/message",
        json={"messageName": "pieprasitaja_atbilde", "businessKey": "X", "all": True, "resultEnabled": True},
    )
    assert both.status_code == 200 and len(both.get_json()) == 2
    assert len(_tasks(api, first["id"])) == 1 and len(_tasks(api, second["id"])) == 1


def test_a_message_start_event_starts_the_process_with_the_variables(api):
    assert api.deploy(MESSAGES).status_code == 200
    response = api.post(
        "/engine-rest/message",
        json={
            "messageName": "jauns_pieteikums",
            "businessKey": "PORTALS-77",
            "processVariables": typed(kanals="portāls", temats="Jauna e-pasta adrese"),
            "resultEnabled": True,
        },
    )
    assert response.status_code == 200, response.get_json()
    (result,) = response.get_json()
    assert result["resultType"] == "ProcessDefinition"
    instance = result["processInstance"]
    assert instance["businessKey"] == "PORTALS-77"
    assert instance["definitionKey"] == "pieteikums_no_portala"
    assert [t["taskDefinitionKey"] for t in _tasks(api, instance["id"])] == ["Task_registret"]
    assert _variables(api, instance["id"])["kanals"]["value"] == "portāls"


def test_message_bad_input_is_refused(api):
    assert api.deploy(MESSAGES).status_code == 200
    assert api.post("/engine-rest/message", json={}).status_code == 400
    bad_type = api.post(
        "/engine-rest/message",
        json={"messageName": "jauns_pieteikums", "processVariables": {"x": {"value": "abc", "type": "Integer"}}},
    )
    assert bad_type.status_code == 400 and "x" in bad_type.get_json()["message"]
    # Nothing was started by the refused message.
    assert api.get("/engine-rest/process-instance/count").get_json()["count"] == 0


def test_a_user_may_not_message_an_instance_they_cannot_see(api):
    assert api.deploy(MESSAGES).status_code == 200
    _start(api, "SLEPENS")
    outsider = api.as_user("outsider")
    response = outsider.post(
        "/engine-rest/message", json={"messageName": "pieprasitaja_atbilde", "businessKey": "SLEPENS"}
    )
    assert response.status_code == 400


LINKS = FIXTURES / "message_links.bpmn"


def _events(api, instance_id: str) -> list[dict]:
    from engine.storage.tables import history_event

    engine = api.client.application.extensions["plusma"]
    with engine.db.transaction(write=False) as uow:
        rows = uow.execute(
            history_event.select().where(history_event.c.instance_id == instance_id).order_by(history_event.c.id)
        )
        return [dict(r._mapping) for r in rows]


def test_a_thrown_message_starts_the_linked_process_and_its_answer_comes_back(api):
    assert api.deploy(LINKS).status_code == 200
    incident = api.post(
        "/engine-rest/process-definition/key/incidents_ar_problemu/start",
        json={"businessKey": "INC-7", "variables": typed(apraksts="Neiet e-pasts", incidentaNr=7)},
    ).get_json()
    (task,) = _tasks(api, incident["id"])
    assert api.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": {}}).status_code == 204

    # The incident's throw event started a problem with its data and the same business key.
    problems = api.get(
        "/engine-rest/process-instance", query_string={"processDefinitionKey": "problema_no_incidenta"}
    ).get_json()
    assert len(problems) == 1 and problems[0]["businessKey"] == "INC-7"
    problem = problems[0]
    assert _variables(api, problem["id"])["apraksts"]["value"] == "Neiet e-pasts"
    sent = [e for e in _events(api, incident["id"]) if e["event_type"] == "message_sent"]
    assert sent[0]["data"]["toInstanceId"] == problem["id"] and sent[0]["activity_id"] == "Registret_problemu"
    started = [e for e in _events(api, problem["id"]) if e["event_type"] == "instance_started"]
    assert started[0]["data"]["fromInstanceId"] == incident["id"]

    # Solving the problem answers the waiting incident, which then ends.
    (analysis,) = _tasks(api, problem["id"])
    done = api.post(
        f"/engine-rest/task/{analysis['id']}/complete",
        json={"variables": typed(risinajums="Nomainīts sertifikāts")},
    )
    assert done.status_code == 204, done.get_json()
    incident_now = api.get(f"/engine-rest/history/process-instance/{incident['id']}")
    assert incident_now.get_json()["state"] == "COMPLETED"
    received = [e for e in _events(api, incident["id"]) if e["event_type"] == "message_received"]
    assert received[0]["data"]["fromInstanceId"] == problem["id"]
    assert received[0]["data"]["variables"] == {"risinajums": "Nomainīts sertifikāts"}


def test_a_thrown_message_nobody_receives_fails_the_step_and_stores_nothing(api):
    assert api.deploy(LINKS).status_code == 200
    response = api.post("/engine-rest/process-definition/key/zina_nevienam/start", json={})
    assert response.status_code == 400
    error = response.get_json()
    assert "zina_nevienam" in error["message"] and "reached nobody" in error["message"]
    assert api.get("/engine-rest/process-instance/count").get_json()["count"] == 0


def test_a_receive_task_waits_for_its_message(api):
    assert api.deploy(FIXTURES / "message_receive_task.bpmn").status_code == 200
    started = api.post(
        "/engine-rest/process-definition/key/gaidit_dokumentus/start", json={"businessKey": "DOK-1"}
    ).get_json()
    assert _tasks(api, started["id"]) == []
    response = api.post(
        "/engine-rest/message",
        json={"messageName": "dokumenti_sanemti", "businessKey": "DOK-1", "processVariables": typed(lapas=12)},
    )
    assert response.status_code == 204, response.get_json()
    assert [t["taskDefinitionKey"] for t in _tasks(api, started["id"])] == ["Task_parbaudit"]
    assert _variables(api, started["id"])["lapas"]["value"] == 12


def test_a_process_with_a_plain_and_a_message_start_event_starts_either_way(api):
    assert api.deploy(FIXTURES / "message_two_starts.bpmn").status_code == 200
    by_message = api.post(
        "/engine-rest/message",
        json={"messageName": "ierosinajums_no_portala", "businessKey": "IER-1", "resultEnabled": True},
    )
    assert by_message.status_code == 200, by_message.get_json()
    instance = by_message.get_json()[0]["processInstance"]
    assert [t["taskDefinitionKey"] for t in _tasks(api, instance["id"])] == ["Task_izvertet"]
    started = [e for e in _events(api, instance["id"]) if e["event_type"] == "activity_completed"]
    assert "Sakums_portals" in [e["activity_id"] for e in started]
    assert "Sakums_kac" not in [e["activity_id"] for e in started]

    directly = _start_key(api, "ierosinajumi")
    assert [t["taskDefinitionKey"] for t in _tasks(api, directly["id"])] == ["Task_izvertet"]


def _start_key(api, key: str) -> dict:
    response = api.post(f"/engine-rest/process-definition/key/{key}/start", json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
