"""End to end with a real Camunda 7 client: pycamunda, unmodified, against a running ``plusma serve``.

One server per backend (SQLite and PostgreSQL). As the admin the test deploys a renamed copy of the
sample process with its forms (a new version), starts an instance with typed variables; the
front-office clerk (group ``kac``) registers and escalates it, the executor (group ``l2``) fulfils
it, the clerk closes it; then history and the instance's variables are read back. It also checks
that a wrong password and a task of another group surface as pycamunda's exceptions.

pycamunda 0.6.1 has no ``history`` module, so the two history reads below are requests built from
pycamunda's own public request base class and parameter descriptors, the way its modules build theirs.
"""

from __future__ import annotations

import datetime as dt
import json

import pycamunda
import pycamunda.base
import pycamunda.deployment
import pycamunda.processdef
import pycamunda.processinst
import pycamunda.task
import pycamunda.variable
import pytest
import requests
from pycamunda.request import QueryParameter

from engine.config import PROJECT_ROOT
from tests.live_server import ADMIN, CLERK, EXECUTOR, PASSWORD, LiveServer

pytest_plugins = ["tests.live_server"]

KEY = "pieteikuma_apstrade"
SAMPLE_PROCESS = PROJECT_ROOT / "tests" / "fixtures" / "sample" / "pieteikuma_apstrade.bpmn"
FORMS = [
    SAMPLE_PROCESS.parent / name
    for name in ("pieteikuma-registracija.form", "pieprasijuma-izpilde.form", "pieteikuma-slegsana.form")
]
ORIGINAL_NAME = "Pieteikuma apstrāde (paraugs)"
RENAMED = "Pieteikuma apstrāde (pycamunda e2e)"
BUSINESS_KEY = "E2E-PYCAMUNDA-1"
RECEIVED = "2026-11-24T10:15:00.000+0200"
REGISTRATION = {
    "temats": "Nedarbojas e-pasts",
    "apraksts": "Kopš rīta nevar nosūtīt e-pastus.",
    "pieteicejs": "Jānis Bērziņš",
    "veids": "incidents",
    "ietekme": "augsta",
    "steidzamiba": "vidēja",
}
EXPECTED_ACTIVITIES = [
    ("StartEvent_sanemts", None),
    ("Task_registret", CLERK),
    ("Task_prioritate", None),
    ("Gateway_eskalet", None),
    ("Task_izpildit", EXECUTOR),
    ("Gateway_apvienot", None),
    ("Task_informet", CLERK),
    ("EndEvent_slegts", None),
]


class HistoricProcessInstanceList(pycamunda.base.CamundaRequest):
    """``GET /history/process-instance`` (Camunda 7 REST), answering the JSON list."""

    process_instance_id = QueryParameter("processInstanceId")

    def __init__(self, url: str, process_instance_id: str) -> None:
        super().__init__(url=url + "/history/process-instance")
        self.process_instance_id = process_instance_id

    def __call__(self, *args, **kwargs) -> list[dict]:
        return super().__call__(pycamunda.base.RequestMethod.GET, *args, **kwargs).json()


class HistoricActivityInstanceList(pycamunda.base.CamundaRequest):
    """``GET /history/activity-instance`` (Camunda 7 REST), answering the JSON list."""

    process_instance_id = QueryParameter("processInstanceId")
    sort_by = QueryParameter("sortBy")
    sort_order = QueryParameter("sortOrder")

    def __init__(self, url: str, process_instance_id: str) -> None:
        super().__init__(url=url + "/history/activity-instance")
        self.process_instance_id = process_instance_id
        self.sort_by = "startTime"
        self.sort_order = "asc"

    def __call__(self, *args, **kwargs) -> list[dict]:
        return super().__call__(pycamunda.base.RequestMethod.GET, *args, **kwargs).json()


class User:
    """Sends pycamunda requests as one user: HTTP Basic on ``request.auth``, a pooled ``request.session``."""

    def __init__(self, name: str, password: str = PASSWORD) -> None:
        self.name = name
        self.password = password
        self.session = requests.Session()

    def __call__(self, request: pycamunda.base.CamundaRequest):  # noqa: ANN204
        request.auth = requests.auth.HTTPBasicAuth(self.name, self.password)
        request.session = self.session
        return request()


def renamed_process() -> tuple[str, bytes]:
    original = SAMPLE_PROCESS.read_bytes()
    assert f'name="{ORIGINAL_NAME}"'.encode() in original
    return SAMPLE_PROCESS.name, original.replace(f'name="{ORIGINAL_NAME}"'.encode(), f'name="{RENAMED}"'.encode())


def only(items):  # noqa: ANN001, ANN201
    assert len(items) == 1, items
    return items[0]


