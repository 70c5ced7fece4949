"""Scenario tests of the change management process (``processes/izmainu_parvaldiba.bpmn``).

A change request arrives from request intake, problem management or complaints (message
``izmainu_pieprasijums``) or is registered by the service desk itself (the same message, sent through the
REST API). The service desk registers and classifies it; level 2 assesses standard and normal changes; the
advisory board reviews normal ones and the service owner decides; an emergency change is decided at once,
implemented, then reviewed by the board; the service owner reviews every implemented change. The requester
hears of the decision and the result; a change requested through intake reports back to it
(``pieteikums_izpildits``). Deadlines run in working time from Monday 23 November 2026, 09:00 (Riga).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.library.conftest import PROCESSES, RIGA, Library, assert_due_at_termins, body, task_due

KEY = "izmainu_parvaldiba"
INTAKE = "pieteikumu_parvaldiba"
REQUESTER = "janis.berzins@example.lv"


def request_change(library: Library, business_key: str, role: str = "admin", **payload: object) -> str:
    """Send ``izmainu_pieprasijums`` as the service desk or another process would; the new instance's id."""
    result = library.message("izmainu_pieprasijums", business_key=business_key, role=role, **payload)
    assert [r["resultType"] for r in result] == ["ProcessDefinition"]
    return result[0]["processInstance"]["id"]


def open_tasks(library: Library, instance_id: str) -> list[str]:
    return sorted(t["taskDefinitionKey"] for t in library.tasks(instance_id))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA)


def plan_and_implement(library: Library, change: str) -> None:
    library.complete(
        change,
        "Task_planot",
        "l2",
        ieviesanas_plans="Uzstādīt testa vidē, pārbaudīt, tad produkcijā sestdien 10:00.",
        atjaunosanas_plans="Atjaunot iepriekšējo versiju no rezerves kopijas (30 min).",
        planotais_laiks="2026-11-28 10:00",
        saskanots_ar="Pakalpojuma turētājs, KAC, lietotāju pārstāvji",
    )
    library.complete(
        change,
        "Task_ieviest",
        "l2",
        ieviesanas_apraksts="Izmaiņas uzstādītas pēc plāna, pārbaudītas produkcijā.",
        ieviesanas_rezultats="ieviestas",
    )


