"""Authentication, authorization and bad input on the REST API."""

from __future__ import annotations

import base64

from sqlalchemy import select, text

from engine.storage.tables import history_event
from tests.conftest import SAMPLE_PROCESS, typed
from tests.test_api_instances import KEY, REGISTRATION, start, tasks


def test_requests_without_valid_credentials_get_401(api, deployed):
    anonymous = api.as_user(None)
    response = anonymous.get("/engine-rest/task")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.get_json()["type"] == "AuthenticationException"
    wrong = base64.b64encode(b"klara:wrong-password").decode()
    response = anonymous.get("/engine-rest/task", headers={"Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
    nobody = base64.b64encode(b"nobody:whatever1").decode()
    assert anonymous.get("/engine-rest/task", headers={"Authorization": f"Basic {nobody}"}).status_code == 401
    assert anonymous.get("/engine-rest/openapi.json").status_code == 200


def test_only_admins_deploy(api):
    response = api.as_user("klara").deploy(SAMPLE_PROCESS)
    assert response.status_code == 403
    assert response.get_json()["type"] == "AuthorizationException"
    assert api.get("/engine-rest/deployment").get_json() == []


def test_users_act_only_on_their_groups_tasks(api, deployed):
    instance = start(api)
    [task] = tasks(api.as_user("klara"), processInstanceId=instance["id"])
    outsider = api.as_user("outsider")
    assert tasks(outsider) == []
    assert outsider.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "outsider"}).status_code == 403
    response = outsider.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": typed(**REGISTRATION)})
    assert response.status_code == 403
    assert outsider.get(f"/engine-rest/process-instance/{instance['id']}").status_code == 403
    assert outsider.get(f"/engine-rest/process-instance/{instance['id']}/variables").status_code == 403

    # a clerk may not claim for someone else
    clerk = api.as_user("klara")
    assert clerk.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "karlis"}).status_code == 403
    assert clerk.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "klara"}).status_code == 204
    # claimed by klara: her colleague can neither claim nor complete it
    colleague = api.as_user("karlis")
    response = colleague.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "karlis"})
    assert response.status_code == 409 and "klara" in response.get_json()["message"]
    response = colleague.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": typed(**REGISTRATION)})
    assert response.status_code == 403
    assert colleague.post(f"/engine-rest/task/{task['id']}/unclaim").status_code == 403


def test_starting_needs_a_starter_group(api, deployed):
    response = api.as_user("ilze").post(f"/engine-rest/process-definition/key/{KEY}/start", json={})
    assert response.status_code == 403
    assert api.as_user("klara").post(f"/engine-rest/process-definition/key/{KEY}/start", json={}).status_code == 200


def test_bad_variables_are_refused_and_change_nothing(api, deployed):
    cases = [
        ({"n": {"value": "abc", "type": "Integer"}}, "'abc' is not a whole number"),
        ({"n": {"value": 2**40, "type": "Integer"}}, "out of range"),
        ({"d": {"value": "tomorrow", "type": "Date"}}, "is not a date"),
        ({"j": {"value": "{broken", "type": "Json"}}, "invalid JSON"),
        ({"b": {"value": "yes", "type": "Boolean"}}, "is not a Boolean"),
        ({"x": {"value": 1, "type": "Bytes"}}, "unsupported type"),
        ({"__class__": {"value": 1, "type": "Integer"}}, "Invalid variable name"),
        ({"s": "plain"}, "expected an object"),
    ]
    for variables, message in cases:
        response = api.post(f"/engine-rest/process-definition/key/{KEY}/start", json={"variables": variables})
        assert response.status_code == 400, variables
        assert message in response.get_json()["message"], (variables, response.get_json())
    assert api.get("/engine-rest/process-instance/count").get_json() == {"count": 0}


