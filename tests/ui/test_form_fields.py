"""Every form-js field type the shipped forms use, rendered and validated on the task page, with a
test form (tests/fixtures/ui) that has them all."""

from __future__ import annotations

import re

import pytest

from engine.identity import SYSTEM
from engine.services.tasks import TaskQuery
from tests.conftest import FIXTURES
from tests.ui.conftest import CLERK

FIXTURE = FIXTURES / "ui"
GOOD = [
    ("kods", "ABC-12"),
    ("piezimes", "Pirmā rinda\r\nOtrā rinda"),
    ("stundas", "2,5"),
    ("ietekme", "zema"),
    ("lemums", "ja"),
    ("steidzami", "true"),
    ("kanali", "portals"),
    ("kanali", "epasts"),
    ("datums", "2026-12-15"),
]


@pytest.fixture
def form_task(ui_engine) -> str:
    files = {name: (FIXTURE / name).read_bytes() for name in ("visi_lauki.bpmn", "visi-lauki.form")}
    ui_engine.deployments.deploy(files, principal=SYSTEM, name="visi-lauki")
    instance = ui_engine.instances.start(
        ui_engine.users.principal(CLERK), key="visi_lauki", business_key="VIS-1", variables={"numurs": "VIS-1"}
    )
    [task] = ui_engine.tasks.list(ui_engine.users.principal(CLERK), TaskQuery(process_instance_id=instance["id"]))
    return task["id"]


def test_every_field_type_renders_accessibly(browser_for, form_task):
    page = browser_for(CLERK).get(f"/tasks/{form_task}").get_data(as_text=True)
    assert "<h2>Visi lauki</h2>" in page and "<strong>form-js</strong>" in page, "text: Markdown"
    assert '<input id="field-kods" name="kods" value=""' in page and 'maxlength="6"' in page
    assert re.search(
        r'<textarea id="field-piezimes" name="piezimes" rows="4" aria-describedby="field-piezimes-description"', page
    )
    assert 'id="field-stundas" name="stundas" value=""\ntype="text" inputmode="decimal"' in page
    assert '<select id="field-ietekme" name="ietekme"' in page
    assert re.search(r'<fieldset class="field choices" id="field-lemums"[^>]*role="radiogroup"', page)
    assert '<legend>Lēmums<span class="required" aria-hidden="true"> *</span></legend>' in page
    assert 'type="radio" id="field-lemums-1" name="lemums" value="ja"' in page
    assert 'data-field-id="Field_pamatojums" hidden>' in page, "hidden until 'ne' is chosen"
    assert '<input type="checkbox" id="field-steidzami" name="steidzami" value="true"' in page
    assert 'type="checkbox" id="field-kanali-3" name="kanali" value="portals"' in page
    assert '<label for="field-datums">Izpildes datums' in page and 'type="date"' in page
    assert re.search(r'name="numurs" value="VIS-1"[^>]*disabled', page)
    for label_for in re.findall(r'<label for="([^"]+)"', page):
        assert f'id="{label_for}"' in page, f"label for a missing input {label_for}"


def test_valid_values_are_stored_typed(browser_for, ui_engine, form_task):
    client = browser_for(CLERK)
    client.get(f"/tasks/{form_task}")
    response = client.post(f"/tasks/{form_task}/complete", GOOD + [("numurs", "FORGED")])
    assert response.status_code == 302, response.get_data(as_text=True)
    [next_task] = ui_engine.tasks.list(ui_engine.users.principal(CLERK), TaskQuery(business_key="VIS-1"))
    data = ui_engine.tasks.task_data(ui_engine.users.principal(CLERK), next_task["id"])
    assert data["kods"] == "ABC-12" and data["piezimes"] == "Pirmā rinda\nOtrā rinda"
    assert data["stundas"] == 2.5 and data["steidzami"] is True
    assert data["kanali"] == ["epasts", "portals"], "in the options' order"
    assert data["datums"] == "2026-12-15" and data["numurs"] == "VIS-1" and data["lemums"] == "ja"
    # The next task's form is prefilled from what was stored.
    page = client.get(f"/tasks/{next_task['id']}").get_data(as_text=True)
    assert 'value="ABC-12"' in page and 'value="2.5"' in page
    assert re.search(r'value="portals"\s*checked', page) and re.search(r'value="2026-12-15"', page)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kods", "abc-12", "Vērtībai nav vajadzīgā formāta."),
        ("kods", "AB-1", "Ievadiet vismaz 6 rakstzīmes."),
        ("stundas", "divas", "Ievadiet skaitli, piemēram, 12 vai 12,5."),
        ("stundas", "2,55", "Aiz komata ne vairāk kā 1 cipari."),
        ("stundas", "101", "Ievadiet 100 vai mazāk."),
        ("stundas", "-1", "Ievadiet 0 vai vairāk."),
        ("ietekme", "vidēja", "Izvēlieties kādu no piedāvātajām iespējām."),
        ("lemums", "varbūt", "Izvēlieties kādu no piedāvātajām iespējām."),
        ("kanali", "pasts", "Izvēlieties kādu no piedāvātajām iespējām."),
        ("datums", "2026-02-30", "Ievadiet datumu, piemēram, 2026-12-01."),
        ("datums", "", "Aizpildiet šo lauku."),
    ],
)
def test_each_bad_value_is_named_next_to_its_field_and_nothing_is_lost(
    browser_for, ui_engine, form_task, field, value, message
):
    client = browser_for(CLERK)
    client.get(f"/tasks/{form_task}")
    submitted = [(k, v) for k, v in GOOD if k != field] + [(field, value)]
    response = client.post(f"/tasks/{form_task}/complete", submitted)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="field-{field}-error">(.*?)</p>', page)
    assert error and message in error.group(1), (field, value, error and error.group(1))
    assert page.count('class="field-error"') == 1, "only the bad field has an error"
    assert 'value="ABC-12"' in page or field == "kods"
    assert ui_engine.tasks.get(ui_engine.users.principal(CLERK), form_task)["assignee"] is None, "nothing stored"


def test_a_field_its_condition_shows_becomes_required(browser_for, form_task):
    client = browser_for(CLERK)
    client.get(f"/tasks/{form_task}")
    rejected = [(k, v) for k, v in GOOD if k != "lemums"] + [("lemums", "ne")]
    page = client.post(f"/tasks/{form_task}/complete", rejected).get_data(as_text=True)
    assert 'id="field-pamatojums-error">Aizpildiet šo lauku.' in page
    assert 'data-field-id="Field_pamatojums">' in page, "shown now"


def test_the_form_in_english(browser_for, form_task):
    client = browser_for(CLERK)
    client.get(f"/tasks/{form_task}")
    client.post("/language", {"language": "en"})
    client.get(f"/tasks/{form_task}")
    page = client.post(f"/tasks/{form_task}/complete", [("kods", "x")]).get_data(as_text=True)
    assert "Fill in this field." in page and "Enter at least 6 characters." in page
