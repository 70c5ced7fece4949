"""Scenario tests of the problem management process (``processes/problemu_parvaldiba.bpmn``).

A problem arrives from incident management (message ``problema``) or is registered proactively by a service
executor or the process manager (the same message, sent through the REST API). Level 2 registers and
investigates it, level 3 helps when asked, the known error is recorded, a permanent fix goes to change
management as a change request, the problem is closed and the process manager reviews major problems and
trends. Deadlines run in working time from Monday 23 November 2026, 09:00 (Riga).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.library.conftest import PROCESSES, RIGA, Library, assert_due_at_termins, task_due

KEY = "problemu_parvaldiba"
CHANGES = "izmainu_parvaldiba"
INCIDENTS = "incidentu_parvaldiba"

#: What incident management sends with the message ``problema`` (see processes/README.md).
NO_INCIDENTA = {
    "temats": "E-pakalpojumu portālā neatveras iesniegumu veidlapas",
    "apraksts": "Kopš 20. novembra lietotāji atkārtoti ziņo, ka iesniegumu veidlapas neielādējas (kļūda 502).",
    "pakalpojums": "E-pakalpojumu portāls",
    "ietekme": "augsta",
    "steidzamiba": "videja",
    "kategorija": "programmatura",
    "konfiguracijas_vieniba": "portals-web-01",
    "diagnoze": "Lietotņu serverim beidzas savienojumi ar datubāzi.",
    "risinajums": "Lietotņu servera restartēšana atjauno darbu uz dažām stundām.",
    "avots": "incidents",
}


def register(library: Library, key: str, business_key: str, role: str = "admin", **payload: object) -> str:
    """Send the message that starts the process; the new instance's id."""
    result = library.message(key, business_key=business_key, role=role, **payload)
    assert [r["resultType"] for r in result] == ["ProcessDefinition"]
    return result[0]["processInstance"]["id"]


def started(library: Library, instance_id: str) -> dict:
    return next(e for e in library.history(instance_id) if e["event_type"] == "instance_started")


def open_tasks(library: Library, instance_id: str) -> list[str]:
    return sorted(t["taskDefinitionKey"] for t in library.tasks(instance_id))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=RIGA)