def test_request_lifecycle_through_pycamunda(plusma_server: LiveServer) -> None:
    url = plusma_server.url
    admin, clerk, executor = User(ADMIN), User(CLERK), User(EXECUTOR)

    # Wrong credentials: 401 as pycamunda.Unauthorized, on the session path and on deployment's own path.
    with pytest.raises(pycamunda.Unauthorized) as refused:
        User(ADMIN, "not-the-password")(pycamunda.processdef.GetList(url, key=KEY))
    assert refused.value.http_code == 401
    denied_deployment = pycamunda.deployment.Create(url, name="never")
    denied_deployment.add_resource(renamed_process())
    with pytest.raises(pycamunda.Unauthorized):
        User(CLERK, "not-the-password")(denied_deployment)

    # The server deployed its processes folder (the sample here) at start-up: version 1.
    [startup_definition] = admin(pycamunda.processdef.GetList(url, key=KEY))
    assert (startup_definition.version, startup_definition.name) == (1, ORIGINAL_NAME)

    # As the admin: deploy the renamed copy with its three forms -> version 2.
    create = pycamunda.deployment.Create(url, name="pycamunda-e2e", source="pycamunda")
    create.add_resource(renamed_process())
    for form in FORMS:
        create.add_resource((form.name, form.read_bytes()))
    deployment = admin(create)
    assert deployment.name == "pycamunda-e2e" and deployment.source == "pycamunda"
    assert isinstance(deployment.deployment_time, dt.datetime) and deployment.deployment_time.tzinfo is not None
    definition = only(list(deployment.deployed_process_definitions.values()))
    assert (definition.key, definition.version, definition.name) == (KEY, 2, RENAMED)
    assert definition.deployment_id == deployment.id_ and definition.resource == SAMPLE_PROCESS.name
    assert definition.version_tag == "1.0" and definition.suspended is False
    latest = only(admin(pycamunda.processdef.GetList(url, key=KEY, latest_version=True)))
    assert latest.id_ == definition.id_ == admin(pycamunda.processdef.Get(url, key=KEY)).id_
    assert f'name="{RENAMED}"' in admin(pycamunda.processdef.GetXML(url, id_=definition.id_))
    assert admin(pycamunda.deployment.Get(url, deployment.id_)).name == "pycamunda-e2e"
    assert [d.id_ for d in admin(pycamunda.deployment.GetList(url, name="pycamunda-e2e"))] == [deployment.id_]
    assert admin(pycamunda.processdef.Count(url, key=KEY)) == 2
    resources = admin(pycamunda.deployment.GetResources(url, deployment.id_))
    assert {r.name for r in resources} == {SAMPLE_PROCESS.name, *(form.name for form in FORMS)}
    assert {r.deployment_id for r in resources} == {deployment.id_}
    assert sorted(d.version for d in admin(pycamunda.processdef.GetList(url, key=KEY))) == [1, 2]

    # Start an instance of the latest version with a business key and typed variables.
    start = pycamunda.processdef.StartInstance(url, key=KEY, business_key=BUSINESS_KEY, with_variables_in_return=True)
    start.add_variable("kanals", "epasts", type_="String")
    start.add_variable("pielikumu_skaits", 2, type_="Integer")
    start.add_variable("svars", 0.75, type_="Double")
    start.add_variable("vip", False, type_="Boolean")
    start.add_variable("sanemts", RECEIVED, type_="Date")
    start.add_variable("konteksts", json.dumps({"avots": "e2e", "kartas_nr": 7}), type_="Json")
    start.add_variable("avots", "pycamunda")  # no type: the server infers String, as Camunda does
    instance = admin(start)
    assert instance.definition_id == definition.id_ and instance.business_key == BUSINESS_KEY
    assert instance.suspended is False
    started = instance.variables
    assert (started["kanals"].type_, started["kanals"].value) == ("String", "epasts")
    assert (started["pielikumu_skaits"].type_, started["pielikumu_skaits"].value) == ("Integer", 2)
    assert (started["svars"].type_, started["svars"].value) == ("Double", 0.75)
    assert (started["vip"].type_, started["vip"].value) == ("Boolean", False)
    assert started["sanemts"].type_ == "Date"
    assert pycamunda.base.from_isoformat(started["sanemts"].value) == pycamunda.base.from_isoformat(RECEIVED)
    assert started["konteksts"].type_ == "Json"
    assert json.loads(started["konteksts"].value) == {"avots": "e2e", "kartas_nr": 7}
    assert (started["avots"].type_, started["avots"].value) == ("String", "pycamunda")

    running = only(admin(pycamunda.processinst.GetList(url, business_key=BUSINESS_KEY, active=True)))
    assert running.id_ == instance.id_ and running.definition_id == definition.id_
    assert admin(pycamunda.processinst.Get(url, instance.id_)).business_key == BUSINESS_KEY

    # The clerk finds the registration task by instance and candidate group.
    registration = only(clerk(pycamunda.task.GetList(url, process_instance_id=instance.id_, candidate_group="kac")))
    assert registration.task_definition_key == "Task_registret"
    assert registration.name == "Reģistrēt un klasificēt pieteikumu"
    assert registration.assignee is None and registration.process_definition_id == definition.id_
    assert isinstance(registration.created, dt.datetime)
    assert clerk(pycamunda.task.Get(url, registration.id_)).id_ == registration.id_
    links = clerk(pycamunda.task.IdentityLinksGetList(url, task_id=registration.id_))
    assert [(link.type_, link.group_id, link.user_id) for link in links] == [("candidate", "kac", None)]

    # The executor neither sees it nor may claim it: 403 as pycamunda.Forbidden.
    assert executor(pycamunda.task.GetList(url, process_instance_id=instance.id_)) == ()
    with pytest.raises(pycamunda.Forbidden) as forbidden:
        executor(pycamunda.task.Claim(url, registration.id_, user_id=EXECUTOR))
    assert forbidden.value.http_code == 403 and "ilze" in str(forbidden.value)

    clerk(pycamunda.task.Claim(url, registration.id_, user_id=CLERK))
    assert [t.id_ for t in clerk(pycamunda.task.GetList(url, assignee=CLERK))] == [registration.id_]
    with pytest.raises(pycamunda.Forbidden):
        executor(pycamunda.task.Complete(url, registration.id_))

    complete = pycamunda.task.Complete(url, registration.id_)
    for name, value in REGISTRATION.items():
        complete.add_variable(name, value, type_="String")
    complete.add_variable("eskalet", True, type_="Boolean")
    assert clerk(complete) is None
    assert clerk(pycamunda.task.GetList(url, process_instance_id=instance.id_)) == ()

    # The executor fulfils the escalated request.
    fulfil = only(executor(pycamunda.task.GetList(url, process_instance_id=instance.id_, candidate_group="l2")))
    assert fulfil.task_definition_key == "Task_izpildit" and fulfil.assignee is None
    seen = executor(pycamunda.processinst.VariablesGetList(url, instance.id_))
    assert (seen["prioritate"].type_, seen["prioritate"].value) == ("String", "augsta")
    assert (seen["eskalet"].type_, seen["eskalet"].value) == ("Boolean", True)
    assert seen["temats"].value == REGISTRATION["temats"]
    priority = executor(pycamunda.processinst.VariablesGet(url, instance.id_, "prioritate"))
    assert isinstance(priority, pycamunda.variable.Variable) and priority.value == "augsta"
    executor(pycamunda.task.Claim(url, fulfil.id_, user_id=EXECUTOR))
    complete = pycamunda.task.Complete(url, fulfil.id_)
    complete.add_variable("rezultats", "Pastkastes kvota palielināta", type_="String")
    complete.add_variable("patereletais_laiks", 1.5, type_="Double")
    executor(complete)

    # The clerk informs the requester and closes it.
    closing = only(clerk(pycamunda.task.GetList(url, process_instance_id=instance.id_, candidate_group="kac")))
    assert closing.task_definition_key == "Task_informet"
    clerk(pycamunda.task.Claim(url, closing.id_, user_id=CLERK))
    complete = pycamunda.task.Complete(url, closing.id_, with_variables_in_return=True)
    complete.add_variable("atbilde", "Problēma novērsta", type_="String")
    complete.add_variable("informesanas_kanals", "epasts", type_="String")
    returned = clerk(complete)
    assert (returned["atbilde"].type_, returned["atbilde"].value) == ("String", "Problēma novērsta")
    assert returned["rezultats"].value == "Pastkastes kvota palielināta"

    assert admin(pycamunda.processinst.GetList(url, business_key=BUSINESS_KEY, active=True)) == ()
    assert admin(pycamunda.task.GetList(url, process_instance_id=instance.id_)) == ()

    # History: the instance completed, every activity in order, the user tasks with their assignees.
    historic = only(admin(HistoricProcessInstanceList(url, instance.id_)))
    assert historic["state"] == "COMPLETED" and historic["businessKey"] == BUSINESS_KEY
    assert historic["processDefinitionId"] == definition.id_ and historic["processDefinitionVersion"] == 2
    assert historic["processDefinitionName"] == RENAMED and historic["startUserId"] == ADMIN
    started_at = pycamunda.base.from_isoformat(historic["startTime"])
    assert pycamunda.base.from_isoformat(historic["endTime"]) >= started_at
    activities = admin(HistoricActivityInstanceList(url, instance.id_))
    assert [(a["activityId"], a["assignee"]) for a in activities] == EXPECTED_ACTIVITIES
    assert all(a["endTime"] and not a["canceled"] for a in activities)
    tasks = {a["activityId"]: a["taskId"] for a in activities if a["activityType"] == "userTask"}
    assert tasks == {"Task_registret": registration.id_, "Task_izpildit": fulfil.id_, "Task_informet": closing.id_}

    # The completed instance's variables: what was started with and what each form added.
    final = admin(pycamunda.processinst.VariablesGetList(url, instance.id_))
    assert {name: variable.value for name, variable in final.items() if name in REGISTRATION} == REGISTRATION
    assert (final["pielikumu_skaits"].type_, final["pielikumu_skaits"].value) == ("Integer", 2)
    assert (final["patereletais_laiks"].type_, final["patereletais_laiks"].value) == ("Double", 1.5)
    assert final["informesanas_kanals"].value == "epasts" and final["prioritate"].value == "augsta"
    assert pycamunda.base.from_isoformat(final["sanemts"].value) == pycamunda.base.from_isoformat(RECEIVED)