def test_normalas_izmainas_apstiprinatas(library: Library) -> None:
    """The service desk registers a normal change for a citizen; the advisory board recommends it, the service
    owner approves it; it is planned, implemented and reviewed; the requester is told of the decision and the
    result."""
    # Only the service desk starts change management directly.
    refused = library.api("l2").post(
        "/engine-rest/message",
        json={"messageName": "izmainu_pieprasijums", "businessKey": "IZM-2026-0001", "resultEnabled": True},
    )
    assert refused.status_code == 403

    change = request_change(library, "IZM-2026-0001", role="kac")
    assert open_tasks(library, change) == ["Task_registret"]
    assert library.variables(change) == {
        "avots": None,
        "epasts": None,
        "valoda": "lv",
        "atgadinajumi": 0,
        "termins": None,
        "uzdevuma_prioritate": 50,
    }
    # Registered here, the change has no deadline before its priority is decided, and Camunda's default priority.
    registration = library.task(change, "Task_registret")
    assert task_due(registration) is None and registration["priority"] == 50

    library.complete(
        change,
        "Task_registret",
        "kac",
        temats="Pievienot e-pakalpojumā iespēju pievienot vairākus pielikumus",
        apraksts="Iesnieguma veidlapā ļaut pievienot līdz 5 pielikumiem (šobrīd 1).",
        izmainu_pamatojums="Iedzīvotājiem jāsūta vairāki iesniegumi vienas lietas dokumentiem.",
        pakalpojums="Iesniegums iestādei",
        izmainu_veids="normala",
        ietekme="videja",
        steidzamiba="videja",
        pieteicejs="Jānis Bērziņš",
        epasts=REQUESTER,
        valoda="lv",
    )
    values = library.variables(change)
    assert (values["prioritate"], values["prioritates_nosaukums"]) == (3, "videja")
    assert datetime.fromisoformat(values["termins"]) == at(2026, 11, 26, 17, 0)
    assert_due_at_termins(library, change, "Task_novertet")

    library.complete(
        change,
        "Task_novertet",
        "l2",
        izmainu_veids="normala",
        ietekmes_analize="Jāmaina veidlapa un glabāšanas kvota; ietekme uz citiem pakalpojumiem nav.",
        ietekmetas_kv="eveidlapa-app, datnu-glabatuve",
        riska_novertejums="videja",
        nepieciesamie_resursi="Izstrādātājs 3 dienas, testētājs 1 diena.",
    )
    assert open_tasks(library, change) == ["Task_padome"]
    # The deadline is the assessment's: the board meets on its own schedule, at the change's priority.
    board = library.task(change, "Task_padome")
    assert task_due(board) is None and board["priority"] == 50
    library.complete(
        change,
        "Task_padome",
        "konsultativa-padome",
        padomes_ieteikums="apstiprinat",
        padomes_atzinums="Ieguvums liels, risks pieņemams; ieviest pēc slodzes testa.",
    )
    library.complete(
        change,
        "Task_lemums",
        "pakalpojuma-turetajs",
        lemums="apstiprinat",
        pamatojums="Atbalstām; ieviešana plānota novembra beigās.",
    )
    granted = library.mails(to=REQUESTER)
    assert len(granted) == 1
    assert granted[0]["Subject"] == "Pieteikums Nr. IZM-2026-0001: pakalpojums tiks sniegts"
    assert "pieņēmuši lēmumu pieprasīto pakalpojumu sniegt" in body(granted[0])
    assert "Pievienot e-pakalpojumā iespēju pievienot vairākus pielikumus" in body(granted[0])

    plan_and_implement(library, change)
    library.complete(
        change,
        "Task_novertet_ieviestas",
        "pakalpojuma-turetajs",
        izpildes_statuss="izpildits",
        rezultats="Veidlapā tagad var pievienot līdz 5 pielikumiem.",
        atzinas="Slodzes tests atklāja kvotas kļūdu laikus.",
    )

    assert library.state(change) == "COMPLETED"
    assert library.activities(change) == [
        "StartEvent_izmainu_pieprasijums",
        "Task_sagatavot",
        "Task_registret",
        "Task_prioritate",
        "Task_termins",
        "Gateway_veids",
        "Gateway_novertet_merge",
        "Task_novertet",
        "Gateway_padome",
        "Task_padome",
        "Task_lemums",
        "Gateway_lemums_merge",
        "Gateway_informet_lemums",
        "Task_pazinot_apstiprinats",
        "Gateway_lemums_pazinots",
        "Gateway_apstiprinats",
        "Gateway_arkartas_ieviesana",
        "Gateway_planot_merge",
        "Task_planot",
        "Gateway_ieviest_merge",
        "Task_ieviest",
        "Gateway_retrospektiva",
        "Gateway_retrospektiva_merge",
        "Task_novertet_ieviestas",
        "Gateway_informet_rezultats",
        "Task_pazinot_rezultats",
        "Gateway_rezultats_pazinots",
        "Gateway_beigas_merge",
        "Gateway_avots",
        "End_slegts",
    ]
    mails = library.mails(to=REQUESTER)
    assert [m["Subject"] for m in mails] == [
        "Pieteikums Nr. IZM-2026-0001: pakalpojums tiks sniegts",
        "Pieteikums Nr. IZM-2026-0001 izpildīts",
    ]
    assert "Veidlapā tagad var pievienot līdz 5 pielikumiem." in body(mails[1])
    record = library.variables(change)
    assert (record["lemums"], record["padomes_ieteikums"], record["izpildes_statuss"]) == (
        "apstiprinat",
        "apstiprinat",
        "izpildits",
    )
    assert record["atjaunosanas_plans"] == "Atjaunot iepriekšējo versiju no rezerves kopijas (30 min)."


