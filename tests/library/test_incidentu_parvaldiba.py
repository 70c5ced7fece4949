"""Scenarios of incident management (``processes/incidentu_parvaldiba.bpmn``).

Level 2 accepts the escalated incident, the priority decision sets the restoration deadline, level 2 investigates
and diagnoses, hands the resolution to a level-3 partner when it cannot resolve it itself, resolves and restores the
service, and the reporter is told the result. A passed deadline takes the work away and escalates it to the service
owner, who decides who continues; reminders are recorded at the reaction time and daily for the partner. An unknown
or recurring cause starts problem management; an incident that came from the request intake reports back to it.

Incidents handed on by the request intake (``pieteikumu_parvaldiba``) are driven through it: the KAC registers and
classifies the incident there, the intake's message starts this process, and at the end this process hands the
result back (``pieteikums_izpildits``), so the intake informs the reporter and closes the request. Incidents reported
here directly are reported back to the reporter by this process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.library.conftest import PROCESSES, RIGA, assert_due_at_termins, body, events, task_due

KEY = "incidentu_parvaldiba"

REPORT = {
    "pieteicejs": "Ilze Kalniņa, Dzimtsarakstu nodaļa",
    "epasts": "ilze.kalnina@example.lv",
    "kanals": "talrunis",
    "temats": "Nevar pieslēgties Dzimtsarakstu informācijas sistēmai",
    "apraksts": "Kopš 8:45 pieslēgšanās beidzas ar kļūdu 'Sertifikāts nav derīgs'; skarti visi nodaļas darbinieki.",
    "pakalpojums": "Civilstāvokļa aktu reģistrācija",
}

ACCEPTED = {
    **REPORT,
    "valoda": "lv",
    "kategorija": "piekluve",
    "konfiguracijas_vieniba": "KV-IS-0042 Dzimtsarakstu informācijas sistēma",
    "ietekme": "videja",
    "steidzamiba": "videja",
}

INTAKE = "pieteikumu_parvaldiba"

needs_intake = pytest.mark.skipif(
    not (PROCESSES / f"{INTAKE}.bpmn").exists(),
    reason="the request intake process (which hands incidents on and waits for the result) is not in processes/ yet",
)
needs_problem_management = pytest.mark.skipif(
    not (PROCESSES / "problemu_parvaldiba.bpmn").exists(),
    reason="the problem management process (message start 'problema') is not in processes/ yet",
)


# --- helpers ---------------------------------------------------------------------------------------------


def report(library, business_key: str, role: str, **variables) -> str:
    """Level 2 or the KAC reports an incident directly (``POST /message``): its instance."""
    result = library.message("incidents", business_key=business_key, role=role, **variables)
    assert result[0]["resultType"] == "ProcessDefinition"
    assert result[0]["processInstance"]["definitionKey"] == KEY
    return result[0]["processInstance"]["id"]


def through_intake(library, business_key: str, registration: dict, classification: dict) -> tuple[str, str]:
    """The KAC registers and classifies an incident in the request intake, which hands it on:
    (intake instance, incident instance)."""
    intake = library.start(INTAKE, business_key=business_key)["id"]
    library.complete(intake, "Task_registret", "kac", **registration)
    library.complete(intake, "Task_klasificet", "kac", pieteikuma_veids="incidents", risina_kac=False, **classification)
    [sent] = events(library, intake, "message_sent")
    assert sent["data"]["messageName"] == "incidents" and sent["data"]["toDefinitionKey"] == KEY
    return intake, sent["data"]["toInstanceId"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=RIGA)


def reminders(library, instance_id: str) -> list[str]:
    """The reminder timers that fired, in order (each firing is a ``timer_fired`` history event)."""
    return [e["activity_id"] for e in events(library, instance_id, "timer_fired") if "atgadinajums" in e["activity_id"]]


def open_tasks(library, instance_id: str) -> list[str]:
    return [t["taskDefinitionKey"] for t in library.tasks(instance_id)]


def diagnose(library, pid: str, *, cause_known: str = "ja", recurs: str = "ne", level: str = "l2") -> None:
    library.complete(
        pid,
        "Task_diagnosticet",
        "l2",
        diagnoze="Beidzies sistēmas servera TLS sertifikāta derīgums (izsniegts 2025-11-23).",
        celonis_zinams=cause_known,
        atkartojas=recurs,
        risinajuma_limenis=level,
        **({"uzdevums_partnerim": "Izsniegt un uzstādīt jaunu servera sertifikātu."} if level == "l3" else {}),
    )


def resolve(library, pid: str, rezultats: str = "Pieslēgšanās atjaunota 11:20; lūdzam pārlādēt pārlūku.") -> None:
    library.complete(
        pid,
        "Task_noverst",
        "l2",
        risinajums="Uzstādīts jauns servera sertifikāts, restartēts lietojumserveris.",
        rezultats=rezultats,
        izpildes_statuss="atrisinats",
    )


# --- scenarios -------------------------------------------------------------------------------------------


def test_kac_reports_an_incident_level_2_diagnoses_resolves_and_the_reporter_is_told(library):
    # The KAC starts incident management itself (its plain start event), as from Camunda's task list.
    pid = library.start(KEY, role="kac", business_key="PIE-2026-0201", **REPORT)["id"]
    assert library.activities(pid)[0] == "StartEvent_tiesi"
    accept = library.task(pid, "Task_pienemt")
    assert accept["camundaFormRef"]["key"] == "incidents-pienemsana"
    # Reported here, the incident has no deadline until it is prioritised, and Camunda's default priority.
    assert task_due(accept) is None and accept["priority"] == 50
    assert library.variables(pid)["termins"] is None and library.variables(pid)["uzdevuma_prioritate"] == 50
    library.complete(pid, "Task_pienemt", "l2", **ACCEPTED)
    data = library.variables(pid)
    # Medium impact and urgency: priority 3, three working days: the end of Thursday.
    assert (data["prioritate"], data["prioritates_nosaukums"], data["reakcijas_laiks"]) == (
        3,
        "videja",
        "1 darba diena",
    )
    assert datetime.fromisoformat(data["termins"]) == at(26, 17)
    assert data["avots"] is None and data["valoda"] == "lv"
    assert assert_due_at_termins(library, pid, "Task_diagnosticet")["priority"] == 50

    library.advance(timedelta(hours=1))
    diagnose(library, pid)
    assert_due_at_termins(library, pid, "Task_noverst")
    library.advance(timedelta(hours=1, minutes=20))
    resolve(library, pid)

    assert library.state(pid) == "COMPLETED"
    [resolved] = library.mails(to="ilze.kalnina@example.lv")
    assert resolved["Subject"] == "Pieteikums Nr. PIE-2026-0201 izpildīts"
    assert "Pieslēgšanās atjaunota 11:20" in body(resolved)
    assert "Nevar pieslēgties Dzimtsarakstu informācijas sistēmai" in body(resolved)
    data = library.variables(pid)
    assert data["izpildes_statuss"] == "atrisinats" and data["celonis_zinams"] == "ja"
    done = library.activities(pid)
    assert done.index("Task_pienemt") < done.index("Task_diagnosticet") < done.index("Task_noverst")
    assert done[-3:] == ["Gateway_avots", "Task_informet_atrisinats", "EndEvent_slegts"]
    assert "Task_partneris" not in done and "Event_problema" not in done
    assert not events(library, pid, "message_sent")


@needs_intake
def test_incident_from_intake_goes_to_a_partner_and_the_result_is_handed_back_to_the_intake(library):
    intake, pid = through_intake(
        library,
        "PIE-2026-0202",
        registration={
            "pieteicejs": "John Miller",
            "epasts": "john.miller@example.com",
            "valoda": "en",
            "kanals": "epasts",
            "temats": "E-service payment page does not open",
            "apraksts": "The payment step of the e-service ends with error 502 since this morning.",
        },
        classification={"pakalpojums": "Būvatļauju e-pakalpojums", "ietekme": "augsta", "steidzamiba": "videja"},
    )
    started = events(library, pid, "instance_started")[0]
    assert started["activity_id"] == "StartEvent_incidents"
    assert started["data"]["fromInstanceId"] == intake and started["data"]["messageName"] == "incidents"
    assert library.variables(pid)["avots"] == "pieteikums"

    library.complete(
        pid,
        "Task_pienemt",
        "l2",
        pieteicejs="John Miller",
        epasts="john.miller@example.com",
        valoda="en",
        kanals="epasts",
        pakalpojums="Būvatļauju e-pakalpojums",
        temats="E-service payment page does not open",
        apraksts="The payment step of the e-service ends with error 502 since this morning.",
        kategorija="programmatura",
        konfiguracijas_vieniba="KV-EP-0007 Maksājumu modulis",
        ietekme="augsta",
        steidzamiba="videja",
    )
    assert library.variables(pid)["prioritate"] == 2
    # High priority (Camunda's 70), due at the restoration deadline this process set: one working day, Tuesday 17:00.
    diagnosis = assert_due_at_termins(library, pid, "Task_diagnosticet")
    assert diagnosis["priority"] == 70 and task_due(diagnosis) == at(24, 17)

    # Level 2 cannot resolve it: the payment module's supplier (level 3) does, level 2 restores the service.
    library.complete(
        pid,
        "Task_diagnosticet",
        "l2",
        diagnoze="Maksājumu moduļa starpniekserveris atbild ar 502; kļūda piegādātāja pusē.",
        celonis_zinams="ja",
        atkartojas="ne",
        risinajuma_limenis="l3",
        uzdevums_partnerim="Novērst 502 kļūdu maksājumu moduļa starpniekserverī.",
    )
    assert open_tasks(library, pid) == ["Task_partneris"]
    assert_due_at_termins(library, pid, "Task_partneris")
    library.complete(
        pid,
        "Task_partneris",
        "l3",
        partneris="SIA Maksājumu risinājumi",
        partnera_rezultats="Starpniekserverim palielināts savienojumu limits; kļūda novērsta 12:10.",
    )
    resolve(library, pid, rezultats="The payment page works again since 12:10. Please repeat the payment.")

    assert library.state(pid) == "COMPLETED"
    done = library.activities(pid)
    assert done.index("Task_partneris") < done.index("Task_noverst")
    assert done[-1] == "EndEvent_pieteikums_izpildits" and "Task_informet_atrisinats" not in done
    [sent] = events(library, pid, "message_sent")
    assert sent["activity_id"] == "EndEvent_pieteikums_izpildits" and sent["data"]["toInstanceId"] == intake
    [received] = events(library, intake, "message_received")
    assert received["data"]["fromInstanceId"] == pid
    intake_data = library.variables(intake)
    assert intake_data["rezultats"] == "The payment page works again since 12:10. Please repeat the payment."
    assert intake_data["izpildes_statuss"] == "atrisinats"
    assert library.task(intake, "Task_slegt")
    # The KAC is the single point of contact: the reporter hears the result from the intake, once.
    resolved = [m for m in library.mails(to="john.miller@example.com") if "resolved" in m["Subject"]]
    assert [m["Subject"] for m in resolved] == ["Request No. PIE-2026-0202 resolved"]
    assert "The payment page works again since 12:10." in body(resolved[0])


@needs_problem_management
def test_an_unknown_recurring_cause_starts_problem_management(library):
    pid = report(library, "PIE-2026-0203", "l2", **REPORT)
    library.complete(pid, "Task_pienemt", "l2", **ACCEPTED)
    diagnose(library, pid, cause_known="ne", recurs="ja")
    resolve(library, pid, rezultats="Pieslēgšanās atjaunota ar pagaidu risinājumu.")

    assert library.state(pid) == "COMPLETED"
    [sent] = events(library, pid, "message_sent")
    assert sent["activity_id"] == "Event_problema" and sent["data"]["messageName"] == "problema"
    [problem] = [i for i in library.instances("problemu_parvaldiba") if i["businessKey"] == "PIE-2026-0203"]
    assert sent["data"]["toInstanceId"] == problem["id"] and sent["data"]["started"] is True
    started = events(library, problem["id"], "instance_started")[0]
    assert started["data"]["fromInstanceId"] == pid and started["data"]["fromActivityId"] == "Event_problema"
    problem_data = library.variables(problem["id"])
    assert problem_data["avots"] == "incidents"
    assert problem_data["temats"] == REPORT["temats"]
    assert problem_data["konfiguracijas_vieniba"] == "KV-IS-0042 Dzimtsarakstu informācijas sistēma"
    assert problem_data["diagnoze"].startswith("Beidzies sistēmas servera TLS sertifikāta")
    # The reporter still gets the result of the incident.
    assert [m["Subject"] for m in library.mails(to="ilze.kalnina@example.lv")] == [
        "Pieteikums Nr. PIE-2026-0203 izpildīts"
    ]


def test_missed_deadlines_escalate_to_the_service_owner_who_decides_who_continues(library):
    reporter = {"pieteicejs": "Mark Evans, EU liaison office", "epasts": "mark.evans@example.eu", "valoda": "en"}
    pid = report(library, "PIE-2026-0204", "l2", **{**REPORT, **reporter})
    # High impact and urgency: priority 1, reaction 1 working hour (10:00), restoration 4 working hours (13:00).
    library.complete(
        pid, "Task_pienemt", "l2", **{**ACCEPTED, **reporter, "ietekme": "augsta", "steidzamiba": "augsta"}
    )
    assert datetime.fromisoformat(library.variables(pid)["termins"]) == at(23, 13)

    library.advance(to=at(23, 10, 1))
    assert open_tasks(library, pid) == ["Task_diagnosticet"]
    assert reminders(library, pid) == ["Timer_diagnosticet_atgadinajums"]
    assert "EndEvent_atgadinajums" in library.activities(pid)

    # 13:00 passes during diagnosis: the owner decides that the supplier (level 3) continues, with 3 more days.
    library.advance(to=at(23, 13, 1))
    assert open_tasks(library, pid) == ["Task_eskalet"]
    assert "Timer_diagnosticet_termins" in library.activities(pid)
    # The owner has the reaction time (1 working hour) from the escalation; still critical.
    escalation = library.task(pid, "Task_eskalet")
    assert task_due(escalation) == at(23, 14, 1) and escalation["priority"] == 90
    library.complete(
        pid,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Sertifikātu izsniedz ārējais piegādātājs; 2. līmenim nav piekļuves.",
        vadibas_lemums="Nodot piegādātājam ar augstāko prioritāti; informēt nodaļas vadītāju.",
        papildu_laiks="3 darba dienas",
        eskalacijas_virziens="l3",
        uzdevums_partnerim="Izsniegt un uzstādīt jaunu servera sertifikātu.",
    )
    data = library.variables(pid)
    assert data["eskalacijas"] == 1 and datetime.fromisoformat(data["termins"]) == at(26, 17)
    assert task_due(assert_due_at_termins(library, pid, "Task_partneris")) == at(26, 17)

    # The partner is reminded every day (three times), then misses Thursday's deadline too.
    for day, count in ((24, 1), (25, 2), (26, 3)):
        library.advance(to=at(day, 13, 2))
        assert reminders(library, pid).count("Timer_partneris_atgadinajums") == count
        assert open_tasks(library, pid) == ["Task_partneris"]
    assert "EndEvent_partneris_atgadinajums" in library.activities(pid)
    library.advance(to=at(26, 17, 1))
    assert open_tasks(library, pid) == ["Task_eskalet"]
    library.complete(
        pid,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Piegādātājs nav reaģējis.",
        vadibas_lemums="2. līmenis uzstāda pagaidu sertifikātu no iestādes sertifikātu centra.",
        papildu_laiks="1 darba diena",
        eskalacijas_virziens="l2",
    )
    assert open_tasks(library, pid) == ["Task_diagnosticet"]
    diagnose(library, pid)

    # Restoration by level 2 misses Friday's deadline as well: escalated a third time.
    library.advance(to=at(27, 17, 1))
    assert open_tasks(library, pid) == ["Task_eskalet"]
    library.complete(
        pid,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Pagaidu sertifikāta uzstādīšanai nepieciešams servera restarts ārpus darba laika.",
        vadibas_lemums="Restartu veikt pirmdien 8:00.",
        papildu_laiks="1 darba diena",
        eskalacijas_virziens="l2",
    )
    assert library.variables(pid)["eskalacijas"] == 3
    library.advance(to=at(30, 8, 30))
    diagnose(library, pid)
    resolve(library, pid)

    assert library.state(pid) == "COMPLETED"
    done = library.activities(pid)
    assert done.count("Task_eskalet") == 3
    assert {"Timer_diagnosticet_termins", "Timer_partneris_termins", "Timer_noverst_termins"} <= set(done)
    assert reminders(library, pid) == ["Timer_diagnosticet_atgadinajums"] + ["Timer_partneris_atgadinajums"] * 3
    [resolved] = library.mails(to="mark.evans@example.eu")
    assert resolved["Subject"] == "Request No. PIE-2026-0204 resolved"
    assert (
        "Your request No. PIE-2026-0204 (Nevar pieslēgties Dzimtsarakstu informācijas sistēmai) has been resolved"
        in (body(resolved))
    )
    assert "Pieslēgšanās atjaunota 11:20" in body(resolved)


def test_a_diagnosis_without_the_resolving_level_is_refused_with_the_gateway_named(library):
    pid = report(library, "PIE-2026-0205", "l2", **REPORT)
    library.complete(pid, "Task_pienemt", "l2", **ACCEPTED)
    task = library.task(pid, "Task_diagnosticet")
    l2 = library.api("l2")
    assert l2.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "ilze"}).status_code == 204
    response = l2.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"diagnoze": {"value": "Sertifikāts beidzies", "type": "String"}}},
    )
    assert response.status_code == 400
    error = response.get_json()
    assert "Gateway_limenis" in error["message"] and "risinajuma_limenis" in error["message"]
    assert open_tasks(library, pid) == ["Task_diagnosticet"]


def test_only_the_front_office_and_level_2_may_report_an_incident_directly(library):
    l3 = library.api("l3")
    by_message = l3.post(
        "/engine-rest/message",
        json={"messageName": "incidents", "businessKey": "PIE-2026-0206", "resultEnabled": True},
    )
    assert by_message.status_code == 403
    started = l3.post(f"/engine-rest/process-definition/key/{KEY}/start", json={"businessKey": "PIE-2026-0206"})
    assert started.status_code == 403
    assert library.instances(KEY) == []
    # Level 2 may start it from the task list too.
    pid = library.start(KEY, role="l2", business_key="PIE-2026-0207", **REPORT)["id"]
    assert open_tasks(library, pid) == ["Task_pienemt"]
