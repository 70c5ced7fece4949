"""Scenarios of request intake / the service desk (``processes/pieteikumu_parvaldiba.bpmn``).

The front office (KAC, level 1) is the single point of contact: it registers every request (the requester gets
the request number by e-mail), classifies it and sets its priority, solves consultations and simple requests
itself, and passes the rest to the process for their type (functional escalation, by a message that starts
that process). It then waits for the result (``pieteikums_izpildits``), with a reminder after the reaction time
and hierarchical escalation to the service owner when the resolution deadline passes, informs the requester of
the result and closes the request.

Where another helper's process is the receiver, its own tasks are not driven here: the executor's answer is
the message ``pieteikums_izpildits`` sent as the receiving process would send it. The complaint route is driven
end to end, through the complaints process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.variables import variables_to_typed
from tests.library.conftest import RIGA, USERS, assert_due_at_termins, task_due, timer_due

KEY = "pieteikumu_parvaldiba"


#: A resident asks at the front desk; KAC types it in.
REGISTRATION = {
    "pieteicejs": "Līga Ozola",
    "epasts": "liga.ozola@example.lv",
    "valoda": "lv",
    "kanals": "klatiene",
    "temats": "Dzīvesvietas deklarēšana",
    "apraksts": "Kādi dokumenti vajadzīgi, lai deklarētu dzīvesvietu nepilngadīgam bērnam?",
}


def register(library, **overrides) -> str:
    instance = library.start(KEY)["id"]
    library.complete(instance, "Task_registret", "kac", **{**REGISTRATION, **overrides})
    return instance


def classify(library, instance: str, **classification) -> None:
    library.complete(instance, "Task_klasificet", "kac", **classification)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def routed(library, instance: str, message: str, process: str) -> str:
    """The instance of ``process`` the intake started with ``message``; checks the link in both histories."""
    (sent,) = [e for e in library.history(instance) if e["event_type"] == "message_sent"]
    assert sent["data"]["messageName"] == message
    assert sent["data"]["toDefinitionKey"] == process and sent["data"]["started"] is True
    target = sent["data"]["toInstanceId"]
    (started,) = [e for e in library.history(target) if e["event_type"] == "instance_started"]
    assert started["data"]["fromInstanceId"] == instance
    assert started["data"]["messageName"] == message
    business_key = library.api().get(f"/engine-rest/process-instance/{instance}").get_json()["businessKey"]
    (row,) = [i for i in library.instances(process) if i["id"] == target]
    assert row["businessKey"] == business_key
    return target


def report_result(library, instance: str, rezultats: str, izpildes_statuss: str = "izpildits") -> None:
    """The executor's process reports its result, as its end event does."""
    business_key = library.api().get(f"/engine-rest/process-instance/{instance}").get_json()["businessKey"]
    (delivered,) = library.message(
        "pieteikums_izpildits", business_key=business_key, rezultats=rezultats, izpildes_statuss=izpildes_statuss
    )
    assert delivered["resultType"] == "Execution" and delivered["processInstance"]["id"] == instance