def test_izmainas_no_sudzibas_noraiditas_anglu_valoda(library: Library) -> None:
    """A complaint leads to a change request; the board and the service owner reject it; the complainant, who
    writes in English, is told why. A decision without a value is refused with a message naming it."""
    complainant = "anna.smith@example.com"
    change = request_change(
        library,
        "PIE-2026-0103",
        temats="Portal in English",
        apraksts="Translate the e-service portal into English.",
        pieteicejs="Anna Smith",
        epasts=complainant,
        valoda="en",
        kanals="epasts",
        pakalpojums="E-pakalpojumu portāls",
        ietekme="zema",
        steidzamiba="zema",
        avots="sudziba",
    )
    library.complete(
        change,
        "Task_registret",
        "kac",
        izmainu_pamatojums="Ārvalstnieki nevar izmantot portālu.",
        izmainu_veids="normala",
    )
    library.complete(
        change,
        "Task_novertet",
        "l2",
        izmainu_veids="normala",
        ietekmes_analize="Tulkot 140 lapas; uzturēt divas valodas.",
        riska_novertejums="zema",
    )
    library.complete(
        change,
        "Task_padome",
        "konsultativa-padome",
        padomes_ieteikums="noraidit",
        padomes_atzinums="Šogad budžetā nav līdzekļu; iekļaut 2027. gada plānā.",
    )

    # The decision is required: without it the step is refused, naming the missing value, and nothing changes.
    task = library.task(change, "Task_lemums")
    owner = library.api("pakalpojuma-turetajs")
    assert owner.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "tenis"}).status_code == 204
    incomplete = owner.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": {}})
    assert incomplete.status_code == 400
    assert "lemums" in incomplete.get_json()["message"]
    assert open_tasks(library, change) == ["Task_lemums"]

    library.complete(
        change,
        "Task_lemums",
        "pakalpojuma-turetajs",
        lemums="noraidit",
        pamatojums="The translation is not funded this year; it is planned for 2027.",
    )
    assert library.state(change) == "COMPLETED"
    done = library.activities(change)
    assert done[-7:] == [
        "Task_pazinot_noraidits",
        "Gateway_lemums_pazinots",
        "Gateway_apstiprinats",
        "Task_atteikums",
        "Gateway_beigas_merge",
        "Gateway_avots",
        "End_slegts",
    ]
    assert "Task_planot" not in done and "Task_ieviest" not in done

    mails = library.mails(to=complainant)
    assert len(mails) == 1
    assert mails[0]["Subject"] == "Request No. PIE-2026-0103: the service has been refused"
    text = body(mails[0])
    assert "The translation is not funded this year; it is planned for 2027." in text
    assert "Portal in English" in text
    record = library.variables(change)
    assert record["izpildes_statuss"] == "noraidits"
    assert record["rezultats"] == (
        "Izmaiņu pieprasījums noraidīts. Pamatojums: The translation is not funded this year; it is planned for 2027."
    )
    # A change from a complaint reports back to nobody: the complaints process answers the complainant.
    assert not [e for e in library.history(change) if e["event_type"] == "message_sent"]


def test_arkartas_izmainas_no_problemas(library: Library) -> None:
    """An emergency change from problem management: the service owner decides at once, level 2 implements it
    without planning, the advisory board reviews it afterwards. Nobody outside is mailed."""
    change = request_change(
        library,
        "PIE-2026-0042",
        temats="Problēmas novēršana: portāla datubāzes savienojumi",
        apraksts="Nekavējoties uzstādīt labojumu 4.2.1.",
        pakalpojums="E-pakalpojumu portāls",
        ietekme="augsta",
        steidzamiba="augsta",
        pamatcelonis="Savienojumi netiek atbrīvoti.",
        apejas_risinajums="Restartēt lietotņu serveri.",
        avots="problema",
    )
    library.complete(
        change,
        "Task_registret",
        "kac",
        izmainu_pamatojums="Portāls nav pieejams vairākas reizes dienā.",
        izmainu_veids="arkartas",
    )
    # The fast path: no assessment, no board before the decision, which is due at the deadline (critical: 90).
    assert open_tasks(library, change) == ["Task_arkartas_lemums"]
    emergency = assert_due_at_termins(library, change, "Task_arkartas_lemums")
    assert emergency["priority"] == 90 and task_due(emergency) == at(2026, 11, 23, 13, 0)
    library.complete(
        change,
        "Task_arkartas_lemums",
        "pakalpojuma-turetajs",
        lemums="apstiprinat",
        pamatojums="Pakalpojums nav pieejams; ieviest nekavējoties.",
    )
    assert open_tasks(library, change) == ["Task_ieviest"]
    library.complete(
        change,
        "Task_ieviest",
        "l2",
        ieviesanas_apraksts="Labojums uzstādīts 11:40, portāls darbojas.",
        ieviesanas_rezultats="ieviestas",
    )
    assert open_tasks(library, change) == ["Task_retrospektiva"]
    library.complete(
        change,
        "Task_retrospektiva",
        "konsultativa-padome",
        arkartas_pamatots="ja",
        retrospektivas_atzinums="Steidzamība pamatota; nākamreiz iepriekš sagatavot atjaunošanas plānu.",
    )
    library.complete(
        change,
        "Task_novertet_ieviestas",
        "pakalpojuma-turetajs",
        izpildes_statuss="izpildits",
        rezultats="Savienojumu noplūde novērsta.",
    )

    assert library.state(change) == "COMPLETED"
    done = library.activities(change)
    assert "Task_novertet" not in done and "Task_padome" not in done and "Task_planot" not in done
    assert done.index("Task_arkartas_lemums") < done.index("Task_ieviest") < done.index("Task_retrospektiva")
    assert "Task_pazinot_apstiprinats" not in done and "Task_pazinot_rezultats" not in done
    assert done[-1] == "End_slegts"
    assert library.mails() == []
    record = library.variables(change)
    assert (record["prioritate"], record["arkartas_pamatots"]) == (1, "ja")


