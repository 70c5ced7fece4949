"""The task page: the form rendered from forms/, server-side validation that keeps what was typed,
claim, unclaim, complete, and a task someone else completed meanwhile. Uses the shipped request intake."""

from __future__ import annotations

import re

import pytest

from engine.services.tasks import TaskQuery
from tests.ui.conftest import CLERK, EXECUTOR

REGISTRATION = {
    "pieteicejs": "Jānis Bērziņš",
    "epasts": "janis.berzins@example.lv",
    "valoda": "lv",
    "kanals": "portals",
    "temats": "Izziņa par deklarēto dzīvesvietu",
    "apraksts": "Lūdzu izsniegt izziņu.",
}


def start_intake(client, business_key: str) -> str:
    """Start the intake from the start page; the clerk lands on the registration task: its id."""
    client.get("/start/pieteikumu_parvaldiba")
    response = client.post("/start/pieteikumu_parvaldiba", {"businessKey": business_key})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/tasks/"), location
    client.get(location)
    return location.removeprefix("/tasks/")


def open_task(engine, user: str, business_key: str, key: str) -> dict:
    principal = engine.users.principal(user)
    [task] = engine.tasks.list(principal, TaskQuery(business_key=business_key, task_definition_key=key))
    return task


def test_the_form_renders_every_field_with_its_label(browser_for):
    client = browser_for(CLERK)
    task_id = start_intake(client, "PIE-2026-0001")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<h1>Reģistrēt pieteikumu</h1>" in page
    assert "<h2>Pieteikuma reģistrēšana</h2>" in page, "the text component's Markdown"
    for key in REGISTRATION:
        assert f'<label for="field-{key}">' in page, key
        assert f'name="{key}"' in page
    assert 'type="email"' in page and '<option value="lv" selected>' in page, "defaultValue preselected"
    assert "novalidate" in page, "the server validates; the browser's own checks are off"