def test_a_consultation_is_answered_by_kac_the_requester_informed_and_the_request_closed(library):
    instance = register(library)

    # The number goes to the requester right after registration, before anything else is decided.
    (registered,) = library.mails(to="liga.ozola@example.lv")
    assert registered["Subject"] == "Pieteikums Nr. PIE-2026-0001 reģistrēts"
    assert "Temats: Dzīvesvietas deklarēšana" in body(registered)
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_klasificet"]
    # Before the priority decision there is no deadline and the priority is Camunda's default.
    classification = library.task(instance, "Task_klasificet")
    assert task_due(classification) is None and classification["priority"] == 50

    classify(
        library,
        instance,
        pieteikuma_veids="informacijas_pieprasijums",
        pakalpojums="Dzīvesvietas deklarēšana",
        ietekme="zema",
        steidzamiba="videja",
        risina_kac=True,
    )
    data = library.variables(instance)
    assert data["prioritate"] == 4 and data["prioritates_nosaukums"] == "zema"
    assert data["reakcijas_laiks"] == "2 darba dienas" and data["atrisinasanas_laiks"] == "5 darba dienas"
    assert data["termins"] == "2026-11-30T17:00:00+02:00"
    # First-line support is due when its reaction-time timer would pass it to level 2; priority 4 is Camunda's 30.
    support = library.task(instance, "Task_atbalsts")
    assert task_due(support) == timer_due(library, instance, "Event_reakcijas_laiks")
    assert task_due(support) == datetime(2026, 11, 25, 17, 0, tzinfo=RIGA)
    assert support["priority"] == 30

    library.complete(
        instance,
        "Task_atbalsts",
        "kac",
        atbalsta_iznakums="atrisinats",
        rezultats="Vajadzīga bērna dzimšanas apliecība un abu vecāku piekrišana; iesniegumu var iesniegt "
        "portālā latvija.gov.lv.",
    )
    (resolved,) = library.mails(to="liga.ozola@example.lv")[1:]
    assert resolved["Subject"] == "Pieteikums Nr. PIE-2026-0001 izpildīts"
    assert "Rezultāts:\nVajadzīga bērna dzimšanas apliecība" in body(resolved)

    # KAC answers for the request until it is closed: closing is due at the resolution deadline.
    assert_due_at_termins(library, instance, "Task_slegt")
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="5", atbilde="Paldies, ka vērsāties pie mums!")
    assert library.state(instance) == "COMPLETED"
    assert library.activities(instance) == [
        "StartEvent_sanemts",
        "Activity_sagatavot",
        "Task_registret",
        "Activity_pazinot_registraciju",
        "Task_klasificet",
        "Activity_prioritate",
        "Activity_termins",
        "Gateway_kac_risina",
        "Task_atbalsts",
        "Gateway_atrisinats",
        "Gateway_rezultats",
        "Activity_informet_rezultats",
        "Gateway_slegt",
        "Task_slegt",
        "Activity_pazinot_slegsanu",
        "EndEvent_slegts",
    ]
    assert library.variables(instance)["apmierinatiba"] == "5"
    closed = library.mails(to="liga.ozola@example.lv")[-1]
    assert closed["Subject"] == "Pieteikums Nr. PIE-2026-0001 slēgts"
    assert "Paldies, ka vērsāties pie mums!" in body(closed)
    # Solved at level 1: nothing was passed on.
    assert not [e for e in library.history(instance) if e["event_type"] == "message_sent"]


def test_a_simple_incident_solved_by_kac_is_reported_to_the_requester_in_english(library):
    instance = register(
        library,
        pieteicejs="Maria Schmidt",
        epasts="maria.schmidt@example.de",
        valoda="en",
        kanals="epasts",
        temats="Cannot sign in to the portal",
        apraksts="The portal says my password has expired and the reset link does not arrive.",
    )
    classify(
        library,
        instance,
        pieteikuma_veids="incidents",
        pakalpojums="Pašapkalpošanās portāls",
        ietekme="zema",
        steidzamiba="augsta",
        risina_kac=True,
    )
    assert library.variables(instance)["prioritate"] == 3
    library.complete(
        instance,
        "Task_atbalsts",
        "kac",
        atbalsta_iznakums="atrisinats",
        rezultats="Your e-mail address was misspelt in your profile. We corrected it and sent a new reset link.",
    )
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="4")

    assert library.state(instance) == "COMPLETED"
    registered, resolved, closed = library.mails(to="maria.schmidt@example.de")
    assert registered["Subject"] == "Request No. PIE-2026-0001 registered"
    assert resolved["Subject"] == "Request No. PIE-2026-0001 resolved"
    assert "Result:\nYour e-mail address was misspelt" in body(resolved)
    assert closed["Subject"] == "Request No. PIE-2026-0001 closed"
    assert all(m["Content-Language"] == "en" for m in (registered, resolved, closed))


