"""Camunda's form endpoints: a task's form and its deployed form-js JSON, a process's start form."""

from __future__ import annotations

from engine.config import PROJECT_ROOT

PROCESSES = PROJECT_ROOT / "processes"
FORMS = sorted((PROJECT_ROOT / "forms").glob("*.form"))


def _open_task(api) -> dict:
    started = api.post(
        "/engine-rest/process-definition/key/pieteikuma_apstrade/start", json={"businessKey": "F-1"}
    ).get_json()
    (task,) = api.get("/engine-rest/task", query_string={"processInstanceId": started["id"]}).get_json()
    return task


def test_a_tasks_form_reference_and_its_deployed_form(api, deployed):
    task = _open_task(api)
    reference = api.get(f"/engine-rest/task/{task['id']}/form").get_json()
    assert reference == {
        "key": None,
        "camundaFormRef": {"key": "pieteikuma-registracija", "binding": "latest", "version": None},
        "contextPath": None,
    }
    form = api.get(f"/engine-rest/task/{task['id']}/deployed-form")
    assert form.status_code == 200
    schema = form.get_json()
    assert schema["id"] == "pieteikuma-registracija"
    assert "temats" in [c.get("key") for c in schema["components"]]


def test_task_forms_are_only_for_those_who_may_see_the_task(api, deployed):
    task = _open_task(api)
    outsider = api.as_user("outsider")
    assert outsider.get(f"/engine-rest/task/{task['id']}/form").status_code == 403
    assert outsider.get(f"/engine-rest/task/{task['id']}/deployed-form").status_code == 403
    assert api.get("/engine-rest/task/no-such-task/deployed-form").status_code == 404


def test_a_process_start_form(api):
    files = [PROCESSES / "konfiguraciju_parvaldiba.bpmn", PROCESSES / "prioritate.dmn", *FORMS]
    assert api.deploy(*files).status_code == 200
    reference = api.get("/engine-rest/process-definition/key/konfiguraciju_parvaldiba/startForm").get_json()
    assert reference["key"] is None and reference["camundaFormRef"]["key"] == "konfiguracija-ierosinajums"
    schema = api.get("/engine-rest/process-definition/key/konfiguraciju_parvaldiba/deployed-start-form").get_json()
    assert schema["id"] == "konfiguracija-ierosinajums"
    definition = api.get("/engine-rest/process-definition/key/konfiguraciju_parvaldiba").get_json()
    by_id = api.get(f"/engine-rest/process-definition/{definition['id']}/startForm").get_json()
    assert by_id == reference


def test_a_start_event_without_a_form(api, deployed):
    reference = api.get("/engine-rest/process-definition/key/pieteikuma_apstrade/startForm").get_json()
    assert reference == {"key": None, "camundaFormRef": None, "contextPath": None}
    missing = api.get("/engine-rest/process-definition/key/pieteikuma_apstrade/deployed-start-form")
    assert missing.status_code == 404 and "no deployed start form" in missing.get_json()["message"]
    assert api.get("/engine-rest/process-definition/key/nav/startForm").status_code == 404
