"""Annual review and audit of the continuity plans (nepartrauktibas_parskatisana): started by its timer start
event once a year (R/P1Y). The process manager reviews and audits; plans that no longer conform are updated by
the service owner and tested by L2 (a failed test improves the plan and tests again); the portfolio manager
assesses conformity and approves, and the results are e-mailed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.library.conftest import RIGA, assert_due_at_termins, body, due, events, task_due, timer_due

KEY = "nepartrauktibas_parskatisana"
TURETAJI = "pakalpojumu-turetaji@iestade.example.lv"


def start_job(library) -> dict:
    (row,) = [j for j in library.engine.jobs.list(definition_key=KEY) if j["kind"] == "timer-start"]
    return row


def fire_year(library) -> str:
    """Move the clock past the next yearly start and return the instance it started."""
    before = {i["id"] for i in library.instances(KEY)}
    library.advance(to=due(start_job(library)) + timedelta(minutes=1))
    (new,) = [i for i in library.instances(KEY) if i["id"] not in before]
    return new["id"]


def review(library, instance_id: str, atbilstiba: str, **overrides) -> None:
    values = {
        "parskatitie_pakalpojumi": "Sociālās palīdzības pieteikšana (DOK-SOC-AP-001); E-arhīvs (DOK-EARH-AP-002)",
        "gada_izmainas": "E-arhīvs pārcelts uz jaunu datu centru; 2 būtiski incidenti (INC-2027-0114, INC-2027-0392).",
        "audita_konstatejumi": "E-arhīva atjaunošanas plānā joprojām norādīts vecais datu centrs.",
        "atbilstiba": atbilstiba,
        "zinojuma_epasts": TURETAJI,
    }
    values.update(overrides)
    library.complete(instance_id, "Task_parskatit", "procesa-vaditajs", **values)


def run_test(library, instance_id: str, rezultats: str) -> None:
    library.complete(
        instance_id,
        "Task_testet",
        "l2",
        testa_veids="simulacija",
        faktiskais_atjaunosanas_laiks_stundas=5 if rezultats == "izdevies" else 30,
        testa_rezultats=rezultats,
        testa_konstatejumi="Atjaunošana jaunajā datu centrā." if rezultats == "izdevies" else "Nav piekļuves rezervei.",
    )


def test_ikgadeja_parskatisana_plani_atbilst(library):
    # Deployed on Monday 23 November 2026: the first review starts a year later.
    assert due(start_job(library)) == datetime(2027, 11, 23, 9, 0, tzinfo=RIGA)
    iid = fire_year(library)
    (started,) = events(library, iid, "instance_started")
    assert (started["activity_id"], started["data"]["trigger"]) == ("Event_reizi_gada", "timer")
    assert due(start_job(library)).astimezone(RIGA).date() == date(2028, 11, 23)

    variables = library.variables(iid)
    assert variables["atrisinasanas_laiks"] == "20 darba dienas"
    assert datetime.fromisoformat(variables["termins"]) == datetime(2027, 12, 21, 17, 0, tzinfo=RIGA)
    # The review is due at its deadline; the yearly review has no priority decision: Camunda's default.
    review_task = assert_due_at_termins(library, iid, "Task_parskatit")
    assert review_task["name"] == "Pārskatīt un auditēt nepārtrauktības plānus" and review_task["priority"] == 50
    review(library, iid, "atbilst", audita_konstatejumi="Plāni atbilst; kontaktu saraksti aktuāli.")
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="apstiprinat",
        pamatojums="Plāni atbilst pakalpojumu līmeņiem.",
        rezultats="2027. gada pārskatīšana: visi nepārtrauktības plāni atbilst; izmaiņas nav vajadzīgas.",
    )

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert "Task_aktualizet" not in completed and "Task_testet" not in completed
    assert completed[-4:] == ["Task_apstiprinat", "Gateway_lemums", "Task_pazinot", "Event_pabeigts"]
    (mail,) = library.mails(to=TURETAJI)
    assert mail["Subject"] == "Nepārtrauktības plānu ikgadējā pārskatīšana pabeigta"
    assert "2027. gada pārskatīšana: visi nepārtrauktības plāni atbilst; izmaiņas nav vajadzīgas." in body(mail)


def test_parskatisanas_kavejums_aktualizesana_testi_un_parstradasana(library):
    iid = fire_year(library)

    # Five working days: a reminder is recorded, the review stays with the process manager.
    reminder = timer_due(library, iid, "Timer_parskatit_atgadinajums")
    assert reminder == datetime(2027, 11, 30, 17, 0, tzinfo=RIGA)
    library.advance(to=reminder + timedelta(minutes=1))
    assert [e["activity_id"] for e in events(library, iid, "timer_fired")] == ["Timer_parskatit_atgadinajums"]
    assert {"Task_atgadinajums", "Event_atgadinajums"} <= set(library.activities(iid))
    library.task(iid, "Task_parskatit")

    # Twenty working days: the service owner gets the escalation and sets a new deadline.
    deadline = timer_due(library, iid, "Timer_parskatit_termins")
    assert deadline == datetime(2027, 12, 21, 17, 0, tzinfo=RIGA)
    library.advance(to=deadline + timedelta(minutes=1))
    assert [t["taskDefinitionKey"] for t in library.tasks(iid)] == ["Task_eskalacija"]
    # The owner has the review's reaction time (5 working days) from the escalation: 22, 23, 27, 28 and 29
    # December (24 December is a holiday, 25 and 26 a weekend).
    escalation = library.task(iid, "Task_eskalacija")
    assert task_due(escalation) == datetime(2027, 12, 29, 17, 0, tzinfo=RIGA) and escalation["priority"] == 50
    library.complete(
        iid,
        "Task_eskalacija",
        "pakalpojuma-turetajs",
        eskalacijas_komentars="Procesa vadītājs bija slims; pārskatīšanu turpina aizvietotājs.",
        papildu_laiks="10 darba dienas",
    )
    # From Tuesday 21 December 2027 17:01: ten working days, skipping 24-26 and 31 December and 1 January.
    assert datetime.fromisoformat(library.variables(iid)["termins"]) == datetime(2028, 1, 6, 17, 0, tzinfo=RIGA)

    review(library, iid, "neatbilst")
    library.complete(
        iid,
        "Task_aktualizet",
        "pakalpojuma-turetajs",
        aktualizacijas="E-arhīva plānā norādīts jaunais datu centrs un tā kontakti.",
        atjaunosanas_plans="1. Paziņot KAC. 2. Pārslēgt uz DC-2. 3. Pārbaudīt arhīva indeksus.",
    )
    run_test(library, iid, "neizdevies")
    library.complete(
        iid,
        "Task_uzlabot",
        "l2",
        uzlabojumi="Rezerves piekļuves tiesības piešķirtas dežurantiem.",
        atjaunosanas_plans="1. Paziņot KAC. 2. Dežurants pārslēdz uz DC-2. 3. Pārbaudīt arhīva indeksus.",
    )
    run_test(library, iid, "izdevies")
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="parstradat",
        pamatojums="Plānā nav norādīts, kā informēt pakalpojuma saņēmējus pārtraukuma laikā.",
    )
    library.complete(
        iid,
        "Task_aktualizet",
        "pakalpojuma-turetajs",
        aktualizacijas="Pievienota saņēmēju informēšana portālā un ar KAC starpniecību.",
        atjaunosanas_plans="1. Paziņot KAC un portālā. 2. Dežurants pārslēdz uz DC-2. 3. Pārbaudīt indeksus.",
    )
    run_test(library, iid, "izdevies")
    library.complete(
        iid,
        "Task_apstiprinat",
        "portfela-vaditajs",
        lemums="apstiprinat",
        pamatojums="Aktualizētie plāni atbilst.",
        rezultats="E-arhīva atjaunošanas plāns aktualizēts un testēts (atjaunošana 5 stundās).",
    )

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert completed.count("Task_parskatit") == 1  # the first one was interrupted by the deadline
    assert completed.count("Task_aktualizet") == 2
    assert completed.count("Task_testet") == 3
    assert completed[-3:] == ["Gateway_lemums", "Task_pazinot", "Event_pabeigts"]
    variables = library.variables(iid)
    assert (variables["atbilstiba"], variables["lemums"]) == ("neatbilst", "apstiprinat")
    (mail,) = library.mails(to=TURETAJI)
    assert "E-arhīva atjaunošanas plāns aktualizēts un testēts (atjaunošana 5 stundās)." in body(mail)
