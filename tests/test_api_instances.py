"""The REST API end to end through Flask: deploy, start, task list, claim, complete, history."""

from __future__ import annotations

from tests.conftest import SAMPLE_FORMS, SAMPLE_PROCESS, typed

KEY = "pieteikuma_apstrade"
REGISTRATION = dict(
    temats="Nedarbojas e-pasts",
    apraksts="Kopš rīta nevar nosūtīt e-pastus.",
    pieteicejs="Jānis Bērziņš",
    veids="incidents",
    ietekme="augsta",
    steidzamiba="vidēja",
)


def start(api, business_key="REQ-1", **variables):
    response = api.post(
        f"/engine-rest/process-definition/key/{KEY}/start",
        json={"businessKey": business_key, "variables": typed(**variables)},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def tasks(api, **params):
    response = api.get("/engine-rest/task", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_deploy_lists_definitions_and_xml(api, deployed):
    definitions = deployed["deployedProcessDefinitions"]
    assert len(definitions) == 1
    (definition,) = definitions.values()
    assert definition["key"] == KEY and definition["version"] == 1
    assert definition["name"] == "Pieteikuma apstrāde (paraugs)"
    assert definition["versionTag"] == "1.0"

    assert [d["id"] for d in api.get("/engine-rest/deployment").get_json()] == [deployed["id"]]
    by_key = api.get(f"/engine-rest/process-definition/key/{KEY}").get_json()
    assert by_key["id"] == definition["id"]
    xml = api.get(f"/engine-rest/process-definition/key/{KEY}/xml").get_json()
    assert xml["bpmn20Xml"] == SAMPLE_PROCESS.read_text(encoding="utf-8")
    assert api.get("/engine-rest/process-definition/count").get_json() == {"count": 1}


def test_redeploy_identical_makes_no_new_version_and_changed_does(api, deployed):
    again = api.deploy(SAMPLE_PROCESS, *SAMPLE_FORMS, name="sample")
    assert again.status_code == 200
    assert again.get_json()["deployedProcessDefinitions"] is None
    assert api.get("/engine-rest/process-definition/count").get_json() == {"count": 1}

    filtered = api.deploy(SAMPLE_PROCESS, *SAMPLE_FORMS, name="sample", **{"enable-duplicate-filtering": "true"})
    assert filtered.get_json()["id"] == again.get_json()["id"]
    assert filtered.get_json()["deployedProcessDefinitions"] is None
    assert len(api.get("/engine-rest/deployment").get_json()) == 2

    changed = SAMPLE_PROCESS.read_bytes().replace(
        "Informēt pieteicēju un slēgt pieteikumu".encode(), "Informēt un slēgt".encode()
    )
    response = api.deploy((SAMPLE_PROCESS.name, changed), name="sample")
    assert response.status_code == 200, response.get_json()
    (definition,) = response.get_json()["deployedProcessDefinitions"].values()
    assert definition["version"] == 2
    latest = api.get("/engine-rest/process-definition", query_string={"latestVersion": "true"}).get_json()
    assert [d["version"] for d in latest] == [2]


def test_running_instances_keep_their_version(api, deployed):
    instance = start(api, "REQ-OLD")
    changed = SAMPLE_PROCESS.read_bytes().replace(
        "Informēt pieteicēju un slēgt pieteikumu".encode(), "Informēt un slēgt".encode()
    )
    api.deploy((SAMPLE_PROCESS.name, changed), name="sample")
    new_instance = start(api, "REQ-NEW")
    assert instance["definitionId"] != new_instance["definitionId"]
    old = api.get(f"/engine-rest/process-instance/{instance['id']}").get_json()
    assert old["definitionId"] == instance["definitionId"]


def test_full_path_through_escalation(api, deployed):
    instance = start(api, "REQ-1", kanals="epasts")
    assert instance["businessKey"] == "REQ-1" and instance["ended"] is False

    clerk = api.as_user("klara")
    executor = api.as_user("ilze")
    [registration] = tasks(clerk, processInstanceId=instance["id"])
    assert registration["taskDefinitionKey"] == "Task_registret"
    assert registration["name"] == "Reģistrēt un klasificēt pieteikumu"
    assert registration["camundaFormRef"]["key"] == "pieteikuma-registracija"
    assert tasks(executor, processInstanceId=instance["id"]) == []
    assert executor.get(f"/engine-rest/task/{registration['id']}").status_code == 403

    assert clerk.post(f"/engine-rest/task/{registration['id']}/claim", json={"userId": "klara"}).status_code == 204
    assert tasks(clerk, assignee="klara")[0]["id"] == registration["id"]
    response = clerk.post(
        f"/engine-rest/task/{registration['id']}/complete",
        json={"variables": typed(**REGISTRATION, eskalet=True)},
    )
    assert response.status_code == 204, response.get_json()

    [fulfil] = tasks(executor, processInstanceId=instance["id"])
    assert fulfil["taskDefinitionKey"] == "Task_izpildit"
    variables = executor.get(f"/engine-rest/process-instance/{instance['id']}/variables").get_json()
    assert variables["prioritate"] == {"type": "String", "value": "augsta", "valueInfo": {}}
    assert variables["eskalet"]["value"] is True
    form = executor.get(f"/engine-rest/task/{fulfil['id']}/form-variables").get_json()
    assert set(form) == {"temats", "rezultats", "patereletais_laiks"}
    assert form["temats"]["value"] == "Nedarbojas e-pasts"

    executor.post(f"/engine-rest/task/{fulfil['id']}/claim", json={"userId": "ilze"})
    response = executor.post(
        f"/engine-rest/task/{fulfil['id']}/complete",
        json={"variables": typed(rezultats="Pastkastes kvota palielināta", patereletais_laiks=1.5)},
    )
    assert response.status_code == 204, response.get_json()

    [closing] = tasks(clerk, processInstanceId=instance["id"])
    response = clerk.post(
        f"/engine-rest/task/{closing['id']}/complete",
        json={
            "variables": typed(atbilde="Problēma novērsta", informesanas_kanals="epasts"),
            "withVariablesInReturn": True,
        },
    )
    assert response.status_code == 200
    assert response.get_json()["atbilde"]["value"] == "Problēma novērsta"

    done = api.get(f"/engine-rest/process-instance/{instance['id']}").get_json()
    assert done["ended"] is True
    assert api.get("/engine-rest/process-instance", query_string={"active": "true"}).get_json() == []

    history = api.get("/engine-rest/history/process-instance", query_string={"processInstanceId": instance["id"]})
    [historic] = history.get_json()
    assert historic["state"] == "COMPLETED" and historic["startUserId"] == "admin" and historic["endTime"]

    activities = api.get(
        "/engine-rest/history/activity-instance", query_string={"processInstanceId": instance["id"]}
    ).get_json()
    ids = [a["activityId"] for a in activities]
    assert ids == [
        "StartEvent_sanemts",
        "Task_registret",
        "Task_prioritate",
        "Gateway_eskalet",
        "Task_izpildit",
        "Gateway_apvienot",
        "Task_informet",
        "EndEvent_slegts",
    ]
    by_id = {a["activityId"]: a for a in activities}
    assert by_id["Task_registret"]["assignee"] == "klara"
    assert by_id["Task_izpildit"]["assignee"] == "ilze"
    assert by_id["Task_informet"]["assignee"] == "klara"
    assert all(a["endTime"] for a in activities)


def test_history_records_who_did_what(engine, api, deployed):
    instance = start(api, "REQ-H")
    clerk = api.as_user("klara")
    [task] = tasks(clerk, processInstanceId=instance["id"])
    clerk.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "klara"})
    clerk.post(f"/engine-rest/task/{task['id']}/unclaim")
    clerk.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": typed(**REGISTRATION, eskalet=False)})

    events = engine.history.events(instance["id"])
    kinds = [(e["event_type"], e["activity_id"], e["user_id"]) for e in events]
    assert kinds[0] == ("instance_started", None, "admin")
    assert ("task_created", "Task_registret", "admin") in kinds
    assert ("task_claimed", "Task_registret", "klara") in kinds
    assert ("task_unclaimed", "Task_registret", "klara") in kinds
    completed = next(e for e in events if e["event_type"] == "task_completed")
    assert completed["user_id"] == "klara"
    assert completed["data"]["variables"]["temats"] == "Nedarbojas e-pasts"
    gateway = next(
        e for e in events if e["activity_id"] == "Gateway_eskalet" and e["event_type"] == "activity_completed"
    )
    assert gateway["data"]["taken"] == [{"activityId": "Gateway_apvienot", "activityName": None}]


