"""Service continuity management (nepartrauktibas_parvaldiba): risk and business-impact analysis, strategy,
measures and recovery plans, initial testing (failed tests improve the plan and test again), training, and the
portfolio manager's conformity assessment and approval. The annual review is its own timer-started process:
test_nepartrauktibas_parskatisana.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.library.conftest import RIGA, USERS, assert_due_at_termins, body, events, task_due, timer_due

KEY = "nepartrauktibas_parvaldiba"
PAULS = "pauls.liepins@iestade.example.lv"


def start(library, business_key: str, **overrides) -> str:
    values = {
        "pakalpojums": "Sociālās palīdzības pieteikšana tiešsaistē",
        "temats": "Nepārtrauktības plāns: sociālās palīdzības pieteikšana",
        "pieteicejs": "Pauls Liepiņš",
        "epasts": PAULS,
        "valoda": "lv",
    }
    values.update(overrides)
    return library.start(KEY, role="portfela-vaditajs", business_key=business_key, **values)["id"]


def analyse(library, instance_id: str, **overrides) -> None:
    values = {
        "pakalpojums": "Sociālās palīdzības pieteikšana tiešsaistē",
        "riski": "Datu centra elektroapgādes pārtraukums; izspiedējvīruss; atslēgas speciālista prombūtne.",
        "ietekmes_analize": "Bez pakalpojuma iedzīvotāji nevar pieteikt pabalstus; termiņi likumā – 10 darba dienas.",
        "kritiskie_resursi": "IS-SOC-001, DB-SOC-001, SRV-SOC-APP-01",
        "ietekme": "augsta",
        "steidzamiba": "augsta",
        "max_partraukums_stundas": 8,
        "max_datu_zudums_stundas": 1,
    }
    values.update(overrides)
    library.complete(instance_id, "Task_riski", "pakalpojuma-turetajs", **values)


def strategy(library, instance_id: str, **overrides) -> None:
    values = {
        "strategija": "silta_rezerve",
        "strategijas_apraksts": "Rezerves datu centrā uzturēta siltā rezerve; pārslēgšana 4 stundās.",
        "preventivie_pasakumi": "Nepārtrauktās barošanas iekārtas; rezerves kopijas ik stundu; otrs administrators.",
        "pasakumu_plans": "Līdz 2026-12-15 IT departaments ierīko rezerves serveri; atbildīgā: Ilze Bērziņa.",
    }
    values.update(overrides)
    library.complete(instance_id, "Task_strategija", "pakalpojuma-turetajs", **values)


def plans(library, instance_id: str) -> None:
    library.complete(
        instance_id,
        "Task_plani",
        "l2",
        ieviestie_pasakumi="Rezerves serveris SRV-SOC-APP-02 rezerves datu centrā; rezerves kopijas ik stundu.",
        atjaunosanas_plans="1. Paziņot KAC. 2. Pārslēgt DNS uz SRV-SOC-APP-02. 3. Atjaunot DB no pēdējās kopijas.",
        plana_dokuments="DOK-SOC-AP-001",
    )


def run_test(library, instance_id: str, rezultats: str, **overrides) -> None:
    values = {
        "testa_veids": "parslegsana",
        "faktiskais_atjaunosanas_laiks_stundas": 3,
        "testa_rezultats": rezultats,
        "testa_konstatejumi": "Pārslēgšana izdevās 3 stundās.",
    }
    values.update(overrides)
    library.complete(instance_id, "Task_testet", "l2", **values)


def train(library, instance_id: str) -> None:
    library.complete(
        instance_id,
        "Task_apmacibas",
        "pakalpojuma-turetajs",
        apmacibu_datums="2026-12-10",
        apmacito_skaits=14,
        informetas_puses=["darbinieki", "kac", "piegadataji"],
    )


def test_nepartrauktibas_plans_ar_neizdevusos_testu_un_parstradasanu(library):
    iid = start(library, "NEP-2026-0001")
    analyse(library, iid)
    variables = library.variables(iid)
    # A critical service: the recovery plans are due within 5 working days.
    assert (variables["prioritate"], variables["prioritates_nosaukums"]) == (1, "kritiska")
    # The strategy follows the criticality decision (Camunda's 90) but comes before the plans' deadline.
    strategy_task = library.task(iid, "Task_strategija")
    assert task_due(strategy_task) is None and strategy_task["priority"] == 90
    strategy(library, iid)
    variables = library.variables(iid)
    assert variables["plana_izstrades_laiks"] == "5 darba dienas"
    assert datetime.fromisoformat(variables["termins"]) == datetime(2026, 11, 30, 17, 0, tzinfo=RIGA)
    assert_due_at_termins(library, iid, "Task_plani")

    plans(library, iid)
    # The failover takes too long: the plan is improved and tested again.
    run_test(
        library,
        iid,
        "neizdevies",
        faktiskais_atjaunosanas_laiks_stundas=11,
        testa_konstatejumi="DB atjaunošana ilga 9 stundas: rezerves kopija bija lēnā krātuvē.",
    )
    library.complete(
        iid,
        "Task_uzlabot",
        "l2",
        uzlabojumi="Rezerves kopijas pārceltas uz ātro krātuvi; DB replikācija uz rezerves datu centru.",
        atjaunosanas_plans="1. Paziņot KAC. 2. Pārslēgt DNS uz SRV-SOC-APP-02. 3. Aktivizēt DB repliku.",
    )
    run_test(library, iid, "izdevies")
    train(library, iid)

    # The portfolio manager sends it back: the strategy is reworked, the plans tested again.
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="parstradat",
        pamatojums="Stratēģijā nav paredzēta pagaidu manuāla pieteikumu pieņemšana KAC.",
    )
    library.task(iid, "Task_strategija")
    strategy(
        library,
        iid,
        strategija="manuala_apstrade",
        strategijas_apraksts="Siltā rezerve un pagaidu manuāla pieteikumu pieņemšana KAC (papīra veidlapas).",
    )
    plans(library, iid)
    run_test(library, iid, "izdevies")
    train(library, iid)
    assert library.mails(to=PAULS) == []
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="apstiprinat",
        pamatojums="Plāns atbilst pakalpojuma līmenim (atjaunošana 8 stundās).",
        rezultats="Nepārtrauktības plāns DOK-SOC-AP-001 apstiprināts; nākamā pārskatīšana – ikgadējā auditā.",
    )

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert completed.count("Task_testet") == 3
    assert completed.count("Task_uzlabot") == 1
    assert completed.count("Task_strategija") == 2
    assert completed[-4:] == ["Task_apstiprinat", "Gateway_lemums", "Task_pazinot", "Event_apstiprinats"]
    variables = library.variables(iid)
    assert variables["strategija"] == "manuala_apstrade"
    assert variables["informetas_puses"] == ["darbinieki", "kac", "piegadataji"]
    assert variables["lemums"] == "apstiprinat"

    (mail,) = library.mails(to=PAULS)
    assert mail["Subject"] == "Pieteikums Nr. NEP-2026-0001 izpildīts"
    text = body(mail)
    assert "Nepārtrauktības plāns: sociālās palīdzības pieteikšana" in text
    assert "Nepārtrauktības plāns DOK-SOC-AP-001 apstiprināts" in text


def test_planu_kavejums_atgadinajums_un_eskalacija_anglu_valoda(library):
    anna = "anna.kalnina@kompetences-centrs.example.eu"
    iid = start(
        library,
        "NEP-2026-0002",
        pakalpojums="Cross-border e-signature validation",
        temats="Continuity plan: cross-border e-signature validation",
        pieteicejs="Anna Kalniņa",
        epasts=anna,
        valoda="en",
    )
    analyse(library, iid, ietekme="videja", steidzamiba="zema")
    strategy(library, iid)
    variables = library.variables(iid)
    assert (variables["prioritate"], variables["reakcijas_laiks"], variables["plana_izstrades_laiks"]) == (
        4,
        "2 darba dienas",
        "20 darba dienas",
    )
    library.task(iid, "Task_plani")

    # Reaction time passes: a reminder is recorded, the plans stay with L2.
    reminder = timer_due(library, iid, "Timer_plani_atgadinajums")
    assert reminder == datetime(2026, 11, 25, 17, 0, tzinfo=RIGA)
    library.advance(to=reminder + timedelta(minutes=1))
    assert [e["activity_id"] for e in events(library, iid, "timer_fired")] == ["Timer_plani_atgadinajums"]
    assert {"Task_atgadinajums", "Event_atgadinajums"} <= set(library.activities(iid))
    library.task(iid, "Task_plani")

    # 20 working days pass (Christmas is a holiday): the service owner gets the escalation.
    deadline = timer_due(library, iid, "Timer_plani_termins")
    assert deadline == datetime(2026, 12, 21, 17, 0, tzinfo=RIGA)
    library.advance(to=deadline + timedelta(minutes=1))
    assert [t["taskDefinitionKey"] for t in library.tasks(iid)] == ["Task_eskalacija"]
    # The owner has the reaction time (2 working days) from the escalation: 22 and 23 December.
    escalation = library.task(iid, "Task_eskalacija")
    assert task_due(escalation) == datetime(2026, 12, 23, 17, 0, tzinfo=RIGA) and escalation["priority"] == 30
    library.complete(
        iid,
        "Task_eskalacija",
        "pakalpojuma-turetajs",
        eskalacijas_komentars="The supplier's engineer was unavailable; a second engineer is assigned.",
        papildu_laiks="5 darba dienas",
    )
    # Five more working days from Monday 21 December 17:01: 22, 23, 28, 29, 30 December (24-26 are holidays).
    assert datetime.fromisoformat(library.variables(iid)["termins"]) == datetime(2026, 12, 30, 17, 0, tzinfo=RIGA)

    plans(library, iid)
    run_test(library, iid, "izdevies")
    train(library, iid)
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="apstiprinat",
        pamatojums="Conforms to the agreed service level.",
        rezultats="The continuity plan DOK-ESIG-AP-001 is approved.",
    )

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert (
        completed.index("Timer_plani_termins") < completed.index("Task_eskalacija") < completed.index("Task_pagarinat")
    )
    assert completed.count("Task_plani") == 1  # the first one was interrupted
    (mail,) = library.mails(to=anna)
    assert mail["Subject"] == "Request No. NEP-2026-0002 resolved"
    text = body(mail)
    assert "Continuity plan: cross-border e-signature validation" in text
    assert "The continuity plan DOK-ESIG-AP-001 is approved." in text


def test_bez_testa_rezultata_testesanu_nevar_pabeigt(library):
    iid = start(library, "NEP-2026-0003")
    analyse(library, iid)
    strategy(library, iid)
    plans(library, iid)
    task = library.task(iid, "Task_testet")
    api = library.api("l2")
    assert api.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": USERS["l2"]}).status_code == 204
    response = api.post(
        f"/engine-rest/task/{task['id']}/complete",
        json={"variables": {"testa_konstatejumi": {"value": "Tests vēl notiek.", "type": "String"}}},
    )
    # The test result decides the path: without it the step is refused and the task stays open.
    assert response.status_code == 400
    assert response.get_json()["elementId"] == "Gateway_tests"
    assert "testa_rezultats" in response.get_json()["message"]
    assert library.task(iid, "Task_testet")["id"] == task["id"]


def test_planosanu_sak_pakalpojuma_turetajs_vai_portfela_vaditajs(library):
    response = library.api("l2").post(
        f"/engine-rest/process-definition/key/{KEY}/start", json={"businessKey": "NEP-2026-0004"}
    )
    assert response.status_code == 403
    iid = library.start(KEY, role="pakalpojuma-turetajs", business_key="NEP-2026-0005", pakalpojums="E-arhīvs")["id"]
    # Started without e-mail details: the language defaults to Latvian.
    assert library.variables(iid)["valoda"] == "lv"
    library.task(iid, "Task_riski")