def test_invalid_input_shows_errors_next_to_the_fields_and_keeps_what_was_typed(browser_for, ui_engine):
    client = browser_for(CLERK)
    task_id = start_intake(client, "PIE-2026-0002")
    typed = {**REGISTRATION, "pieteicejs": "   ", "epasts": "janis(at)example", "kanals": "golubu-pasts"}
    response = client.post(f"/tasks/{task_id}/complete", typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<div class="error-summary" role="alert"' in page and "3 laukos jālabo ievadītais" in page
    assert re.search(r'id="field-pieteicejs-error">Aizpildiet šo lauku', page)
    assert re.search(r'id="field-epasts-error">Ievadiet e-pasta adresi', page)
    assert re.search(r'id="field-kanals-error">Izvēlieties kādu no piedāvātajām iespējām', page)
    assert 'aria-describedby="field-epasts-description field-epasts-error" aria-invalid="true"' in page
    assert 'value="janis(at)example"' in page and 'value="Izziņa par deklarēto dzīvesvietu"' in page
    assert "Lūdzu izsniegt izziņu.</textarea>" in page
    # Nothing was stored: the task is still open and unclaimed.
    assert open_task(ui_engine, CLERK, "PIE-2026-0002", "Task_registret")["assignee"] is None


def test_too_long_text_and_a_forged_disabled_field_are_handled(browser_for, ui_engine):
    client = browser_for(CLERK)
    task_id = start_intake(client, "PIE-2026-0003")
    response = client.post(f"/tasks/{task_id}/complete", {**REGISTRATION, "temats": "x" * 201})
    assert response.status_code == 422
    assert "Ievadiet ne vairāk kā 200 rakstzīmes." in response.get_data(as_text=True)
    assert client.post(f"/tasks/{task_id}/complete", REGISTRATION).status_code == 302

    # Classification shows the subject disabled: a forged value for it is ignored.
    classify = open_task(ui_engine, CLERK, "PIE-2026-0003", "Task_klasificet")
    page = client.get(f"/tasks/{classify['id']}").get_data(as_text=True)
    assert re.search(r'name="temats" value="Izziņa par deklarēto dzīvesvietu"[^>]*disabled', page)
    response = client.post(
        f"/tasks/{classify['id']}/complete",
        {
            "temats": "Pārrakstīts temats",
            "pieteikuma_veids": "informacijas_pieprasijums",
            "ietekme": "zema",
            "steidzamiba": "zema",
            "risina_kac": "true",
        },
    )
    assert response.status_code == 302
    variables = ui_engine.instances.variables(ui_engine.users.principal("admin"), classify["instance_id"])
    assert variables["temats"] == "Izziņa par deklarēto dzīvesvietu"
    assert variables["risina_kac"] is True and variables["ietekme"] == "zema"


def test_claim_unclaim_and_complete(browser_for, ui_engine):
    clerk = browser_for(CLERK)
    task_id = start_intake(clerk, "PIE-2026-0004")
    response = clerk.post(f"/tasks/{task_id}/claim")
    assert response.status_code == 302
    page = clerk.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Jūs paņēmāt uzdevumu darbā" in page and "Atdot grupai" in page and "Pabeigt uzdevumu" in page
    assert ui_engine.tasks.get(ui_engine.users.principal(CLERK), task_id)["assignee"] == CLERK

    colleague = browser_for("karlis")
    page = colleague.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Šo uzdevumu pilda klara." in page and "/complete" not in page
    response = colleague.post(f"/tasks/{task_id}/complete", REGISTRATION)
    assert response.status_code == 302
    assert "pabeigt to var tikai šis lietotājs" in colleague.get(response.headers["Location"]).get_data(as_text=True)

    clerk.get(f"/tasks/{task_id}")
    clerk.post(f"/tasks/{task_id}/unclaim")
    assert ui_engine.tasks.get(ui_engine.users.principal(CLERK), task_id)["assignee"] is None
    clerk.get(f"/tasks/{task_id}")
    response = clerk.post(f"/tasks/{task_id}/complete", REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Uzdevums “Reģistrēt pieteikumu” pabeigts (PIE-2026-0004)" in clerk.get("/").get_data(as_text=True)


def test_someone_else_completing_the_task_meanwhile_is_said_clearly(browser_for):
    clerk = browser_for(CLERK)
    task_id = start_intake(clerk, "PIE-2026-0005")
    colleague = browser_for("karlis")
    colleague.get(f"/tasks/{task_id}")
    assert colleague.post(f"/tasks/{task_id}/complete", REGISTRATION).status_code == 302

    response = clerk.post(f"/tasks/{task_id}/complete", {**REGISTRATION, "apraksts": "Mans teksts"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "karlis pabeidza šo uzdevumu" in page and "Šeit ievadītais netika saglabāts." in page
    assert clerk.get(f"/tasks/{task_id}").status_code == 409


def test_a_task_of_another_group_is_not_shown(browser_for):
    clerk = browser_for(CLERK)
    task_id = start_intake(clerk, "PIE-2026-0006")
    executor = browser_for(EXECUTOR)
    response = executor.get(f"/tasks/{task_id}")
    assert response.status_code == 403 and "Nav atļauts" in response.get_data(as_text=True)
    assert executor.get("/tasks/no-such-task").status_code == 404


@pytest.mark.parametrize(
    ("decision", "shown", "hidden"),
    [
        ("pieskirt", "sniegsanas_veids", "precizejamais"),
        ("precizet", "precizejamais", "sniegsanas_veids"),
    ],
)
def test_conditional_fields_follow_what_is_chosen(browser_for, ui_engine, decision, shown, hidden):
    """A field hidden by its condition is neither shown nor required; the htmx refresh shows the right ones."""
    clerk = browser_for(CLERK)
    key = f"PIE-2026-01{len(decision)}"
    intake_task = start_intake(clerk, key)
    clerk.post(f"/tasks/{intake_task}/complete", REGISTRATION)
    classify = open_task(ui_engine, CLERK, key, "Task_klasificet")
    clerk.get(f"/tasks/{classify['id']}")
    clerk.post(
        f"/tasks/{classify['id']}/complete",
        {"pieteikuma_veids": "pakalpojuma_pieprasijums", "ietekme": "zema", "steidzamiba": "videja"},
    )
    register = open_task(ui_engine, CLERK, key, "Task_registret")
    form_page = clerk.get(f"/tasks/{register['id']}").get_data(as_text=True)
    assert "pieprasijuma_veids" in form_page
    clerk.post(
        f"/tasks/{register['id']}/complete",
        {
            **REGISTRATION,
            "pakalpojums": "Izziņas",
            "pieprasijuma_veids": "standarta",
            "ietekme": "zema",
            "steidzamiba": "videja",
        },
    )
    evaluate = open_task(ui_engine, EXECUTOR, key, "Task_izvertet")
    executor = browser_for(EXECUTOR)
    page = executor.get(f"/tasks/{evaluate['id']}").get_data(as_text=True)
    assert "data-conditions-url" in page
    assert 'data-field-id="Field_lemums">' in page, "shown"
    for field_id in ("Field_sniegsanas_veids", "Field_precizejamais"):
        assert f'data-field-id="{field_id}" hidden>' in page, "hidden until chosen"

    refreshed = executor.post(f"/tasks/{evaluate['id']}/fields", {"lemums": decision}).get_json()
    assert f"Field_{hidden}" in refreshed["hidden"] and f"Field_{shown}" not in refreshed["hidden"]

    executor.get(f"/tasks/{evaluate['id']}")
    response = executor.post(f"/tasks/{evaluate['id']}/complete", {"lemums": decision, hidden: "ignored"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="field-{shown}-error"' in page and f'id="field-{hidden}-error"' not in page
    assert 'id="field-pamatojums-error"' in page