def test_novertesanas_termins_atgadinajums_un_eskalacija(library: Library) -> None:
    """A standard change waits for its assessment: after the reaction time a reminder is recorded, after the
    deadline the service owner gets the escalation and sets a new deadline; then the standard change goes
    straight to planning, without the board or a decision."""
    change = request_change(library, "IZM-2026-0002", role="kac")
    library.complete(
        change,
        "Task_registret",
        "kac",
        temats="Jauna darbinieka piekļuve dokumentu vadības sistēmai",
        apraksts="Izveidot kontu un piešķirt lietvedības lomu.",
        izmainu_pamatojums="Jauns darbinieks no 1. decembra.",
        pakalpojums="Dokumentu vadība",
        izmainu_veids="standarta",
        ietekme="zema",
        steidzamiba="zema",
        pieteicejs="Personāla nodaļa",
    )
    values = library.variables(change)
    assert (values["reakcijas_laiks"], values["atrisinasanas_laiks"]) == ("2 darba dienas", "5 darba dienas")

    # Reaction time (2 working days): Wednesday 25 November, 17:00.
    library.advance(to=at(2026, 11, 25, 16, 59))
    assert not [e for e in library.history(change) if e["event_type"] == "timer_fired"]
    library.advance(to=at(2026, 11, 25, 17, 1))
    assert [e["activity_id"] for e in library.history(change) if e["event_type"] == "timer_fired"] == [
        "Timer_novertet_atgadinajums"
    ]
    assert library.activities(change)[-2:] == ["Task_atgadinajums", "End_atgadinajums"]
    assert open_tasks(library, change) == ["Task_novertet"]

    # Deadline (5 working days): Monday 30 November, 17:00.
    library.advance(to=at(2026, 11, 30, 17, 1))
    assert [e["activity_id"] for e in library.history(change) if e["event_type"] == "timer_fired"] == [
        "Timer_novertet_atgadinajums",
        "Timer_novertet_termins",
    ]
    assert open_tasks(library, change) == ["Task_eskalet"]
    assert (
        library.api("pakalpojuma-turetajs")
        .get("/engine-rest/task", query_string={"processInstanceId": change})
        .get_json()[0]["name"]
        == "Hierarhiski eskalēt nokavēto novērtēšanu"
    )
    # The owner has the reaction time (2 working days) from the escalation: the end of Wednesday.
    escalation = library.task(change, "Task_eskalet")
    assert task_due(escalation) == at(2026, 12, 2, 17, 0) and escalation["priority"] == 30
    library.complete(
        change,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        eskalacijas_noradijumi="Novērtēšanu nodot Ilzei; standarta izmaiņas jāizskata 1 dienā.",
        papildu_laiks="1 darba diena",
    )
    assert open_tasks(library, change) == ["Task_novertet"]
    assert datetime.fromisoformat(library.variables(change)["termins"]) == at(2026, 12, 1, 17, 0)
    assert task_due(assert_due_at_termins(library, change, "Task_novertet")) == at(2026, 12, 1, 17, 0)

    library.complete(
        change,
        "Task_novertet",
        "l2",
        izmainu_veids="standarta",
        ietekmes_analize="Standarta procedūra, ietekmes nav.",
        riska_novertejums="zema",
    )
    # Standard changes are pre-approved: straight to planning.
    assert open_tasks(library, change) == ["Task_planot"]
    plan_and_implement(library, change)
    library.complete(
        change,
        "Task_novertet_ieviestas",
        "pakalpojuma-turetajs",
        izpildes_statuss="izpildits",
        rezultats="Konts izveidots, loma piešķirta.",
    )
    assert library.state(change) == "COMPLETED"
    done = library.activities(change)
    assert "Task_padome" not in done and "Task_lemums" not in done
    assert done.count("Task_novertet") == 1 and "Task_eskalet" in done and "Task_pagarinat" in done
    # No requester e-mail was given: nobody is mailed.
    assert library.mails() == []