def test_a_request_kac_cannot_solve_goes_to_service_request_fulfilment_and_the_result_is_reported(library):
    instance = register(
        library,
        temats="Izziņa par deklarēto dzīvesvietu",
        apraksts="Vajadzīga izziņa par deklarēto dzīvesvietu iesniegšanai bankā.",
    )
    classify(
        library,
        instance,
        pieteikuma_veids="pakalpojuma_pieprasijums",
        pakalpojums="Izziņu izsniegšana",
        ietekme="zema",
        steidzamiba="zema",
        risina_kac=True,
    )
    library.complete(
        instance,
        "Task_atbalsts",
        "kac",
        atbalsta_iznakums="nodot_izpildei",
        rezultats="Izziņu sagatavo Dzīvesvietas reģistra nodaļa; KAC tai nav piekļuves.",
    )

    fulfilment = routed(library, instance, "pakalpojuma_pieprasijums", "pakalpojumu_pieprasijumi")
    passed = library.variables(fulfilment)
    assert passed["avots"] == "pieteikums"
    assert passed["temats"] == "Izziņa par deklarēto dzīvesvietu"
    assert passed["epasts"] == "liga.ozola@example.lv" and passed["valoda"] == "lv"
    assert passed["prioritate"] == 4 and passed["termins"] == library.variables(instance)["termins"]
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == []

    report_result(library, instance, "Izziņa Nr. 12/345 nosūtīta uz e-pastu ar drošu elektronisko parakstu.")
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_slegt"]
    resolved = library.mails(to="liga.ozola@example.lv")[-1]
    assert resolved["Subject"] == "Pieteikums Nr. PIE-2026-0001 izpildīts"
    assert "Izziņa Nr. 12/345" in body(resolved)

    library.complete(instance, "Task_slegt", "kac", apmierinatiba="5")
    assert library.state(instance) == "COMPLETED"
    data = library.variables(instance)
    assert data["izpildes_statuss"] == "izpildits"
    assert data["rezultats"].startswith("Izziņa Nr. 12/345")
    assert [m["Subject"] for m in library.mails(to="liga.ozola@example.lv")] == [
        "Pieteikums Nr. PIE-2026-0001 reģistrēts",
        "Pieteikums Nr. PIE-2026-0001 izpildīts",
        "Pieteikums Nr. PIE-2026-0001 slēgts",
    ]


def test_an_incident_goes_to_incident_management(library):
    instance = register(
        library,
        pieteicejs="SIA Būvnieks",
        epasts="birojs@buvnieks.example.lv",
        kanals="talrunis",
        temats="Būvatļauju e-pakalpojums nedarbojas",
        apraksts="Kopš rīta e-pakalpojums atbild ar kļūdu 500; nevaram iesniegt dokumentus.",
    )
    classify(
        library,
        instance,
        pieteikuma_veids="incidents",
        pakalpojums="Būvatļauju e-pakalpojums",
        ietekme="augsta",
        steidzamiba="augsta",
        risina_kac=False,
    )
    assert "Task_atbalsts" not in library.activities(instance)
    incident = routed(library, instance, "incidents", "incidentu_parvaldiba")
    passed = library.variables(incident)
    assert passed["avots"] == "pieteikums" and passed["prioritate"] == 1
    assert passed["atrisinasanas_laiks"] == "4 darba stundas"
    # Level 2 sees the incident as critical and due at the intake's deadline before it sets its own.
    accept = library.task(incident, "Task_pienemt")
    assert task_due(accept) == datetime.fromisoformat(library.variables(instance)["termins"])
    assert task_due(accept) == datetime(2026, 11, 23, 13, 0, tzinfo=RIGA)
    assert accept["priority"] == 90 and passed["uzdevuma_prioritate"] == 90

    report_result(library, instance, "Atjaunots datubāzes savienojums; pakalpojums darbojas kopš 11:40.")
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="4")
    assert library.state(instance) == "COMPLETED"
    assert library.mails(to="birojs@buvnieks.example.lv")[1]["Subject"] == "Pieteikums Nr. PIE-2026-0001 izpildīts"