def test_problema_no_incidenta_novers_ar_izmainam(library: Library) -> None:
    """Incident → problem → known error → change request (a standard change, implemented) → checked → closed;
    a critical problem is reviewed by the process manager."""
    problem = register(library, "problema", "PIE-2026-0042", **NO_INCIDENTA)
    assert started(library, problem)["data"]["messageName"] == "problema"
    assert open_tasks(library, problem) == ["Task_registret"]
    # Registration comes before the priority decision: no deadline, Camunda's default priority.
    registration = library.task(problem, "Task_registret")
    assert task_due(registration) is None and registration["priority"] == 50

    library.complete(
        problem,
        "Task_registret",
        "l2",
        saistitie_incidenti="PIE-2026-0042, PIE-2026-0045, PIE-2026-0051",
        ietekme="augsta",
        steidzamiba="augsta",
    )
    values = library.variables(problem)
    assert (values["prioritate"], values["prioritates_nosaukums"]) == (1, "kritiska")
    # 4 working hours from Monday 09:00.
    assert datetime.fromisoformat(values["termins"]) == at(2026, 11, 23, 13, 0)
    assert assert_due_at_termins(library, problem, "Task_izmeklet")["priority"] == 90

    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Analizēti lietotņu servera un datubāzes žurnāli; slodzes tests atkārto kļūdu.",
        pamatcelonis="Datubāzes savienojumu pūls ir 20; pēc 10. novembra atjauninājuma savienojumi netiek atbrīvoti.",
        izmeklesanas_rezultats="noskaidrots",
    )
    # Recording the known error concludes the investigation: still due at its deadline.
    assert_due_at_termins(library, problem, "Task_zinama_kluda")
    library.complete(
        problem,
        "Task_zinama_kluda",
        "l2",
        simptoms="Iesniegumu veidlapas neielādējas, lietotājs redz kļūdu 502.",
        pamatcelonis="Pēc atjauninājuma datubāzes savienojumi netiek atbrīvoti, pūls izsīkst.",
        apejas_risinajums="Restartēt lietotņu serveri (KAC piesaka 2. līmenim kā incidentu).",
        risinajuma_veids="izmainas",
        izmainu_priekslikums="Uzstādīt lietotnes labojumu 4.2.1, kas atbrīvo savienojumus.",
    )

    # The change request went to change management: a new instance with the same request number.
    sent = [e for e in library.history(problem) if e["event_type"] == "message_sent"]
    assert len(sent) == 1 and sent[0]["activity_id"] == "Event_izmainu_pieprasijums"
    change = sent[0]["data"]["toInstanceId"]
    assert sent[0]["data"]["messageName"] == "izmainu_pieprasijums" and sent[0]["data"]["started"] is True
    assert [i["id"] for i in library.instances(CHANGES)] == [change]
    link = started(library, change)["data"]
    assert (link["fromInstanceId"], link["fromDefinitionKey"]) == (problem, KEY)
    request = library.variables(change)
    assert request["avots"] == "problema"
    assert request["temats"] == "Problēmas novēršana: E-pakalpojumu portālā neatveras iesniegumu veidlapas"
    assert request["apraksts"] == "Uzstādīt lietotnes labojumu 4.2.1, kas atbrīvo savienojumus."
    assert request["epasts"] is None  # an internal change: nobody outside to inform
    # The change request carries the problem's priority to its registration, but no deadline of the problem's.
    change_registration = library.task(change, "Task_registret")
    assert change_registration["priority"] == request["uzdevuma_prioritate"] == 90
    assert task_due(change_registration) is None

    # Meanwhile the problem waits for the change to be implemented: the check has no deadline of its own.
    assert open_tasks(library, problem) == ["Task_parbaudit"]
    check = library.task(problem, "Task_parbaudit")
    assert task_due(check) is None and check["priority"] == 90

    # Change management handles it as a standard change; nothing is mailed, nothing is thrown back.
    library.complete(
        change,
        "Task_registret",
        "kac",
        izmainu_pamatojums="Novērst atkārtotus portāla incidentus (problēma PIE-2026-0042).",
        izmainu_veids="standarta",
        ietekme="videja",
        steidzamiba="videja",
    )
    library.complete(
        change,
        "Task_novertet",
        "l2",
        izmainu_veids="standarta",
        ietekmes_analize="Portāls nav pieejams 10 minūtes; uzstāda ārpus darba laika.",
        ietekmetas_kv="portals-web-01",
        riska_novertejums="zema",
    )
    library.complete(
        change,
        "Task_planot",
        "l2",
        ieviesanas_plans="Uzstādīt 4.2.1 testa vidē, tad produkcijā 24.11. 18:00.",
        atjaunosanas_plans="Atjaunot versiju 4.2.0 no rezerves kopijas.",
        planotais_laiks="2026-11-24 18:00",
        saskanots_ar="Portāla turētājs, KAC",
    )
    library.complete(
        change, "Task_ieviest", "l2", ieviesanas_apraksts="Labojums 4.2.1 uzstādīts.", ieviesanas_rezultats="ieviestas"
    )
    library.complete(
        change,
        "Task_novertet_ieviestas",
        "pakalpojuma-turetajs",
        izpildes_statuss="izpildits",
        rezultats="Labojums uzstādīts, savienojumu pūls vairs neizsīkst.",
    )
    assert library.state(change) == "COMPLETED"
    assert library.activities(change)[-1] == "End_slegts"
    assert not [e for e in library.history(change) if e["event_type"] == "message_sent"]

    library.complete(
        problem,
        "Task_parbaudit",
        "l2",
        parbaudes_rezultats="noversta",
        parbaudes_piezimes="Nedēļas laikā incidenti nav atkārtojušies.",
    )
    library.complete(
        problem,
        "Task_slegt",
        "l2",
        problemas_statuss="atrisinata",
        slegsanas_kopsavilkums="Pamatcēlonis novērsts ar izmaiņām (labojums 4.2.1).",
        publicets_zinasanu_baze=True,
    )
    # A critical problem is a major problem: the process manager reviews it before the trend review.
    assert open_tasks(library, problem) == ["Task_butiska"]
    review = library.task(problem, "Task_butiska")
    assert task_due(review) is None and review["priority"] == 90
    library.complete(
        problem,
        "Task_butiska",
        "procesa-vaditajs",
        parskata_secinajumi="Atjauninājums netika pārbaudīts ar reālu slodzi.",
        preventivie_pasakumi="Slodzes tests obligāts pirms portāla atjauninājumiem.",
    )
    library.complete(
        problem,
        "Task_tendences",
        "procesa-vaditajs",
        lidzigas_problemas="ja",
        tendences="Trešā ar atjauninājumiem saistītā problēma šajā ceturksnī.",
        proaktivi_pasakumi="Ieviest izmaiņu testēšanas kontrolsarakstu.",
    )

    assert library.state(problem) == "COMPLETED"
    assert library.activities(problem) == [
        "StartEvent_problema",
        "Task_registret",
        "Task_prioritate",
        "Gateway_termins_merge",
        "Task_termins",
        "Gateway_izmeklet_merge",
        "Task_izmeklet",
        "Gateway_celonis",
        "Task_zinama_kluda",
        "Gateway_risinajums",
        "Event_izmainu_pieprasijums",
        "Task_parbaudit",
        "Gateway_noverst",
        "Gateway_slegt_merge",
        "Task_slegt",
        "Gateway_butiska",
        "Task_butiska",
        "Gateway_tendences_merge",
        "Task_tendences",
        "End_slegta",
    ]
    record = library.variables(problem)
    assert record["simptoms"] == "Iesniegumu veidlapas neielādējas, lietotājs redz kļūdu 502."
    assert record["pamatcelonis"] == "Pēc atjauninājuma datubāzes savienojumi netiek atbrīvoti, pūls izsīkst."
    assert record["apejas_risinajums"] == "Restartēt lietotņu serveri (KAC piesaka 2. līmenim kā incidentu)."
    assert (record["problemas_statuss"], record["publicets_zinasanu_baze"]) == ("atrisinata", True)
    assert record["avots"] == "incidents" and record["konfiguracijas_vieniba"] == "portals-web-01"
    # Problem management informs no requester: the incident's requester heard from request management.
    assert library.mails() == []


