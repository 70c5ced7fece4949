"""Scenarios of complaints and suggestions (PU2-18, ``processes/sudzibas_un_ierosinajumi.bpmn``).

Every complaint or suggestion, from any channel, goes into one register: the front office (KAC) registers and
classifies it, the submitter gets an acknowledgement, the service owner (or, for the institution as a whole and
for missed deadlines, the portfolio manager) evaluates and decides, corrective action may raise a change
request, the result is documented and the submitter is told the decision and the actions taken. A complaint
that came through request intake reports back to it at the end.

The process starts with the message ``sudziba_vai_ierosinajums``: request intake throws it; KAC registering a
complaint itself sends it through ``POST /engine-rest/message``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.variables import variables_to_typed
from tests.library.conftest import RIGA, USERS, assert_due_at_termins, task_due

KEY = "sudzibas_un_ierosinajumi"


#: What KAC writes into the register when Anna Bērziņa phones about a late certificate.
REGISTRATION = {
    "pieteicejs": "Anna Bērziņa",
    "epasts": "anna.berzina@example.lv",
    "valoda": "lv",
    "kanals": "talrunis",
    "temats": "Izziņa izsniegta ar nokavēšanos",
    "apraksts": "Izziņu par deklarēto dzīvesvietu solīja 3 darba dienās, saņēmu pēc 6. Lūdzu paskaidrojumu.",
    "veids": "sudziba",
    "norada_uz_notikusu_faktu": False,
    "attiecas_uz": "pakalpojums",
    "pakalpojums": "Izziņu izsniegšana",
    "prasiba": "atbilde",
    "ietekme": "zema",
    "steidzamiba": "zema",
}


def receive(library, business_key: str, **registration) -> str:
    """KAC registers a complaint or suggestion it received itself: the message starts the process."""
    (started,) = library.message(
        "sudziba_vai_ierosinajums", business_key=business_key, role="kac", kanals=registration.get("kanals", "talrunis")
    )
    assert started["resultType"] == "ProcessDefinition"
    instance_id = started["processInstance"]["id"]
    # Received directly, the entry has no deadline before its priority is decided, and Camunda's default priority.
    entry = library.task(instance_id, "Task_registret")
    assert task_due(entry) is None and entry["priority"] == 50
    library.complete(instance_id, "Task_registret", "kac", **registration)
    return instance_id


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def test_a_complaint_about_a_service_is_accepted_corrected_documented_and_answered(library):
    instance = receive(library, "PIE-2026-0101", **REGISTRATION)

    # Registered and classified as a complaint, prioritised, acknowledged.
    assert library.activities(instance) == [
        "StartEvent_sanemts",
        "Activity_sagatavot",
        "Task_registret",
        "Gateway_veids",
        "Gateway_klasificets",
        "Activity_prioritate",
        "Activity_termins",
        "Activity_apstiprinat_sanemsanu",
        "Gateway_attiecas_uz",
    ]
    data = library.variables(instance)
    assert data["veids"] == "sudziba" and data["parklasificets"] is False
    assert data["prioritate"] == 4 and data["prioritates_nosaukums"] == "zema"
    assert data["atrisinasanas_laiks"] == "5 darba dienas"
    # Five working days from Monday 23 November: the end of Monday 30 November.
    assert data["termins"] == "2026-11-30T17:00:00+02:00"
    assert data["avots"] is None
    (acknowledgement,) = library.mails(to="anna.berzina@example.lv")
    assert acknowledgement["Subject"] == "Sūdzība Nr. PIE-2026-0101 saņemta"
    assert "ir saņemta un reģistrēta" in body(acknowledgement)
    assert "Izziņa izsniegta ar nokavēšanos" in body(acknowledgement)

    # The service owner, not the front office, evaluates and decides.
    task = assert_due_at_termins(library, instance, "Task_izvertet")
    assert task["priority"] == 30
    kac_sees = library.api("kac").get("/engine-rest/task", query_string={"processInstanceId": instance}).get_json()
    assert task["id"] not in [t["id"] for t in kac_sees]
    library.complete(
        instance,
        "Task_izvertet",
        "pakalpojuma-turetajs",
        izvertejums="Pieprasījums reģistrēts 2. novembrī, izziņa sagatavota 10. novembrī: termiņš nokavēts, jo "
        "atbildīgā darbiniece bija slima un darbs netika nodots aizvietotājam.",
        lemums="pienemt",
        pamatojums="Sūdzība pamatota: solītais pakalpojuma līmenis (3 darba dienas) nav ievērots.",
    )
    # The submitter waits for the answer: the actions and the record are due at the same deadline.
    assert_due_at_termins(library, instance, "Task_darbibas")
    library.complete(
        instance,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="Iesniedzējai atvainojāmies; ieviesta kārtība, ka prombūtnes laikā pieprasījumus pārņem aizvietotājs.",
        nepieciesamas_izmainas=False,
    )
    assert_due_at_termins(library, instance, "Task_dokumentet")
    library.complete(
        instance,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="termini",
        rezultats="Sūdzība pamatota; atvainošanās; aizvietošanas kārtība.",
        atbilde="Atvainojamies par kavējumu. Izziņas turpmāk tiks sagatavotas solītajā termiņā arī darbinieku "
        "prombūtnes laikā.",
    )

    assert library.state(instance) == "COMPLETED"
    assert library.activities(instance)[-10:] == [
        "Task_izvertet",
        "Gateway_lemums_pienemts",
        "Gateway_lemums",
        "Task_darbibas",
        "Gateway_izmainas",
        "Gateway_dokumentet",
        "Task_dokumentet",
        "Activity_informet",
        "Gateway_avots",
        "EndEvent_izskatits",
    ]
    data = library.variables(instance)
    assert data["lemums"] == "pienemt" and data["kategorija"] == "termini"
    assert data["nepieciesamas_izmainas"] is False
    acknowledgement, answer = library.mails(to="anna.berzina@example.lv")
    assert answer["Subject"] == "Atbilde uz Jūsu sūdzību Nr. PIE-2026-0101"
    text = body(answer)
    assert "Atvainojamies par kavējumu." in text
    assert "Veiktās darbības:\nIesniedzējai atvainojāmies" in text
    # Started by KAC, not by another process: nothing to report back, no link in the history.
    events = library.history(instance)
    assert not [e for e in events if e["event_type"] == "message_sent"]
    (started,) = [e for e in events if e["event_type"] == "instance_started"]
    assert "fromInstanceId" not in (started["data"] or {})


def test_a_complaint_phrased_as_a_suggestion_is_recognised_and_a_rejection_is_explained_in_english(library):
    instance = receive(
        library,
        "PIE-2026-0102",
        **{
            **REGISTRATION,
            "pieteicejs": "John Smith",
            "epasts": "john.smith@example.com",
            "valoda": "en",
            "kanals": "epasts",
            "temats": "Queue at the service centre",
            "apraksts": "I waited 90 minutes last Tuesday. I suggest you open a second window to avoid this.",
            "veids": "ierosinajums",
            "norada_uz_notikusu_faktu": True,
            "prasiba": "kompensacija",
        },
    )

    # KAC saw dissatisfaction with something that already happened: the suggestion is a complaint.
    assert "Activity_atzit_par_sudzibu" in library.activities(instance)
    data = library.variables(instance)
    assert data["veids"] == "sudziba" and data["parklasificets"] is True
    (acknowledgement,) = library.mails(to="john.smith@example.com")
    assert acknowledgement["Subject"] == "Complaint No. PIE-2026-0102 received"
    assert acknowledgement["Content-Language"] == "en"

    library.complete(
        instance,
        "Task_izvertet",
        "pakalpojuma-turetajs",
        izvertejums="Rindas sistēmas dati: gaidīšanas laiks 23. novembrī 18 minūtes.",
        lemums="noraidit",
        pamatojums="The queue system shows a waiting time of 18 minutes on that day.",
    )
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_dokumentet"]
    library.complete(
        instance,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="pieejamiba",
        rezultats="Noraidīts: rindas dati neapstiprina gaidīšanas laiku.",
        atbilde="The queue system records a waiting time of 18 minutes on that day, so we cannot grant compensation.",
    )

    assert library.state(instance) == "COMPLETED"
    assert "Task_darbibas" not in library.activities(instance)
    _, answer = library.mails(to="john.smith@example.com")
    assert answer["Subject"] == "Answer to your complaint No. PIE-2026-0102"
    assert "we cannot grant compensation" in body(answer)
    assert "Action taken" not in body(answer)


def test_an_accepted_suggestion_that_needs_a_change_raises_a_change_request(library):
    instance = receive(
        library,
        "PIE-2026-0103",
        **{
            **REGISTRATION,
            "kanals": "portals",
            "temats": "E-pakalpojuma forma",
            "apraksts": "Ierosinu e-pakalpojuma pieteikuma formā automātiski aizpildīt adresi no Iedzīvotāju reģistra.",
            "veids": "ierosinajums",
            "norada_uz_notikusu_faktu": False,
            "prasiba": "uzlabojums",
            "ietekme": "videja",
            "steidzamiba": "zema",
        },
    )
    assert "Activity_atzit_par_sudzibu" not in library.activities(instance)
    assert library.variables(instance)["veids"] == "ierosinajums"
    (acknowledgement,) = library.mails(to="anna.berzina@example.lv")
    assert acknowledgement["Subject"] == "Ierosinājums Nr. PIE-2026-0103 saņemts"

    library.complete(
        instance,
        "Task_izvertet",
        "pakalpojuma-turetajs",
        izvertejums="Adrese ir pieejama caur DAGR; ietaupītu laiku un mazinātu kļūdas.",
        lemums="pienemt",
        pamatojums="Ierosinājums uzlabo pakalpojumu un ir īstenojams.",
    )
    library.complete(
        instance,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="Uzlabojums iekļauts e-pakalpojuma attīstības plānā; iesniegts izmaiņu pieprasījums.",
        nepieciesamas_izmainas=True,
        izmainu_apraksts="E-pakalpojuma formā aizpildīt adresi no Iedzīvotāju reģistra (DAGR).",
    )

    # The change request started change management, linked both ways in the histories.
    (sent,) = [e for e in library.history(instance) if e["event_type"] == "message_sent"]
    assert sent["activity_id"] == "Event_izmainu_pieprasijums"
    assert sent["data"]["messageName"] == "izmainu_pieprasijums"
    assert sent["data"]["toDefinitionKey"] == "izmainu_parvaldiba" and sent["data"]["started"] is True
    change = sent["data"]["toInstanceId"]
    (change_row,) = [i for i in library.instances("izmainu_parvaldiba") if i["id"] == change]
    assert change_row["businessKey"] == "PIE-2026-0103"
    (started,) = [e for e in library.history(change) if e["event_type"] == "instance_started"]
    assert started["data"]["fromInstanceId"] == instance
    assert started["data"]["fromActivityId"] == "Event_izmainu_pieprasijums"
    change_data = library.variables(change)
    assert change_data["avots"] == "sudziba"
    assert change_data["apraksts"] == "E-pakalpojuma formā aizpildīt adresi no Iedzīvotāju reģistra (DAGR)."
    assert change_data["epasts"] == "anna.berzina@example.lv"
    # The change's registration gets the suggestion's priority (4: Camunda's 30), not its deadline.
    change_registration = library.task(change, "Task_registret")
    assert change_registration["priority"] == 30 and task_due(change_registration) is None

    # The complaint process does not wait for the change: the submitter is answered now.
    library.complete(
        instance,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="kvalitate",
        rezultats="Pieņemts; izmaiņu pieprasījums PIE-2026-0103.",
        atbilde="Paldies! Jūsu ierosinājumu īstenosim nākamajā e-pakalpojuma versijā.",
    )
    assert library.state(instance) == "COMPLETED"
    _, answer = library.mails(to="anna.berzina@example.lv")
    assert answer["Subject"] == "Atbilde uz Jūsu ierosinājumu Nr. PIE-2026-0103"
    assert "nākamajā e-pakalpojuma versijā" in body(answer)


def test_a_complaint_about_the_institution_as_a_whole_is_decided_by_the_portfolio_manager(library):
    instance = receive(
        library,
        "PIE-2026-0104",
        **{
            **REGISTRATION,
            "kanals": "vestule",
            "temats": "Iestādes darba laiks",
            "apraksts": "Iestāde nav atvērta nevienu vakaru; strādājošie nevar ierasties klātienē.",
            "attiecas_uz": "iestade",
            "pakalpojums": None,
            "prasiba": "uzlabojums",
        },
    )
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_izvertet_iestade"]
    assert_due_at_termins(library, instance, "Task_izvertet_iestade")
    owner_sees = library.api("pakalpojuma-turetajs").get("/engine-rest/task").get_json()
    assert instance not in [t["processInstanceId"] for t in owner_sees]

    library.complete(
        instance,
        "Task_izvertet_iestade",
        "portfela-vaditajs",
        izvertejums="Klientu apkalpošanas centrs ir atvērts darbdienās 8:30–17:00.",
        lemums="pienemt",
        pamatojums="Pieņemts: ceturtdienās pieņemšana līdz 19:00.",
    )
    library.complete(
        instance,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="No 2027. gada janvāra KAC ceturtdienās strādā līdz 19:00.",
        nepieciesamas_izmainas=False,
    )
    library.complete(
        instance,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="pieejamiba",
        rezultats="Pagarināts darba laiks ceturtdienās.",
        atbilde="No 2027. gada janvāra ceturtdienās Jūs pieņemsim līdz 19:00.",
    )
    assert library.state(instance) == "COMPLETED"
    assert "Task_izvertet" not in library.activities(instance)
    assert library.variables(instance)["lemums"] == "pienemt"


def test_a_reminder_after_the_reaction_time_and_escalation_to_the_portfolio_manager_when_the_deadline_passes(library):
    instance = receive(library, "PIE-2026-0105", **REGISTRATION)
    termins = datetime.fromisoformat(library.variables(instance)["termins"])
    assert termins == datetime(2026, 11, 30, 17, 0, tzinfo=RIGA)

    # Reaction time (2 working days) passes: a reminder, the service owner keeps the task.
    library.advance(to=datetime(2026, 11, 25, 16, 59, tzinfo=RIGA))
    assert "Activity_atgadinajums" not in library.activities(instance)
    library.advance(to=datetime(2026, 11, 25, 17, 1, tzinfo=RIGA))
    assert library.activities(instance)[-3:] == ["Event_atgadinajums", "Activity_atgadinajums", "EndEvent_atgadinats"]
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_izvertet"]

    # The deadline passes: hierarchical escalation to the portfolio manager, who takes over the decision.
    library.advance(to=termins - timedelta(minutes=1))
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_izvertet"]
    library.advance(to=termins + timedelta(minutes=1))
    assert "Event_termins" in library.activities(instance)
    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_izvertet_iestade"]
    escalated = library.task(instance, "Task_izvertet_iestade")
    assert escalated["camundaFormRef"]["key"] == "sudziba-izvertesana-iestade"
    # Escalated past the deadline, the portfolio manager has the reaction time (2 working days) to decide.
    assert task_due(escalated) == datetime(2026, 12, 2, 17, 0, tzinfo=RIGA) and escalated["priority"] == 30
    owner_sees = library.api("pakalpojuma-turetajs").get("/engine-rest/task").get_json()
    assert escalated["id"] not in [t["id"] for t in owner_sees]
    library.complete(
        instance,
        "Task_izvertet_iestade",
        "portfela-vaditajs",
        izvertejums="Sūdzība pamatota.",
        eskalacijas_piezimes="Pakalpojuma turētājs bija atvaļinājumā; aizvietošana nebija noteikta.",
        lemums="pienemt",
        pamatojums="Termiņš nav ievērots.",
    )
    library.complete(
        instance,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="Atvainošanās vēstule.",
        nepieciesamas_izmainas=False,
    )
    library.complete(
        instance,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="termini",
        rezultats="Pamatota; izskatīta pēc eskalācijas.",
        atbilde="Atvainojamies par kavējumu.",
    )
    assert library.state(instance) == "COMPLETED"
    assert library.variables(instance)["eskalacijas_piezimes"].startswith("Pakalpojuma turētājs")


def test_a_decision_without_a_value_is_refused_and_the_task_stays_open(library):
    instance = receive(library, "PIE-2026-0106", **REGISTRATION)
    task = library.task(instance, "Task_izvertet")
    api = library.api("pakalpojuma-turetajs")
    assert (
        api.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": USERS["pakalpojuma-turetajs"]}).status_code
        == 204
    )

    missing = api.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": variables_to_typed({"izvertejums": "Izvērtēts."})},
    )
    assert missing.status_code == 400
    assert missing.get_json()["elementId"] == "Gateway_lemums"
    assert "lemums" in missing.get_json()["message"]
    unknown = api.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": variables_to_typed({"izvertejums": "Izvērtēts.", "lemums": "atlikt"})},
    )
    assert unknown.status_code == 400
    assert "No conditions satisfied for Gateway_lemums" in unknown.get_json()["message"]

    assert [t["taskDefinitionKey"] for t in library.tasks(instance)] == ["Task_izvertet"]
    assert "lemums" not in library.variables(instance)


def test_a_complaint_routed_by_request_intake_reports_its_result_back(library):
    intake = library.start("pieteikumu_parvaldiba")["id"]
    library.complete(
        intake,
        "Task_registret",
        "kac",
        pieteicejs="Jānis Kalniņš",
        epasts="janis.kalnins@example.lv",
        valoda="lv",
        kanals="klatiene",
        temats="Nelaipna apkalpošana",
        apraksts="Apmeklējot KAC 20. novembrī, darbinieks atteicās pieņemt iesniegumu un bija nelaipns.",
    )
    library.complete(
        intake,
        "Task_klasificet",
        "kac",
        pieteikuma_veids="sudziba_vai_ierosinajums",
        pakalpojums="Klientu apkalpošana",
        ietekme="zema",
        steidzamiba="videja",
        risina_kac=False,
    )
    (sent,) = [e for e in library.history(intake) if e["event_type"] == "message_sent"]
    assert sent["data"]["messageName"] == "sudziba_vai_ierosinajums" and sent["data"]["started"] is True
    complaint = sent["data"]["toInstanceId"]
    (started,) = [e for e in library.history(complaint) if e["event_type"] == "instance_started"]
    assert started["data"]["fromInstanceId"] == intake
    data = library.variables(complaint)
    assert data["avots"] == "pieteikums"
    # The register entry is due at the intake's deadline, with the intake's priority (4: Camunda's 30).
    entry = library.task(complaint, "Task_registret")
    assert (
        task_due(entry)
        == datetime.fromisoformat(library.variables(intake)["termins"])
        == datetime(2026, 11, 30, 17, 0, tzinfo=RIGA)
    )
    assert entry["priority"] == data["uzdevuma_prioritate"] == 30
    assert data["temats"] == "Nelaipna apkalpošana" and data["epasts"] == "janis.kalnins@example.lv"

    # KAC completes the register entry: the data from intake is already there.
    library.complete(
        complaint, "Task_registret", "kac", veids="sudziba", attiecas_uz="pakalpojums", prasiba="atvainosanas"
    )
    library.complete(
        complaint,
        "Task_izvertet",
        "pakalpojuma-turetajs",
        izvertejums="Videoieraksts apstiprina iesniedzēja teikto.",
        lemums="pienemt",
        pamatojums="Pamatota.",
    )
    library.complete(
        complaint,
        "Task_darbibas",
        "pakalpojuma-turetajs",
        darbibas="Pārrunas ar darbinieku; klientu apkalpošanas apmācība.",
        nepieciesamas_izmainas=False,
    )
    library.complete(
        complaint,
        "Task_dokumentet",
        "pakalpojuma-turetajs",
        kategorija="attieksme",
        rezultats="Pamatota; apmācība.",
        atbilde="Atvainojamies. Darbiniekam organizēta klientu apkalpošanas apmācība.",
    )

    assert library.state(complaint) == "COMPLETED"
    assert library.activities(complaint)[-1] == "EndEvent_pazinots_pieteikumam"
    (reported,) = [e for e in library.history(complaint) if e["event_type"] == "message_sent"]
    assert reported["data"]["messageName"] == "pieteikums_izpildits"
    assert reported["data"]["toInstanceId"] == intake and reported["data"]["started"] is False
    assert reported["data"]["variables"] == {
        "rezultats": "Atvainojamies. Darbiniekam organizēta klientu apkalpošanas apmācība.",
        "izpildes_statuss": "izpildits",
    }
    (received,) = [e for e in library.history(intake) if e["event_type"] == "message_received"]
    assert received["data"]["fromInstanceId"] == complaint
    assert [t["taskDefinitionKey"] for t in library.tasks(intake)] == ["Task_slegt"]
