"""CMDB (KVDB) verification and audit (kvdb_audits): configuration management's periodic check, started by its
timer start event every quarter (R/P3M). The executor (L2) verifies the CMDB against reality, the process
manager audits and records discrepancies; only when there are discrepancies is the CMDB corrected.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.library.conftest import RIGA, assert_due_at_termins, body, due, events, task_due, timer_due

KEY = "kvdb_audits"
TURETAJS = "tenis.ozols@iestade.example.lv"
NEATBILSTIBAS = "SRV-DZD-APP-02 nav KVDB; DOK-EARH-004 norakstīts, KVDB – ekspluatācijā; DB-DZD-001 cits turētājs."


def start_job(library) -> dict:
    (row,) = [j for j in library.engine.jobs.list(definition_key=KEY) if j["kind"] == "timer-start"]
    return row


def fire_quarter(library) -> str:
    """Move the clock past the next quarterly start and return the instance it started."""
    before = {i["id"] for i in library.instances(KEY)}
    library.advance(to=due(start_job(library)) + timedelta(minutes=1))
    (new,) = [i for i in library.instances(KEY) if i["id"] not in before]
    return new["id"]


def plan(library, instance_id: str, **overrides) -> None:
    values = {
        "audita_tverums": "Pakalpojumi “Dzīvesvietas deklarēšana” un “E-arhīvs”: informācijas sistēmas, serveri, DB",
        "izlases_apjoms": 40,
        "atrisinasanas_laiks": "10 darba dienas",
        "zinojuma_epasts": TURETAJS,
    }
    values.update(overrides)
    library.complete(instance_id, "Task_planot", "procesa-vaditajs", **values)


def test_ceturksna_audits_bez_neatbilstibam(library):
    # Deployed on Monday 23 November 2026 at 09:00: the first audit starts three months later.
    first = start_job(library)
    assert due(first) == datetime(2027, 2, 23, 9, 0, tzinfo=RIGA)
    assert library.instances(KEY) == []

    iid = fire_quarter(library)
    (started,) = events(library, iid, "instance_started")
    assert started["data"]["trigger"] == "timer"
    assert started["activity_id"] == "Event_ceturksnis"
    # The schedule goes on: the next quarter's job is waiting.
    assert due(start_job(library)).astimezone(RIGA).date() == date(2027, 5, 23)

    assert library.task(iid, "Task_planot")["name"] == "Noteikt audita tvērumu"
    plan(library, iid)
    assert datetime.fromisoformat(library.variables(iid)["termins"]) == datetime(2027, 3, 9, 17, 0, tzinfo=RIGA)
    # The verification is due at its deadline; the audit has no priority decision: Camunda's default.
    assert assert_due_at_termins(library, iid, "Task_verificet")["priority"] == 50
    library.complete(
        iid,
        "Task_verificet",
        "l2",
        verifikacijas_metode="automatiska_atklasana",
        parbauditas_kv=40,
        neatbilstibu_skaits=0,
    )
    library.complete(
        iid,
        "Task_auditet",
        "procesa-vaditajs",
        neatbilstibu_skaits=0,
        audita_atzinums="KVDB atbilst noteiktajai struktūrai un identifikatoru kārtībai.",
    )

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert "Task_labot" not in completed
    assert completed[-5:] == [
        "Task_auditet",
        "Gateway_neatbilstibas",
        "Task_zinojums",
        "Task_nosutit",
        "Event_pabeigts",
    ]
    variables = library.variables(iid)
    assert (variables["parbauditas_kv"], variables["neatbilstibu_skaits"]) == (40, 0)
    (mail,) = library.mails(to=TURETAJS)
    assert mail["Subject"] == "KVDB audita ziņojums"
    text = body(mail)
    assert "Pārbaudītās KV: 40" in text
    assert "Konstatētās neatbilstības: 0" in text
    assert "Atzinums: KVDB atbilst noteiktajai struktūrai un identifikatoru kārtībai." in text
    assert "Veiktie KVDB labojumi" not in text

    # Each firing starts a new instance.
    second = fire_quarter(library)
    assert second != iid
    library.task(second, "Task_planot")


def test_neatbilstibas_labo_lidz_parbaude_tos_pienem_ar_atgadinajumu_un_eskalaciju(library):
    iid = fire_quarter(library)
    plan(library, iid)

    # Five working days without a result: a reminder is recorded and the verification stays with L2.
    reminder = timer_due(library, iid, "Timer_verificet_atgadinajums")
    assert reminder == datetime(2027, 3, 2, 17, 0, tzinfo=RIGA)
    library.advance(to=reminder + timedelta(minutes=5))
    assert [e["activity_id"] for e in events(library, iid, "timer_fired")] == ["Timer_verificet_atgadinajums"]
    assert {"Task_atgadinajums", "Event_atgadinajums"} <= set(library.activities(iid))
    library.task(iid, "Task_verificet")

    # Ten working days: the service owner gets the escalation and sets a new deadline.
    deadline = timer_due(library, iid, "Timer_verificet_termins")
    library.advance(to=deadline + timedelta(minutes=5))
    assert [t["taskDefinitionKey"] for t in library.tasks(iid)] == ["Task_eskalacija"]
    # The audit has no reaction time: the escalation has no due date of its own.
    assert task_due(library.task(iid, "Task_eskalacija")) is None
    library.complete(
        iid,
        "Task_eskalacija",
        "pakalpojuma-turetajs",
        eskalacijas_komentars="Verifikācijai piesaistīts otrs sistēmu administrators.",
        atrisinasanas_laiks="5 darba dienas",
    )
    assert datetime.fromisoformat(library.variables(iid)["termins"]) == datetime(2027, 3, 16, 17, 0, tzinfo=RIGA)
    assert_due_at_termins(library, iid, "Task_verificet")

    library.complete(
        iid,
        "Task_verificet",
        "l2",
        verifikacijas_metode="inventarizacija",
        parbauditas_kv=40,
        neatbilstibu_skaits=3,
        neatbilstibas=NEATBILSTIBAS,
    )
    library.complete(
        iid,
        "Task_auditet",
        "procesa-vaditajs",
        neatbilstibu_skaits=3,
        neatbilstibas=NEATBILSTIBAS,
        audita_atzinums="KVDB daļēji atbilst: 3 neatbilstības jānovērš.",
    )
    # The correction is checked; the first one is not enough and goes back.
    library.complete(
        iid,
        "Task_labot",
        "l2",
        labojumi="SRV-DZD-APP-02 reģistrēts; DOK-EARH-004 statuss: norakstīta.",
        laboto_kv_skaits=2,
    )
    library.complete(
        iid,
        "Task_parbaudit",
        "procesa-vaditajs",
        labojumi_pienemti="ne",
        parbaudes_piezimes="DB-DZD-001 turētājs joprojām nepareizs.",
    )
    library.complete(
        iid,
        "Task_labot",
        "l2",
        labojumi="SRV-DZD-APP-02 reģistrēts; DOK-EARH-004 statuss: norakstīta; DB-DZD-001 turētājs: IT departaments.",
        laboto_kv_skaits=3,
    )
    library.complete(iid, "Task_parbaudit", "procesa-vaditajs", labojumi_pienemti="ja")

    assert library.state(iid) == "COMPLETED"
    completed = library.activities(iid)
    assert completed.count("Task_labot") == 2
    assert completed.count("Task_verificet") == 1  # the first one was interrupted by the deadline
    assert completed[-4:] == ["Gateway_labojumi", "Task_zinojums", "Task_nosutit", "Event_pabeigts"]
    variables = library.variables(iid)
    assert (variables["neatbilstibu_skaits"], variables["laboto_kv_skaits"]) == (3, 3)
    (mail,) = library.mails(to=TURETAJS)
    text = body(mail)
    assert "Konstatētās neatbilstības: 3" in text
    assert "Veiktie KVDB labojumi: SRV-DZD-APP-02 reģistrēts" in text
    assert "DB-DZD-001 turētājs: IT departaments." in text
