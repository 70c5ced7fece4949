"""Deployment through the REST API: bad models get a clear 400 and nothing of them is stored;
process owners' code is refused at deployment where detectable and stopped at run time otherwise."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLE_FORMS, SAMPLE_PROCESS, typed
from tests.test_api_instances import REGISTRATION, start, tasks

SAMPLE = SAMPLE_PROCESS.read_text(encoding="utf-8")
NAME = SAMPLE_PROCESS.name

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_min" targetNamespace="http://plusma.lv/bpmn">
  <bpmn:process id="minimal" name="Minimal" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    {middle}
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Work" />
    <bpmn:sequenceFlow id="F2" sourceRef="Work" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def minimal_with(middle: str) -> bytes:
    return MINIMAL.replace("{middle}", middle).encode()


def script_task(script: str) -> bytes:
    return minimal_with(
        f'<bpmn:scriptTask id="Work" name="Work" scriptFormat="python"><bpmn:incoming>F1</bpmn:incoming>'
        f"<bpmn:outgoing>F2</bpmn:outgoing><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>"
    )


def assert_nothing_stored(api) -> None:
    assert api.get("/engine-rest/deployment").get_json() == []
    assert api.get("/engine-rest/process-definition/count").get_json() == {"count": 0}


def refused(api, *files, name="bad"):
    response = api.deploy(*files, name=name)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["type"] == "ParseException"
    return body


BAD_MODELS = {
    "malformed": (SAMPLE.replace("</bpmn:process>", "</bpmn:proces>").encode(), None, "malformed XML"),
    "doctype": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        + SAMPLE.split("?>", 1)[1].encode(),
        None,
        "DOCTYPE",
    ),
    "not executable": (SAMPLE.replace('isExecutable="true"', 'isExecutable="false"').encode(), None, "no executable"),
    "condition import": (
        SAMPLE.replace("eskalet == True", "__import__('os').system('id')").encode(),
        "Flow_eskalet",
        "condition",
    ),
    "script dunder walk": (
        SAMPLE.replace("del matrix", "x = ().__class__.__base__.__subclasses__()").encode(),
        "Task_prioritate",
        "_",
    ),
    "script import": (SAMPLE.replace("del matrix", "import os").encode(), "Task_prioritate", "import"),
    "form not deployed": (
        SAMPLE.replace('camunda:formRef="pieteikuma-slegsana"', 'camunda:formRef="nav-tadas-formas"').encode(),
        "Task_informet",
        "nav-tadas-formas",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_bad_model_is_refused_naming_file_element_and_line(api, case):
    content, element_id, words = BAD_MODELS[case]
    body = refused(api, (NAME, content), *SAMPLE_FORMS)
    problems = body["problems"]
    assert problems and all(p["file"] == NAME for p in problems), problems
    assert any(words in p["message"] for p in problems), problems
    if element_id:
        problem = next(p for p in problems if p["elementId"] == element_id)
        assert problem["line"] and problem["line"] > 1
        assert element_id in body["message"] and NAME in body["message"]
    assert_nothing_stored(api)


def test_bad_timer_is_refused(api):
    content = minimal_with(
        '<bpmn:intermediateCatchEvent id="Work"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>'
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT3X</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )
    body = refused(api, ("timer.bpmn", content))
    [problem] = body["problems"]
    assert problem["elementId"] == "Work" and "PT3X" in problem["message"]
    assert_nothing_stored(api)


def test_ids_the_engine_reserves_are_refused(api):
    content = MINIMAL.replace("StartEvent_1", "Start").replace("{middle}", "").encode()
    body = refused(api, ("reserved.bpmn", content))
    assert any(p["elementId"] == "Start" and "reserved" in p["message"] for p in body["problems"]), body
    assert_nothing_stored(api)


def test_oversized_file_is_refused(api):
    padding = b"<!--" + b"x" * (5 * 1024 * 1024) + b"-->"
    body = refused(api, ("huge.bpmn", SAMPLE.encode() + padding))
    assert "huge.bpmn" in body["message"] and "limit" in body["message"]
    assert_nothing_stored(api)


def test_one_bad_file_refuses_the_whole_deployment(api):
    bad = SAMPLE.replace("eskalet == True", "eskalet ==").encode()
    body = refused(api, ("good.bpmn", script_task("x = 1")), (NAME, bad), *SAMPLE_FORMS)
    assert {p["file"] for p in body["problems"]} == {NAME}
    assert_nothing_stored(api)
    # the forms of the refused deployment were not stored either: the process can't find them later
    body = refused(api, SAMPLE_PROCESS)
    assert "pieteikuma-registracija" in body["message"]


def test_nothing_of_an_earlier_deployment_is_lost_when_a_later_one_is_refused(api, deployed):
    instance = start(api, "KEEP")
    bad = SAMPLE.replace("</bpmn:process>", "").encode()
    refused(api, (NAME, bad), *SAMPLE_FORMS)
    assert api.get("/engine-rest/process-definition/count").get_json() == {"count": 1}
    assert len(tasks(api, processInstanceId=instance["id"])) == 1


def test_unsupported_file_and_empty_deployment(api):
    body = refused(api, ("notes.txt", b"hello"))
    assert "notes.txt" in body["message"]
    response = api.post("/engine-rest/deployment/create", data={"deployment-name": "x"})
    assert response.status_code == 400 and "at least one" in response.get_json()["message"]


def test_run_time_script_error_names_the_element_and_changes_nothing(engine, api, deployed):
    instance = start(api, "RT-ERR")
    clerk = api.as_user("klara")
    [task] = tasks(clerk, processInstanceId=instance["id"])
    missing = {k: v for k, v in REGISTRATION.items() if k != "ietekme"}
    before = len(engine.history.events(instance["id"]))
    response = clerk.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": typed(**missing)})
    assert response.status_code == 400
    body = response.get_json()
    assert "Task_prioritate" in body["message"] and "ietekme" in body["message"]
    assert body["elementId"] == "Task_prioritate"
    # still open, same version, no history written
    [still_open] = tasks(clerk, processInstanceId=instance["id"])
    assert still_open["id"] == task["id"]
    assert len(engine.history.events(instance["id"])) == before
    complete = typed(**REGISTRATION, eskalet=False)
    response = clerk.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": complete})
    assert response.status_code == 204, response.get_json()


def test_runaway_loop_is_stopped_by_the_time_limit(api):
    content = script_task("n = 0\nwhile n &gt;= 0:\n    n = n + 1")
    response = api.deploy(("loop.bpmn", content), name="loop")
    assert response.status_code == 200, response.get_json()
    response = api.post("/engine-rest/process-definition/key/minimal/start", json={})
    assert response.status_code == 400
    body = response.get_json()
    assert body["elementId"] == "Work" and "time limit" in body["message"]
    assert api.get("/engine-rest/process-instance/count").get_json() == {"count": 0}


@pytest.mark.parametrize(
    "script",
    [
        "x = getattr((), '__class__')",
        "x = open('/etc/passwd').read()",
        "x = eval('1 + 1')",
        "exec('x = 1')",
        "x = '{0.__class__}'.format(1)",
    ],
)
def test_escapes_are_refused_at_deployment_or_run_time(api, script):
    response = api.deploy(("escape.bpmn", script_task(script.replace("'", "&apos;"))), name="escape")
    if response.status_code == 400:
        assert response.get_json()["problems"][0]["elementId"] == "Work"
        assert_nothing_stored(api)
        return
    assert response.status_code == 200
    response = api.post("/engine-rest/process-definition/key/minimal/start", json={})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["elementId"] == "Work"
    assert api.get("/engine-rest/process-instance/count").get_json() == {"count": 0}


def test_a_process_redeployed_alone_uses_the_decision_deployed_before(api):
    """Camunda Modeler deploys one file: a process that calls an already deployed decision needs no DMN with it."""
    from engine.config import PROJECT_ROOT
    from tests.conftest import typed

    decision = PROJECT_ROOT / "processes" / "prioritate.dmn"
    process = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="prioritates_tests" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="Noteikt"/>
    <bpmn:businessRuleTask id="Noteikt" camunda:decisionRef="prioritate"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Noteikt" targetRef="u"/>
    <bpmn:userTask id="u" camunda:candidateGroups="kac"/>
    <bpmn:sequenceFlow id="f3" sourceRef="u" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""
    refused = api.deploy(("prioritates_tests.bpmn", process))
    assert refused.status_code == 400 and "prioritate" in refused.get_json()["message"]
    assert api.deploy(decision).status_code == 200
    alone = api.deploy(("prioritates_tests.bpmn", process))
    assert alone.status_code == 200, alone.get_json()
    resources = api.get(f"/engine-rest/deployment/{alone.get_json()['id']}/resources").get_json()
    assert [r["name"] for r in resources] == ["prioritates_tests.bpmn"]
    started = api.post(
        "/engine-rest/process-definition/key/prioritates_tests/start",
        json={"variables": typed(ietekme="augsta", steidzamiba="videja")},
    ).get_json()
    variables = api.get(f"/engine-rest/process-instance/{started['id']}/variables").get_json()
    assert variables["prioritate"]["value"] == 2 and variables["atrisinasanas_laiks"]["value"] == "1 darba diena"