def test_a_change_request_goes_to_change_management(library):
    instance = register(
        library,
        pieteicejs="Pilsētas bibliotēka",
        epasts="biblioteka@example.lv",
        kanals="vestule",
        temats="Jauns lietotāju lomas veids",
        apraksts="Lūdzam sistēmā izveidot lomu 'lasītavas administrators' ar tiesībām rezervēt telpas.",
    )
    classify(
        library,
        instance,
        pieteikuma_veids="izmainu_pieprasijums",
        pakalpojums="Bibliotēku informācijas sistēma",
        ietekme="videja",
        steidzamiba="zema",
        risina_kac=False,
    )
    change = routed(library, instance, "izmainu_pieprasijums", "izmainu_parvaldiba")
    assert library.variables(change)["avots"] == "pieteikums"

    report_result(library, instance, "Izmaiņas ieviestas 2026. gada 14. decembrī.")
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="nav")
    assert library.state(instance) == "COMPLETED"


def test_a_complaint_goes_to_complaints_which_answers_the_requester_before_kac_closes(library):
    instance = register(
        library,
        pieteicejs="Pēteris Liepa",
        epasts="peteris.liepa@example.lv",
        kanals="portals",
        temats="Atbilde netika sniegta",
        apraksts="Iesniegumu iesniedzu pirms mēneša un atbildi joprojām neesmu saņēmis.",
    )
    classify(
        library,
        instance,
        pieteikuma_veids="sudziba_vai_ierosinajums",
        pakalpojums="Iesniegumu izskatīšana",
        ietekme="zema",
        steidzamiba="videja",
        risina_kac=True,  # KAC may not solve complaints itself: they always go to the register.
    )
    assert "Task_atbalsts" not in library.activities(instance)
    complaint = routed(library, instance, "sudziba_vai_ierosinajums", "sudzibas_un_ierosinajumi")

    library.complete(complaint, "Task_registret", "kac", veids="sudziba", attiecas_uz="pakalpojums")
    library.complete(
        complaint,
        "Task_izvertet",
        "pakalpojuma-turetajs",
        izvertejums="Iesniegums reģistrēts, bet nav nodots izpildītājam.",
        lemums="pienemt",
        pamatojums="Pamatota.",
    )
    library.complete(
        complaint,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="Iesniegums izskatīts; atbilde nosūtīta.",
        nepieciesamas_izmainas=False,
    )
    library.complete(
        complaint,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="termini",
        rezultats="Pamatota.",
        atbilde="Atvainojamies: Jūsu iesniegums ir izskatīts, atbilde nosūtīta šodien.",
    )

    (received,) = [e for e in library.history(instance) if e["event_type"] == "message_received"]
    assert received["data"]["fromInstanceId"] == complaint
    assert received["data"]["messageName"] == "pieteikums_izpildits"
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_slegt"]
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="3")

    assert library.state(instance) == "COMPLETED"
    assert "Activity_informet_rezultats" not in library.activities(instance)
    data = library.variables(instance)
    assert data["rezultats"].startswith("Atvainojamies") and data["izpildes_statuss"] == "izpildits"
    # The complaints process answered; intake does not repeat the answer, it only closes.
    assert [m["Subject"] for m in library.mails(to="peteris.liepa@example.lv")] == [
        "Pieteikums Nr. PIE-2026-0001 reģistrēts",
        "Sūdzība Nr. PIE-2026-0001 saņemta",
        "Atbilde uz Jūsu sūdzību Nr. PIE-2026-0001",
        "Pieteikums Nr. PIE-2026-0001 slēgts",
    ]


def test_first_line_support_not_given_within_the_reaction_time_is_escalated_to_level_2(library):
    instance = register(library, temats="Steidzama konsultācija", apraksts="Rīt beidzas termiņš; kas jāiesniedz?")
    classify(
        library,
        instance,
        pieteikuma_veids="informacijas_pieprasijums",
        ietekme="augsta",
        steidzamiba="augsta",
        risina_kac=True,
    )
    assert library.variables(instance)["reakcijas_laiks"] == "1 darba stunda"
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_atbalsts"]

    library.advance(to=datetime(2026, 11, 23, 9, 59, tzinfo=RIGA))
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_atbalsts"]
    library.advance(to=datetime(2026, 11, 23, 10, 1, tzinfo=RIGA))
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == []
    assert library.activities(instance)[-5:] == [
        "Event_reakcijas_laiks",
        "Gateway_eskalet",
        "Gateway_veids",
        "Event_pakalpojuma_pieprasijums",
        "Gateway_nodots",
    ]
    routed(library, instance, "pakalpojuma_pieprasijums", "pakalpojumu_pieprasijumi")