@pytest.mark.skipif(not (PROCESSES / f"{INTAKE}.bpmn").exists(), reason="request intake is not in the library yet")
def test_izmainu_pieprasijums_no_pieteikuma(library: Library) -> None:
    """The service desk registers a request, classifies it as a change request and routes it; change
    management decides (the requester is told), implements and reports the result back to intake, which
    informs the requester and closes the request."""
    intake = library.start(INTAKE, role="kac")["id"]
    business_key = library.api().get(f"/engine-rest/process-instance/{intake}").get_json()["businessKey"]
    library.complete(
        intake,
        "Task_registret",
        "kac",
        pieteicejs="Jānis Bērziņš",
        epasts=REQUESTER,
        valoda="lv",
        kanals="portals",
        temats="Paziņojumi par termiņiem arī SMS",
        apraksts="Lūdzu sūtīt atgādinājumus par iesnieguma termiņiem arī īsziņā.",
    )
    library.complete(
        intake,
        "Task_klasificet",
        "kac",
        pieteikuma_veids="izmainu_pieprasijums",
        pakalpojums="Paziņojumi iedzīvotājiem",
        ietekme="zema",
        steidzamiba="videja",
    )
    changes = library.instances(KEY)
    assert len(changes) == 1 and changes[0]["businessKey"] == business_key
    change = changes[0]["id"]
    first = next(e for e in library.history(change) if e["event_type"] == "instance_started")
    assert (first["data"]["fromInstanceId"], first["data"]["messageName"]) == (intake, "izmainu_pieprasijums")
    assert library.variables(change)["avots"] == "pieteikums"
    # The registration here is due at the intake's deadline, with the intake's priority (4: Camunda's 30).
    registration = library.task(change, "Task_registret")
    assert task_due(registration) == datetime.fromisoformat(library.variables(intake)["termins"])
    assert registration["priority"] == 30

    library.complete(
        change,
        "Task_registret",
        "kac",
        izmainu_pamatojums="Ne visi iedzīvotāji lasa e-pastu.",
        izmainu_veids="normala",
    )
    library.complete(
        change,
        "Task_novertet",
        "l2",
        izmainu_veids="normala",
        ietekmes_analize="Jāpieslēdz SMS vārteja; izmaksas 0,04 EUR par īsziņu.",
        riska_novertejums="zema",
    )
    library.complete(
        change, "Task_padome", "konsultativa-padome", padomes_ieteikums="apstiprinat", padomes_atzinums="Atbalstīt."
    )
    library.complete(change, "Task_lemums", "pakalpojuma-turetajs", lemums="apstiprinat", pamatojums="Apstiprināts.")
    plan_and_implement(library, change)
    library.complete(
        change,
        "Task_novertet_ieviestas",
        "pakalpojuma-turetajs",
        izpildes_statuss="izpildits",
        rezultats="Atgādinājumi par termiņiem tiek sūtīti arī īsziņā.",
    )

    assert library.state(change) == "COMPLETED"
    assert library.activities(change)[-2:] == ["Gateway_avots", "End_pieteikums_izpildits"]
    sent = [e for e in library.history(change) if e["event_type"] == "message_sent"]
    assert len(sent) == 1
    assert sent[0]["data"]["messageName"] == "pieteikums_izpildits"
    assert sent[0]["data"]["toInstanceId"] == intake and sent[0]["data"]["started"] is False
    assert sent[0]["data"]["variables"] == {
        "rezultats": "Atgādinājumi par termiņiem tiek sūtīti arī īsziņā.",
        "izpildes_statuss": "izpildits",
    }
    received = [e for e in library.history(intake) if e["event_type"] == "message_received"]
    assert [(e["data"]["messageName"], e["data"]["fromInstanceId"]) for e in received] == [
        ("pieteikums_izpildits", change)
    ]
    # Change management told the requester of the decision; intake tells the result (once) and closes.
    subjects = [m["Subject"] for m in library.mails(to=REQUESTER)]
    assert f"Pieteikums Nr. {business_key}: pakalpojums tiks sniegts" in subjects
    assert subjects.count(f"Pieteikums Nr. {business_key} izpildīts") == 1
    assert library.variables(intake)["rezultats"] == "Atgādinājumi par termiņiem tiek sūtīti arī īsziņā."