def test_proaktiva_problema_ar_partneri_paliek_zinama_kluda(library: Library) -> None:
    """A service executor registers a problem proactively; a supplier helps find the cause; a permanent fix
    is not justified, so the known error stays with its workaround."""
    problem = register(
        library,
        "problema",
        "PRB-2026-0007",
        role="l2",
        temats="Dokumentu vadības sistēmā lēni atveras lielas datnes",
        apraksts="Monitorings rāda, ka datņu virs 50 MB atvēršana ilgst vairāk par minūti.",
    )
    assert started(library, problem)["user_id"] == "ilze"
    assert "fromInstanceId" not in started(library, problem)["data"]

    library.complete(
        problem,
        "Task_registret",
        "l2",
        pakalpojums="Dokumentu vadība",
        kategorija="aparatura",
        ietekme="zema",
        steidzamiba="videja",
    )
    assert library.variables(problem)["prioritate"] == 4
    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Serveris un tīkls ir kārtībā; lēnums ir glabātuves masīvā.",
        izmeklesanas_rezultats="partneris",
    )
    # Functional escalation to level 3: the supplier's user sees and does the task, by the same deadline.
    assert open_tasks(library, problem) == ["Task_partneris"]
    assert assert_due_at_termins(library, problem, "Task_partneris")["priority"] == 30
    library.complete(
        problem,
        "Task_partneris",
        "l3",
        partnera_atzinums="Glabātuves masīva kešatmiņa konfigurēta tikai rakstīšanai.",
        pamatcelonis="Nepareiza glabātuves kešatmiņas konfigurācija.",
    )
    assert open_tasks(library, problem) == ["Task_izmeklet"]
    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Piegādātāja atzinums apstiprināts testā.",
        pamatcelonis="Nepareiza glabātuves kešatmiņas konfigurācija.",
        izmeklesanas_rezultats="noskaidrots",
    )
    library.complete(
        problem,
        "Task_zinama_kluda",
        "l2",
        simptoms="Lielas datnes atveras ilgāk par minūti.",
        pamatcelonis="Nepareiza glabātuves kešatmiņas konfigurācija.",
        apejas_risinajums="Lielas datnes lejupielādēt un atvērt lokāli.",
        risinajuma_veids="apejas_risinajums",
    )
    library.complete(
        problem,
        "Task_slegt",
        "l2",
        problemas_statuss="zinama_kluda",
        slegsanas_kopsavilkums="Glabātuvi nomainīs 2027. gadā; līdz tam apejas risinājums.",
    )
    # Priority 4 is not a major problem: straight to the trend review.
    assert open_tasks(library, problem) == ["Task_tendences"]
    library.complete(
        problem, "Task_tendences", "procesa-vaditajs", lidzigas_problemas="ne", tendences="Atsevišķs gadījums."
    )

    assert library.state(problem) == "COMPLETED"
    done = library.activities(problem)
    assert done.index("Task_partneris") < done.index("Task_zinama_kluda")
    assert done.count("Task_izmeklet") == 2
    assert "Event_izmainu_pieprasijums" not in done and "Task_butiska" not in done
    assert library.variables(problem)["problemas_statuss"] == "zinama_kluda"
    assert library.instances(CHANGES) == []