def test_a_reminder_and_hierarchical_escalation_while_waiting_and_the_result_still_arrives(library):
    instance = register(library, temats="Piekļuve arhīvam", apraksts="Vajadzīga piekļuve 1990. gadu būvlietām.")
    classify(
        library,
        instance,
        pieteikuma_veids="pakalpojuma_pieprasijums",
        ietekme="zema",
        steidzamiba="zema",
        risina_kac=False,
    )
    routed(library, instance, "pakalpojuma_pieprasijums", "pakalpojumu_pieprasijumi")
    termins = datetime.fromisoformat(library.variables(instance)["termins"])
    assert termins == datetime(2026, 11, 30, 17, 0, tzinfo=RIGA)

    # Reaction time (2 working days) passes: a reminder is recorded; the wait goes on.
    library.advance(to=datetime(2026, 11, 25, 17, 1, tzinfo=RIGA))
    assert library.activities(instance)[-3:] == ["Event_atgadinajums", "Activity_atgadinajums", "EndEvent_atgadinats"]
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == []

    # The resolution deadline passes: the service owner gets the escalation; the wait still goes on.
    library.advance(to=termins - timedelta(minutes=1))
    assert "Event_termins" not in library.activities(instance)
    library.advance(to=termins + timedelta(minutes=1))
    assert "Event_termins" in library.activities(instance)
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_eskalacija"]
    escalation = library.task(instance, "Task_eskalacija")
    # The deadline has passed; the service owner has the reaction time (2 working days) from the escalation.
    assert task_due(escalation) == datetime(2026, 12, 2, 17, 0, tzinfo=RIGA)
    assert escalation["priority"] == 30
    kac_sees = library.api("kac").get("/engine-rest/task", query_string={"processInstanceId": instance}).get_json()
    assert escalation["id"] not in [t["id"] for t in kac_sees]
    library.complete(
        instance,
        "Task_eskalacija",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Arhīva darbinieks slimo; pieprasījums nebija pārdalīts.",
        eskalacijas_darbibas="Pieprasījums nodots arhīva vadītājai; jauns termiņš 2. decembris.",
    )
    assert "EndEvent_eskalacija" in library.activities(instance)

    report_result(library, instance, "Piekļuve piešķirta līdz 2027. gada 31. janvārim.")
    library.complete(instance, "Task_slegt", "kac", apmierinatiba="2")
    assert library.state(instance) == "COMPLETED"
    assert library.mails(to="liga.ozola@example.lv")[-1]["Subject"] == "Pieteikums Nr. PIE-2026-0001 slēgts"


def test_a_request_without_a_type_cannot_be_passed_on_and_the_classification_stays_open(library):
    instance = register(library)
    task = library.task(instance, "Task_klasificet")
    api = library.api("kac")
    assert api.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": USERS["kac"]}).status_code == 204
    refused = api.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": variables_to_typed({"ietekme": "zema", "steidzamiba": "zema", "risina_kac": False})},
    )
    assert refused.status_code == 400
    assert refused.get_json()["elementId"] == "Gateway_veids"
    assert "pieteikuma_veids" in refused.get_json()["message"]
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_klasificet"]
    assert not [e for e in library.history(instance) if e["event_type"] == "message_sent"]


def test_only_the_front_office_registers_requests(library):
    refused = library.api("l2").post(
        f"/engine-rest/process-definition/key/{KEY}/start", json={"businessKey": "PIE-2026-0999"}
    )
    assert refused.status_code == 403
    assert library.instances(KEY) == []