def test_cancel_with_reason(api, deployed):
    instance = start(api, "REQ-C")
    response = api.delete(f"/engine-rest/process-instance/{instance['id']}", query_string={"deleteReason": "dublikāts"})
    assert response.status_code == 204
    assert tasks(api, processInstanceId=instance["id"]) == []
    [historic] = api.get(
        "/engine-rest/history/process-instance", query_string={"processInstanceId": instance["id"]}
    ).get_json()
    assert historic["state"] == "EXTERNALLY_TERMINATED" and historic["deleteReason"] == "dublikāts"
    again = api.delete(f"/engine-rest/process-instance/{instance['id']}")
    assert again.status_code == 400 and "already ended" in again.get_json()["message"]


def test_task_filters_sorting_and_paging(api, deployed):
    for number in range(5):
        start(api, f"REQ-{number}")
    clerk = api.as_user("klara")
    assert clerk.get("/engine-rest/task/count").get_json() == {"count": 5}
    assert len(tasks(clerk, candidateGroup="kac")) == 5
    assert tasks(clerk, candidateGroup="l2") == []
    assert len(tasks(api, candidateUser="klara")) == 5
    assert tasks(api, candidateUser="ilze") == []
    assert [t["id"] for t in tasks(clerk, processInstanceBusinessKey="REQ-3")] == [
        t["id"]
        for t in tasks(clerk)
        if t["processInstanceId"] == tasks(clerk, processInstanceBusinessKey="REQ-3")[0]["processInstanceId"]
    ]
    first_two = tasks(clerk, sortBy="created", sortOrder="asc", firstResult=0, maxResults=2)
    next_two = tasks(clerk, sortBy="created", sortOrder="asc", firstResult=2, maxResults=2)
    assert len(first_two) == 2 and len(next_two) == 2
    assert not {t["id"] for t in first_two} & {t["id"] for t in next_two}
    assert len(tasks(clerk, name="Reģistrēt un klasificēt pieteikumu")) == 5
    assert len(tasks(clerk, processDefinitionKey=KEY)) == 5
    bad = clerk.get("/engine-rest/task", query_string={"sortBy": "nonsense"})
    assert bad.status_code == 400 and "nonsense" in bad.get_json()["message"]
    bad = clerk.get("/engine-rest/task", query_string={"maxResults": "many"})
    assert bad.status_code == 400 and "maxResults" in bad.get_json()["message"]


def test_instance_list_filters(api, deployed):
    first = start(api, "REQ-A")
    start(api, "REQ-B")
    found = api.get("/engine-rest/process-instance", query_string={"businessKey": "REQ-A"}).get_json()
    assert [i["id"] for i in found] == [first["id"]]
    assert api.get("/engine-rest/process-instance/count", query_string={"processDefinitionKey": KEY}).get_json() == {
        "count": 2
    }
    assert api.get("/engine-rest/process-instance", query_string={"completed": "true"}).get_json() == []