def test_problema_nav_noversta_un_cels_nav_noskaidrojams(library: Library) -> None:
    """The process manager registers a problem; the change does not fix it, so the investigation starts again
    with a new deadline, and the root cause turns out not to be findable."""
    problem = register(
        library,
        "problema",
        "PRB-2026-0011",
        role="procesa-vaditajs",
        temats="Periodiski zūd savienojums ar valsts reģistru",
        apraksts="Tendenču analīzē: 14 incidenti mēnesī ar savienojuma pārtraukumu.",
    )
    library.complete(
        problem,
        "Task_registret",
        "l2",
        pakalpojums="Datu apmaiņa ar reģistriem",
        kategorija="tikls",
        ietekme="videja",
        steidzamiba="videja",
    )
    first_deadline = library.variables(problem)["termins"]
    # 3 working days from Monday 23 November: Thursday 26 November at 17:00.
    assert datetime.fromisoformat(first_deadline) == at(2026, 11, 26, 17, 0)
    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Pārtraukumi sakrīt ar ugunsmūra sesiju tabulas pārpildi.",
        pamatcelonis="Ugunsmūra sesiju tabula par mazu.",
        izmeklesanas_rezultats="noskaidrots",
    )
    library.complete(
        problem,
        "Task_zinama_kluda",
        "l2",
        simptoms="Savienojums ar reģistru pārtrūkst uz 1–2 minūtēm.",
        pamatcelonis="Ugunsmūra sesiju tabula par mazu.",
        apejas_risinajums="Atkārtot pieprasījumu pēc 2 minūtēm.",
        risinajuma_veids="izmainas",
        izmainu_priekslikums="Palielināt ugunsmūra sesiju tabulu.",
    )
    assert len(library.instances(CHANGES)) == 1

    # A week later the change is in, but the connection still drops: investigate again, with a new deadline.
    library.advance(to=at(2026, 11, 30, 10, 0))
    library.complete(
        problem,
        "Task_parbaudit",
        "l2",
        parbaudes_rezultats="nav_noversta",
        parbaudes_piezimes="Pēc izmaiņām pārtraukumi turpinās.",
    )
    assert open_tasks(library, problem) == ["Task_izmeklet"]
    # 3 working days from Monday 30 November: Thursday 3 December at 17:00.
    assert datetime.fromisoformat(library.variables(problem)["termins"]) == at(2026, 12, 3, 17, 0)
    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Ugunsmūris izslēgts no aizdomām; reģistra puse kļūdas neatzīst.",
        izmeklesanas_rezultats="nav_noskaidrojams",
    )
    library.complete(
        problem,
        "Task_slegt",
        "l2",
        problemas_statuss="nav_noskaidrota",
        slegsanas_kopsavilkums="Cēlonis nav noskaidrots; uzraudzīt tendences.",
    )
    library.complete(
        problem,
        "Task_tendences",
        "procesa-vaditajs",
        lidzigas_problemas="ja",
        tendences="Pārtraukumi turpinās, ~3 nedēļā.",
        proaktivi_pasakumi="Ierosināt reģistra turētājam kopīgu izmeklēšanu.",
    )

    assert library.state(problem) == "COMPLETED"
    done = library.activities(problem)
    assert done.count("Task_termins") == 2 and done.count("Task_izmeklet") == 2
    assert "Task_zinama_kluda" in done and done[-2:] == ["Task_tendences", "End_slegta"]


