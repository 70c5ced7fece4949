"""Scenarios of service request fulfilment (``processes/pakalpojumu_pieprasijumi.bpmn``, PU2-15).

Processing (register, classify, priority, eligibility and decision, possibly a clarification round while the
deadline stops), delivery (level 2, functional escalation to a level-3 partner, SLA deadline with hierarchical
escalation to the service owner and a reminder) and evaluation (the requester's rating or its timeout, the owner's
review and improvements). The result (or the refusal) goes back to the request intake when the intake started the
request; otherwise this process tells the requester the result and closes the request.

Requests handed on by the request intake (``pieteikumu_parvaldiba``) are driven through it: the KAC registers and
classifies the request there, the intake's message starts this process, and this process hands the result back
(``pieteikums_izpildits``) as soon as it is known, so the intake informs the requester and closes the request while
the evaluation goes on here. Requests the KAC registers here directly are informed and closed by this process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.library.conftest import PROCESSES, RIGA, assert_due_at_termins, body, events, task_due

KEY = "pakalpojumu_pieprasijumi"

REQUESTER = {
    "pieteicejs": "Jānis Bērziņš",
    "epasts": "janis.berzins@example.lv",
    "kanals": "portals",
    "temats": "Izziņa par deklarēto dzīvesvietu",
    "apraksts": "Lūdzu izsniegt izziņu par deklarēto dzīvesvietu iesniegšanai bankā.",
    "pakalpojums": "Izziņu izsniegšana",
}

REGISTRATION = {
    "pieteicejs": "Jānis Bērziņš",
    "epasts": "janis.berzins@example.lv",
    "valoda": "lv",
    "kanals": "portals",
    "pakalpojums": "Izziņu izsniegšana",
    "temats": "Izziņa par deklarēto dzīvesvietu",
    "apraksts": "Lūdzu izsniegt izziņu par deklarēto dzīvesvietu iesniegšanai bankā.",
    "pieprasijuma_veids": "standarta",
    "ietekme": "zema",
    "steidzamiba": "videja",
}

INTAKE = "pieteikumu_parvaldiba"

needs_intake = pytest.mark.skipif(
    not (PROCESSES / f"{INTAKE}.bpmn").exists(),
    reason="the request intake process (which hands requests on and waits for the result) is not in processes/ yet",
)


# --- helpers ---------------------------------------------------------------------------------------------


def submit(library, business_key: str, role: str = "kac", **variables) -> str:
    """A service request submitted directly with the start message (``POST /message``, as a portal would, here as
    the KAC): its instance."""
    result = library.message("pakalpojuma_pieprasijums", business_key=business_key, role=role, **variables)
    assert result[0]["resultType"] == "ProcessDefinition"
    assert result[0]["processInstance"]["definitionKey"] == KEY
    return result[0]["processInstance"]["id"]


def through_intake(library, business_key: str, registration: dict, classification: dict) -> tuple[str, str]:
    """The KAC registers and classifies a service request in the request intake, which hands it on:
    (intake instance, service request instance)."""
    intake = library.start(INTAKE, business_key=business_key)["id"]
    library.complete(intake, "Task_registret", "kac", **registration)
    library.complete(
        intake,
        "Task_klasificet",
        "kac",
        pieteikuma_veids="pakalpojuma_pieprasijums",
        risina_kac=False,
        **classification,
    )
    [sent] = events(library, intake, "message_sent")
    assert sent["data"]["messageName"] == "pakalpojuma_pieprasijums" and sent["data"]["toDefinitionKey"] == KEY
    return intake, sent["data"]["toInstanceId"]


def subjects(library, to: str) -> list[str]:
    return [m["Subject"] for m in library.mails(to=to)]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=RIGA)


def register_and_grant(library, pid: str, **registration) -> None:
    library.complete(pid, "Task_registret", "kac", **{**REGISTRATION, **registration})
    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="pieskirt",
        pamatojums="Pieprasītājs ir deklarējis dzīvesvietu novadā; izziņa pienākas bez maksas.",
        sniegsanas_veids="elektroniski",
        atbilde="Izziņu nosūtīsim uz Jūsu e-pastu ar drošu elektronisko parakstu.",
    )


def deliver(library, pid: str, rezultats: str = "Izziņa Nr. 12-7/1543 sagatavota un nosūtīta e-pastā.") -> None:
    library.complete(
        pid,
        "Task_sniegt",
        "l2",
        iesaistit_partneri="ne",
        veiktas_darbibas="Pārbaudīti Iedzīvotāju reģistra dati, sagatavota izziņa, parakstīta ar e-parakstu.",
        rezultats=rezultats,
        izpildes_statuss="izpildits",
        pateretais_laiks=0.5,
    )


# --- scenarios -------------------------------------------------------------------------------------------


def test_kac_registers_a_request_it_is_granted_delivered_rated_and_closed(library):
    # The KAC starts the process itself (its plain start event), as from Camunda's task list.
    pid = library.start(KEY, role="kac", business_key="PIE-2026-0101", **REQUESTER)["id"]
    assert library.activities(pid)[0] == "StartEvent_kac"
    registration = library.task(pid, "Task_registret")
    assert registration["camundaFormRef"]["key"] == "pieprasijums-registresana"
    # Started here, the request has no deadline until it is classified, and Camunda's default priority.
    assert task_due(registration) is None and registration["priority"] == 50

    library.complete(pid, "Task_registret", "kac", **REGISTRATION)
    data = library.variables(pid)
    # Low impact, medium urgency: priority 4, five working days from Monday: the end of next Monday.
    assert (data["prioritate"], data["prioritates_nosaukums"], data["atrisinasanas_laiks"]) == (
        4,
        "zema",
        "5 darba dienas",
    )
    assert datetime.fromisoformat(data["termins"]) == at(30, 17)
    assert data["avots"] is None and data["valoda"] == "lv"
    assert assert_due_at_termins(library, pid, "Task_izvertet")["priority"] == 30

    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="pieskirt",
        pamatojums="Pieprasītājs ir deklarējis dzīvesvietu novadā; izziņa pienākas bez maksas.",
        sniegsanas_veids="elektroniski",
        atbilde="Izziņu nosūtīsim uz Jūsu e-pastu ar drošu elektronisko parakstu.",
    )
    [granted] = library.mails(to="janis.berzins@example.lv")
    assert granted["Subject"] == "Pieteikums Nr. PIE-2026-0101: pakalpojums tiks sniegts"
    assert "Izziņu nosūtīsim uz Jūsu e-pastu" in body(granted)
    assert "Izziņa par deklarēto dzīvesvietu" in body(granted)

    library.advance(timedelta(hours=3))
    assert_due_at_termins(library, pid, "Task_sniegt")
    deliver(library, pid)
    resolved = library.mails(to="janis.berzins@example.lv")[-1]
    assert resolved["Subject"] == "Pieteikums Nr. PIE-2026-0101 izpildīts"
    assert "Izziņa Nr. 12-7/1543 sagatavota un nosūtīta e-pastā." in body(resolved)

    # The requester rates the service from the portal.
    library.advance(timedelta(days=1))
    answer = library.message(
        "pieprasitaja_atbilde", business_key="PIE-2026-0101", apmierinatiba=5, atsauksme="Ātri un ērti, paldies!"
    )
    assert answer[0]["resultType"] == "Execution"
    # The evaluation comes after the result: no deadline of the request's, the request's priority.
    evaluation = library.task(pid, "Task_novertet")
    assert task_due(evaluation) is None and evaluation["priority"] == 30
    library.complete(
        pid,
        "Task_novertet",
        "pakalpojuma-turetajs",
        apmierinatiba=5,
        termins_ieverots="ja",
        procesa_novertejums="Izpildīts vienas darba dienas laikā, pieprasītājs apmierināts.",
        uzlabojumi="nav",
    )

    assert library.state(pid) == "COMPLETED"
    assert subjects(library, "janis.berzins@example.lv") == [
        "Pieteikums Nr. PIE-2026-0101: pakalpojums tiks sniegts",
        "Pieteikums Nr. PIE-2026-0101 izpildīts",
        "Pieteikums Nr. PIE-2026-0101 slēgts",
    ]
    data = library.variables(pid)
    assert data["apmierinatiba"] == 5 and data["atsauksme"] == "Ātri un ērti, paldies!"
    assert data["izpildes_statuss"] == "izpildits" and data["uzlabojumi"] == "nav"
    done = library.activities(pid)
    assert done.index("Task_informet_pieskirts") < done.index("Task_sniegt") < done.index("Task_informet_rezultats")
    assert done.index("Task_gaidit_vertejumu") < done.index("Task_novertet") < done.index("Task_informet_slegts")
    assert done[-1] == "EndEvent_slegts"
    assert "Task_partneris" not in done and "Task_eskalet" not in done and "Task_uzlabojumi" not in done
    assert not events(library, pid, "message_sent")
    assert [e["data"]["connectorId"] for e in events(library, pid, "connector_completed")] == ["mail-send"] * 3


@needs_intake
def test_request_from_intake_in_english_clarified_partner_involved_result_handed_back_rating_times_out(library):
    intake, pid = through_intake(
        library,
        "PIE-2026-0102",
        registration={
            "pieteicejs": "Anna Smith",
            "epasts": "anna.smith@example.com",
            "valoda": "en",
            "kanals": "epasts",
            "temats": "Access to the archive reading room",
            "apraksts": "I would like to consult the 1935 building permits of Cēsis.",
        },
        classification={"pakalpojums": "Arhīva lasītavas pakalpojumi", "ietekme": "videja", "steidzamiba": "videja"},
    )
    started = events(library, pid, "instance_started")[0]
    assert started["activity_id"] == "StartEvent_pieprasijums"
    assert started["data"]["fromInstanceId"] == intake
    assert started["data"]["messageName"] == "pakalpojuma_pieprasijums"
    passed = library.variables(pid)
    assert passed["avots"] == "pieteikums" and passed["valoda"] == "en" and passed["epasts"] == "anna.smith@example.com"
    # The registration here is due at the intake's deadline, with the intake's priority (3: Camunda's 50).
    registration = library.task(pid, "Task_registret")
    assert task_due(registration) == datetime.fromisoformat(library.variables(intake)["termins"]) == at(26, 17)
    assert registration["priority"] == passed["uzdevuma_prioritate"] == 50

    library.complete(
        pid,
        "Task_registret",
        "kac",
        **{
            **REGISTRATION,
            "pieteicejs": "Anna Smith",
            "epasts": "anna.smith@example.com",
            "valoda": "en",
            "kanals": "epasts",
            "temats": "Access to the archive reading room",
            "apraksts": "I would like to consult the 1935 building permits of Cēsis.",
            "pakalpojums": "Arhīva lasītavas pakalpojumi",
            "pieprasijuma_veids": "nestandarta",
            "ietekme": "videja",
            "steidzamiba": "videja",
        },
    )
    termins = datetime.fromisoformat(library.variables(pid)["termins"])
    assert termins == at(26, 17)  # three working days from Monday: the end of Thursday

    # Not enough information: the requester is asked, and the deadline stops while we wait.
    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="precizet",
        pamatojums="Nav norādīts lasītavas apmeklējuma laiks un lietu numuri.",
        precizejamais="Please tell us the file numbers you need and when you would like to visit the reading room.",
    )
    question = library.mails(to="anna.smith@example.com")[-1]
    assert question["Subject"] == "Request No. PIE-2026-0102: more information needed"
    assert 'To process your request "Access to the archive reading room" we need more information:' in body(question)
    assert "Please tell us the file numbers" in body(question)
    assert "Please reply within 10 working days, quoting the request number." in body(question)
    assert library.tasks(pid) == []  # nothing for anybody while the requester is asked
    assert "atlikums" in library.variables(pid)

    library.advance(to=at(25, 11))  # two working days later the requester answers
    library.message(
        "pieprasitaja_atbilde",
        business_key="PIE-2026-0102",
        precizejums="Files 1935/17 and 1935/18; any morning next week.",
    )
    # 33.5 working hours were left on Monday 09:00; counted again from Wednesday 11:00 they end on Tuesday 10:30.
    assert datetime.fromisoformat(library.variables(pid)["termins"]) == datetime(2026, 12, 1, 10, 30, tzinfo=RIGA)
    assert library.variables(pid)["precizejumi"] == 1
    # The decision task is due at the moved deadline.
    assert task_due(assert_due_at_termins(library, pid, "Task_izvertet")) == datetime(2026, 12, 1, 10, 30, tzinfo=RIGA)

    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="pieskirt",
        pamatojums="Lietas ir publiski pieejamas.",
        sniegsanas_veids="klatiene",
        atbilde="The files will be ready in the reading room on Monday at 10:00.",
    )
    granted = library.mails(to="anna.smith@example.com")[-1]
    assert granted["Subject"] == "Request No. PIE-2026-0102: the service will be provided"
    assert "The files will be ready in the reading room" in body(granted)
    assert "Hello," in body(granted)

    # Part of the work goes to a partner institution (level 3), then back to level 2.
    library.complete(
        pid,
        "Task_sniegt",
        "l2",
        iesaistit_partneri="ja",
        uzdevums_partnerim="Piegādāt lietas 1935/17 un 1935/18 no Cēsu zonālā arhīva uz centrālo lasītavu.",
    )
    assert [t["taskDefinitionKey"] for t in library.tasks(pid)] == ["Task_partneris"]
    assert_due_at_termins(library, pid, "Task_partneris")
    library.complete(
        pid,
        "Task_partneris",
        "l3",
        partneris="Latvijas Nacionālā arhīva Cēsu zonālais valsts arhīvs",
        partnera_rezultats="Lietas nogādātas centrālajā lasītavā 26.11.",
    )
    deliver(library, pid, rezultats="The files 1935/17 and 1935/18 are waiting for you in the reading room.")

    # The result goes back to the intake at once: it informs the requester and waits to close the request.
    [sent] = events(library, pid, "message_sent")
    assert sent["activity_id"] == "Event_rezultats_kac"
    assert sent["data"]["messageName"] == "pieteikums_izpildits" and sent["data"]["toInstanceId"] == intake
    [received] = events(library, intake, "message_received")
    assert received["data"]["fromInstanceId"] == pid and received["data"]["fromActivityId"] == "Event_rezultats_kac"
    intake_data = library.variables(intake)
    assert intake_data["rezultats"] == "The files 1935/17 and 1935/18 are waiting for you in the reading room."
    assert intake_data["izpildes_statuss"] == "izpildits"
    assert "Task_informet_rezultats" not in library.activities(pid)  # no second result mail from here
    assert [t["taskDefinitionKey"] for t in library.tasks(pid)] == []  # waiting for the requester's rating

    # No rating within five working days: the owner reviews without it and plans an improvement.
    library.advance(timedelta(days=8))
    library.complete(
        pid,
        "Task_novertet",
        "pakalpojuma-turetajs",
        termins_ieverots="ja",
        procesa_novertejums="Lietu piegāde no zonālā arhīva aizņēma lielāko daļu laika.",
        uzlabojumi="nepieciesami",
    )
    library.complete(
        pid,
        "Task_uzlabojumi",
        "pakalpojuma-turetajs",
        uzlabojumu_joma="sniegsana",
        uzlabojumu_lemums="Vienoties ar zonālajiem arhīviem par lietu piegādi divreiz nedēļā.",
        uzlabojumu_atbildigais="Arhīva lasītavas vadītāja",
        uzlabojumu_termins="2027-01-31",
    )

    assert library.state(pid) == "COMPLETED"
    done = library.activities(pid)
    assert "Timer_vertejums" in done and "Task_uzlabojumi" in done
    assert done[-1] == "EndEvent_novertets" and "Task_informet_slegts" not in done
    assert "apmierinatiba" not in library.variables(pid)
    # This process wrote the clarification question and the decision; the intake the registration and the result.
    assert [m["Subject"] for m in library.mails(to="anna.smith@example.com")] == [
        "Request No. PIE-2026-0102 registered",
        "Request No. PIE-2026-0102: more information needed",
        "Request No. PIE-2026-0102: the service will be provided",
        "Request No. PIE-2026-0102 resolved",
    ]
    assert library.task(intake, "Task_slegt")


def test_unanswered_clarification_then_refusal_with_reason(library):
    pid = submit(library, "PIE-2026-0103", **REQUESTER)
    library.complete(pid, "Task_registret", "kac", **REGISTRATION)
    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="precizet",
        pamatojums="Nav skaidrs, kurai iestādei izziņa paredzēta.",
        precizejamais="Lūdzu norādiet, kurai iestādei izziņa jāiesniedz.",
    )
    [question] = library.mails(to="janis.berzins@example.lv")
    assert question["Subject"] == "Pieteikums Nr. PIE-2026-0103: nepieciešama papildu informācija"
    assert 'Lai izskatītu Jūsu pieprasījumu "Izziņa par deklarēto dzīvesvietu"' in body(question)
    assert "Lūdzu norādiet, kurai iestādei izziņa jāiesniedz." in body(question)

    # Ten working days pass without an answer: the executor decides again.
    library.advance(to=at(23, 9) + timedelta(days=15))
    assert "Timer_precizejums" in library.activities(pid)
    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="atteikt",
        pamatojums="Pieprasītājs 10 darba dienās nesniedza izziņas izsniegšanai nepieciešamo informāciju.",
    )
    refused = library.mails(to="janis.berzins@example.lv")[1]
    assert refused["Subject"] == "Pieteikums Nr. PIE-2026-0103: pakalpojuma sniegšana atteikta"
    assert "Pieprasītājs 10 darba dienās nesniedza" in body(refused)

    assert library.state(pid) == "COMPLETED"
    assert subjects(library, "janis.berzins@example.lv")[-1] == "Pieteikums Nr. PIE-2026-0103 slēgts"
    data = library.variables(pid)
    assert data["izpildes_statuss"] == "atteikts"
    assert data["rezultats"].startswith("Pakalpojuma sniegšana atteikta. Pamatojums: Pieprasītājs 10 darba dienās")
    done = library.activities(pid)
    assert "Task_sniegt" not in done and "Task_novertet" not in done
    assert done[-2:] == ["Task_informet_slegts", "EndEvent_slegts"]


@needs_intake
def test_a_refusal_is_handed_back_to_the_intake(library):
    intake, pid = through_intake(
        library,
        "PIE-2026-0104",
        registration={
            "pieteicejs": "Līga Ozola",
            "epasts": "liga.ozola@example.lv",
            "valoda": "lv",
            "kanals": "klatiene",
            "temats": "Izziņa par kaimiņa deklarēto dzīvesvietu",
            "apraksts": "Vajadzīga izziņa par kaimiņa deklarēto dzīvesvietu tiesvedībai.",
        },
        classification={"pakalpojums": "Izziņu izsniegšana", "ietekme": "zema", "steidzamiba": "zema"},
    )
    library.complete(pid, "Task_registret", "kac", **{**REGISTRATION, "epasts": "liga.ozola@example.lv"})
    library.complete(
        pid,
        "Task_izvertet",
        "l2",
        lemums="atteikt",
        pamatojums="Izziņas par citas personas dzīvesvietu izsniedz tikai ar tās piekrišanu vai tiesas pieprasījumu.",
    )
    assert library.state(pid) == "COMPLETED"
    assert library.activities(pid)[-1] == "EndEvent_atteikums_kac"
    [sent] = events(library, pid, "message_sent")
    assert sent["activity_id"] == "EndEvent_atteikums_kac" and sent["data"]["toInstanceId"] == intake
    intake_data = library.variables(intake)
    assert intake_data["izpildes_statuss"] == "atteikts"
    assert intake_data["rezultats"].startswith("Pakalpojuma sniegšana atteikta. Pamatojums: Izziņas par citas personas")
    assert library.task(intake, "Task_slegt")
    refused = library.mails(to="liga.ozola@example.lv")[1]
    assert refused["Subject"] == "Pieteikums Nr. PIE-2026-0104: pakalpojuma sniegšana atteikta"
    assert "tikai ar tās piekrišanu vai tiesas pieprasījumu" in body(refused)
    assert "Task_informet_slegts" not in library.activities(pid)


def test_overdue_delivery_escalates_to_the_service_owner_and_reminds_the_executor(library):
    pid = submit(library, "PIE-2026-0105", **REQUESTER)
    # High impact and urgency: priority 1, reaction 1 working hour, resolution 4 working hours (13:00).
    register_and_grant(library, pid, ietekme="augsta", steidzamiba="augsta")
    data = library.variables(pid)
    assert (data["prioritate"], data["reakcijas_laiks"]) == (1, "1 darba stunda")
    assert datetime.fromisoformat(data["termins"]) == at(23, 13)
    jobs = library.api().get("/engine-rest/job", query_string={"processInstanceId": pid}).get_json()
    assert sorted(j["jobDefinitionId"].rsplit("#", 1)[1] for j in jobs) == [
        "Timer_sniegt_atgadinajums",
        "Timer_sniegt_termins",
    ]
    # The inbox shows the delivery as critical (Camunda's 90), due when its escalation timer fires.
    delivery = assert_due_at_termins(library, pid, "Task_sniegt")
    assert delivery["priority"] == 90 and task_due(delivery) == at(23, 13)

    # Reaction time passes: a reminder is recorded, the work stays with level 2.
    library.advance(to=at(23, 10, 1))
    assert [e["activity_id"] for e in events(library, pid, "timer_fired")] == ["Timer_sniegt_atgadinajums"]
    assert "EndEvent_atgadinajums" in library.activities(pid)
    assert library.task(pid, "Task_sniegt")

    # The deadline passes: the task is taken away and the service owner gets the escalation.
    library.advance(to=at(23, 13, 1))
    assert [t["taskDefinitionKey"] for t in library.tasks(pid)] == ["Task_eskalet"]
    owner_tasks = library.api("pakalpojuma-turetajs").get(
        "/engine-rest/task", query_string={"candidateGroup": "pakalpojuma-turetajs"}
    )
    assert [t["taskDefinitionKey"] for t in owner_tasks.get_json()] == ["Task_eskalet"]
    # The request is overdue; the owner has the reaction time (1 working hour) from the escalation (13:01) to decide.
    escalation = library.task(pid, "Task_eskalet")
    assert task_due(escalation) == at(23, 14, 1) and escalation["priority"] == 90
    library.complete(
        pid,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Izpildītājs slimības lapā, aizvietotājs nebija norīkots.",
        vadibas_lemums="Pieprasījumu izpilda I. Ozola; aizvietošanas kārtību pārskatīt.",
        papildu_laiks="1 darba diena",
    )
    data = library.variables(pid)
    assert datetime.fromisoformat(data["termins"]) == at(24, 17)  # one working day: the end of Tuesday
    assert data["eskalacijas"] == 1
    assert task_due(assert_due_at_termins(library, pid, "Task_sniegt")) == at(24, 17)

    # Level 2 hands part of the work to a partner, who misses the new deadline too.
    library.complete(
        pid, "Task_sniegt", "l2", iesaistit_partneri="ja", uzdevums_partnerim="Apstiprināt ziņas no VZD kadastra."
    )
    assert task_due(assert_due_at_termins(library, pid, "Task_partneris")) == at(24, 17)
    library.advance(to=at(24, 17, 1))
    assert [t["taskDefinitionKey"] for t in library.tasks(pid)] == ["Task_eskalet"]
    library.complete(
        pid,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        kavejuma_iemesls="Partneris neatbildēja.",
        vadibas_lemums="Izpildīt bez partnera, izmantojot Valsts adrešu reģistra datus.",
        papildu_laiks="3 darba dienas",
    )
    assert library.variables(pid)["eskalacijas"] == 2
    deliver(library, pid)
    library.message("pieprasitaja_atbilde", business_key="PIE-2026-0105", apmierinatiba=3, atsauksme="Ilgi.")
    library.complete(
        pid,
        "Task_novertet",
        "pakalpojuma-turetajs",
        apmierinatiba=3,
        termins_ieverots="ne",
        procesa_novertejums="Termiņš kavēts divreiz: aizvietošana un partnera reakcija.",
        uzlabojumi="nav",
    )
    assert library.state(pid) == "COMPLETED"
    done = library.activities(pid)
    assert done.count("Task_eskalet") == 2
    assert {"Timer_sniegt_termins", "Timer_partneris_termins", "Timer_sniegt_atgadinajums"} <= set(done)
    assert "EndEvent_atgadinajums" in done


def test_a_decision_without_its_value_is_refused_with_the_gateway_named(library):
    pid = submit(library, "PIE-2026-0106", **REQUESTER)
    library.complete(pid, "Task_registret", "kac", **REGISTRATION)
    task = library.task(pid, "Task_izvertet")
    l2 = library.api("l2")
    assert l2.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "ilze"}).status_code == 204
    response = l2.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"pamatojums": {"value": "Aizmirsu izvēlēties lēmumu", "type": "String"}}},
    )
    assert response.status_code == 400
    error = response.get_json()
    assert error["type"] == "ScriptEvaluationException"
    assert "Gateway_lemums" in error["message"] and "lemums" in error["message"]
    # Nothing changed: the decision is still open and nobody was told anything.
    assert library.task(pid, "Task_izvertet")["id"] == task["id"]
    assert library.mails(to="janis.berzins@example.lv") == []


def test_only_the_front_office_may_submit_a_request_directly(library):
    l2 = library.api("l2")
    by_message = l2.post(
        "/engine-rest/message",
        json={"messageName": "pakalpojuma_pieprasijums", "businessKey": "PIE-2026-0107", "resultEnabled": True},
    )
    assert by_message.status_code == 403
    started = l2.post(f"/engine-rest/process-definition/key/{KEY}/start", json={"businessKey": "PIE-2026-0107"})
    assert started.status_code == 403
    assert library.instances(KEY) == []