def test_typed_variables_round_trip(api, deployed):
    values = {
        "s": {"value": "teksts", "type": "String"},
        "i": {"value": 42, "type": "Integer"},
        "l": {"value": 2**40, "type": "Long"},
        "f": {"value": 2.5, "type": "Double"},
        "b": {"value": True, "type": "Boolean"},
        "d": {"value": "2026-11-24T10:15:00.000+0200", "type": "Date"},
        "j": {"value": '{"a": [1, 2]}', "type": "Json"},
    }
    response = api.post(f"/engine-rest/process-definition/key/{KEY}/start", json={"variables": values})
    instance = response.get_json()
    stored = api.get(f"/engine-rest/process-instance/{instance['id']}/variables").get_json()
    assert stored["s"]["value"] == "teksts" and stored["s"]["type"] == "String"
    assert stored["i"] == {"type": "Integer", "value": 42, "valueInfo": {}}
    assert stored["l"]["type"] == "Long"
    assert stored["f"]["type"] == "Double" and stored["f"]["value"] == 2.5
    assert stored["b"]["value"] is True
    assert stored["d"] == {"type": "Date", "value": "2026-11-24T10:15:00.000+0200", "valueInfo": {}}
    assert stored["j"]["type"] == "Json" and stored["j"]["value"] == '{"a": [1, 2]}'


def test_unknown_things_are_404_in_camunda_shape(api, deployed):
    for url in (
        "/engine-rest/task/00000000-0000-0000-0000-000000000000",
        "/engine-rest/process-instance/nope",
        "/engine-rest/process-definition/key/nope",
        "/engine-rest/deployment/nope",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        body = response.get_json()
        assert body["type"] == "InvalidRequestException" and body["message"]
    response = api.post("/engine-rest/process-definition/key/nope/start", json={})
    assert response.status_code == 404


def test_history_cannot_be_rewritten(engine, api, deployed):
    start(api)
    with engine.db.transaction(write=False) as uow:
        before = uow.execute(select(history_event)).all()
    assert before
    for statement in ("UPDATE history_event SET user_id = 'mallory'", "DELETE FROM history_event"):
        try:
            with engine.db.transaction() as uow:
                uow.execute(text(statement))
        except Exception as error:  # noqa: BLE001 - driver-specific error classes
            assert "append-only" in str(error)
        else:
            raise AssertionError(f"{statement} was allowed")
    with engine.db.transaction(write=False) as uow:
        assert uow.execute(select(history_event)).all() == before


def test_errors_are_json_in_camunda_shape(api):
    response = api.post("/engine-rest/task/x/claim", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.get_json()) >= {"type", "message"}
    response = api.post("/engine-rest/task/x/claim", json={})
    assert response.status_code == 400 and "userId" in response.get_json()["message"]


def test_password_checks_are_cached_briefly(engine, api, monkeypatch):
    from engine.services import users as users_module

    calls = []
    real = users_module._hasher

    class CountingHasher:
        def verify(self, stored, password):
            calls.append(password)
            return real.verify(stored, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(users_module, "_hasher", CountingHasher())
    clerk = api.as_user("klara")
    for _ in range(5):
        assert clerk.get("/engine-rest/task").status_code == 200
    assert len(calls) == 1, "a successful check is remembered"
    wrong = base64.b64encode(b"klara:not-her-password").decode()
    for _ in range(2):
        assert clerk.client.get("/engine-rest/task", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    assert len(calls) == 3, "failed checks are never cached"
    engine.users.set_password("klara", "a-brand-new-password")
    assert clerk.get("/engine-rest/task").status_code == 401, "a changed password invalidates the cache at once"


def test_openapi_document_describes_the_api(api):
    document = api.as_user(None).get("/engine-rest/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/engine-rest/deployment/create",
        "/engine-rest/process-definition/key/{key}/start",
        "/engine-rest/task/{task_id}/complete",
        "/engine-rest/history/activity-instance",
    ):
        assert path in paths, path
    assert "Task" in document["components"]["schemas"]