def test_problemas_termins_atgadinajums_un_eskalacija(library: Library) -> None:
    """The reaction time passes (a reminder is recorded, the work goes on), then the deadline is missed: the
    investigation is escalated to the service owner, who sets a new deadline."""
    problem = register(
        library,
        "problema",
        "PIE-2026-0077",
        temats="Neizdodas nosūtīt e-adreses paziņojumus",
        apraksts="Daļa paziņojumu paliek rindā.",
        pakalpojums="E-adrese",
        ietekme="videja",
        steidzamiba="videja",
        avots="incidents",
    )
    library.complete(problem, "Task_registret", "l2", kategorija="programmatura")
    values = library.variables(problem)
    assert (values["prioritate"], values["reakcijas_laiks"], values["atrisinasanas_laiks"]) == (
        3,
        "1 darba diena",
        "3 darba dienas",
    )

    # Reaction time (1 working day): Tuesday 24 November, 17:00.
    library.advance(to=at(2026, 11, 24, 16, 59))
    assert not [e for e in library.history(problem) if e["event_type"] == "timer_fired"]
    library.advance(to=at(2026, 11, 24, 17, 1))
    fired = [e["activity_id"] for e in library.history(problem) if e["event_type"] == "timer_fired"]
    assert fired == ["Timer_izmeklet_atgadinajums"]
    assert "Task_atgadinajums" in library.activities(problem)
    assert library.activities(problem)[-1] == "End_atgadinajums"
    assert open_tasks(library, problem) == ["Task_izmeklet"]  # a reminder does not interrupt the work

    # Deadline (3 working days): Thursday 26 November, 17:00 → hierarchical escalation.
    library.advance(to=at(2026, 11, 26, 17, 1))
    fired = [e["activity_id"] for e in library.history(problem) if e["event_type"] == "timer_fired"]
    assert fired == ["Timer_izmeklet_atgadinajums", "Timer_izmeklet_termins"]
    cancelled = [e["activity_id"] for e in library.history(problem) if e["event_type"] == "activity_cancelled"]
    assert "Task_izmeklet" in cancelled
    assert open_tasks(library, problem) == ["Task_eskalet"]
    escalation = library.task(problem, "Task_eskalet")
    assert escalation["camundaFormRef"]["key"] == "problema-eskalacija"
    # The owner has the reaction time (1 working day) from the escalation: the end of Friday.
    assert task_due(escalation) == at(2026, 11, 27, 17, 0) and escalation["priority"] == 50
    # Only the service owner works on the escalation.
    assert library.api("l2").get("/engine-rest/task", query_string={"processInstanceId": problem}).get_json() == []

    library.complete(
        problem,
        "Task_eskalet",
        "pakalpojuma-turetajs",
        eskalacijas_noradijumi="Piesaistīt otru izstrādātāju; ziņot man katru dienu.",
        papildu_laiks="3 darba dienas",
    )
    assert open_tasks(library, problem) == ["Task_izmeklet"]
    # Three more working days from Thursday evening: Friday, Monday, Tuesday 1 December, 17:00.
    assert datetime.fromisoformat(library.variables(problem)["termins"]) == at(2026, 12, 1, 17, 0)
    assert task_due(assert_due_at_termins(library, problem, "Task_izmeklet")) == at(2026, 12, 1, 17, 0)

    library.complete(
        problem,
        "Task_izmeklet",
        "l2",
        diagnostika="Rindas apstrādātājs apstājas, kad adresāta e-adrese ir slēgta.",
        pamatcelonis="Neapstrādāts izņēmums rindas apstrādātājā.",
        izmeklesanas_rezultats="noskaidrots",
    )
    library.complete(
        problem,
        "Task_zinama_kluda",
        "l2",
        simptoms="Paziņojumi paliek rindā.",
        pamatcelonis="Neapstrādāts izņēmums rindas apstrādātājā.",
        apejas_risinajums="Izņemt slēgto adresātu no rindas.",
        risinajuma_veids="apejas_risinajums",
    )
    library.complete(
        problem, "Task_slegt", "l2", problemas_statuss="zinama_kluda", slegsanas_kopsavilkums="Apejas risinājums."
    )
    library.complete(problem, "Task_tendences", "procesa-vaditajs", lidzigas_problemas="ne", tendences="Nav.")
    assert library.state(problem) == "COMPLETED"
    record = library.variables(problem)
    assert record["eskalacijas_noradijumi"] == "Piesaistīt otru izstrādātāju; ziņot man katru dienu."


def test_problemu_registre_tikai_izpilditajs_vai_procesa_vaditajs(library: Library) -> None:
    response = library.api("kac").post(
        "/engine-rest/message",
        json={"messageName": "problema", "businessKey": "PRB-2026-0099", "resultEnabled": True},
    )
    assert response.status_code == 403
    assert "may not start process 'problemu_parvaldiba'" in response.get_json()["message"]
    assert library.instances(KEY) == []


@pytest.mark.skipif(not (PROCESSES / f"{INCIDENTS}.bpmn").exists(), reason="incident management is not shipped yet")
def test_incidents_registre_problemu(library: Library) -> None:
    """Incident management resolves a recurring incident with a workaround and registers a problem: problem
    management starts with the incident's data, and both histories record the link."""
    incident = library.message(
        "incidents",
        business_key="PIE-2026-0200",
        role="l2",
        temats="Neielādējas iesniegumu veidlapa",
        apraksts="Portālā iesniegumu veidlapa rāda kļūdu 502.",
    )[0]["processInstance"]["id"]
    library.complete(
        incident,
        "Task_pienemt",
        "l2",
        pieteicejs="Līga Ozola",
        epasts="liga.ozola@example.lv",
        valoda="lv",
        kanals="portals",
        pakalpojums="E-pakalpojumu portāls",
        temats="Neielādējas iesniegumu veidlapa",
        apraksts="Portālā iesniegumu veidlapa rāda kļūdu 502.",
        kategorija="programmatura",
        konfiguracijas_vieniba="portals-web-01",
        ietekme="videja",
        steidzamiba="augsta",
    )
    library.complete(
        incident,
        "Task_diagnosticet",
        "l2",
        diagnoze="Lietotņu serverim beidzas datubāzes savienojumi.",
        celonis_zinams="ne",
        atkartojas="ja",
        risinajuma_limenis="l2",
    )
    library.complete(
        incident,
        "Task_noverst",
        "l2",
        risinajums="Lietotņu serveris restartēts.",
        rezultats="Veidlapa atkal darbojas.",
        izpildes_statuss="apiets",
    )

    problems = library.instances(KEY)
    assert len(problems) == 1 and problems[0]["businessKey"] == "PIE-2026-0200"
    problem = problems[0]["id"]
    sent = [e for e in library.history(incident) if e["event_type"] == "message_sent"]
    assert [(e["data"]["messageName"], e["data"]["toInstanceId"]) for e in sent] == [("problema", problem)]
    link = started(library, problem)["data"]
    assert (link["fromInstanceId"], link["fromDefinitionKey"], link["messageName"]) == (incident, INCIDENTS, "problema")
    record = library.variables(problem)
    assert (record["avots"], record["kategorija"], record["konfiguracijas_vieniba"]) == (
        "incidents",
        "programmatura",
        "portals-web-01",
    )
    assert record["diagnoze"] == "Lietotņu serverim beidzas datubāzes savienojumi."
    assert record["risinajums"] == "Lietotņu serveris restartēts."
    assert open_tasks(library, problem) == ["Task_registret"]
    library.complete(problem, "Task_registret", "l2", saistitie_incidenti="PIE-2026-0200")
    assert open_tasks(library, problem) == ["Task_izmeklet"]
    assert library.variables(problem)["prioritate"] == 2
