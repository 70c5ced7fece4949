"""Every page of the staff UI passes axe-core's WCAG 2.1 AA check and is saved as a screenshot, in Latvian and
(the inbox, a task and an instance) in English; forms work by keyboard alone and the skip link leads to the content.

What a page shows is set up over the REST API where the page itself is not under test (starting a request,
completing a step); every test has request numbers of its own.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine.variables import variables_to_typed
from tests.browser.support import (
    check_accessibility,
    open_inbox_task,
    reload_until,
    rest_call,
    screenshot,
    task_id_of,
)

INTAKE_KEY = "pieteikumu_parvaldiba"
REGISTRATION = {
    "pieteicejs": "Pēteris Liepa",
    "epasts": "peteris.liepa@example.lv",
    "valoda": "lv",
    "kanals": "talrunis",
    "temats": "Atkritumu izvešanas grafiks",
    "apraksts": "Kad šomēnes izvedīs šķiroto atkritumu konteinerus Liepu ielā?",
}
COMPLAINT_REGISTRATION = "Reģistrēt un klasificēt sūdzību vai ierosinājumu"


def checked(page: Page, name: str) -> None:
    """The page as it is now: axe-core finds no serious or critical violation; a screenshot is saved."""
    screenshot(page, name)
    check_accessibility(page, name)


def start_intake(ui_server, business_key: str, user: str | None = None) -> str:
    """A request intake started over the REST API (as a clerk); its instance id."""
    body = {"businessKey": business_key}
    path = f"/process-definition/key/{INTAKE_KEY}/start"
    instance = rest_call(ui_server.rest_url, user or ui_server.clerk, ui_server.password, "POST", path, body)
    return instance["id"]


def open_task(ui_server, business_key: str, task_definition_key: str, user: str | None = None) -> dict:
    """The open task of ``business_key`` at ``task_definition_key``, as the REST API lists it for ``user``."""
    path = f"/task?processInstanceBusinessKey={business_key}"
    tasks = rest_call(ui_server.rest_url, user or ui_server.clerk, ui_server.password, "GET", path)
    [task] = [t for t in tasks if t["taskDefinitionKey"] == task_definition_key]
    return task


def register(ui_server, business_key: str, user: str | None = None) -> str:
    """Start an intake and complete its registration over the REST API; the instance id."""
    instance_id = start_intake(ui_server, business_key, user)
    task = open_task(ui_server, business_key, "Task_registret", user)
    body = {"variables": variables_to_typed(REGISTRATION)}
    rest_call(
        ui_server.rest_url, user or ui_server.clerk, ui_server.password, "POST", f"/task/{task['id']}/complete", body
    )
    return instance_id


def submit_complaint(ui_server, business_key: str) -> None:
    """A complaint arriving by message (as from the web portal); its registration is the front office's task."""
    message = {"messageName": "sudziba_vai_ierosinajums", "businessKey": business_key, "resultEnabled": True}
    rest_call(ui_server.rest_url, ui_server.clerk, ui_server.password, "POST", "/message", message)


def in_english(page: Page) -> None:
    """Switch the signed-in user's UI to English if it is not already (the choice is stored with the user)."""
    if page.locator("html").get_attribute("lang") != "en":
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def wait_for_diagram(page: Page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-bpmn-diagram]')?.getAttribute('data-diagram-state') === 'ready'"
    )


# --- signing in --------------------------------------------------------------------------------------------


def test_sign_in(page, ui_server):
    page.goto(f"{ui_server.base_url}/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pieslēgties")
    checked(page, "sign-in")


def test_sign_in_with_an_error(page, ui_server):
    page.goto(f"{ui_server.base_url}/sign-in")
    page.get_by_label("Lietotājvārds").fill("nav-tada-lietotaja")
    page.get_by_label("Parole").fill("nepareiza")
    with page.expect_navigation():
        page.get_by_role("button", name="Pieslēgties").click()
    expect(page.get_by_role("alert")).to_have_text("Nepareizs lietotājvārds vai parole.")
    checked(page, "sign-in-error")


# --- the inbox ---------------------------------------------------------------------------------------------


def test_inbox(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9201")
    clerk = user_page(ui_server.clerk)
    expect(clerk.locator("#inbox-results tbody tr").first).to_be_visible()
    checked(clerk, "inbox")


def test_inbox_filtered(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9202")
    clerk = user_page(ui_server.clerk)
    clerk.get_by_label("Meklēt pēc pieteikuma numura vai temata").fill("PIE-2026-9202")
    clerk.get_by_label("Process").select_option(label="Pieteikumu pārvaldība")  # htmx updates the results
    clerk.get_by_label("Kārtot pēc").select_option(label="Prioritātes, augstākā vispirms")
    expect(clerk).to_have_url(re.compile(r"sort=priority"))
    expect(clerk.locator("#inbox-results .result-count")).to_have_text("1 uzdevums")
    expect(clerk.locator("#inbox-results tbody tr")).to_have_count(1)
    checked(clerk, "inbox-filtered")


def test_inbox_with_nothing_found(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/?q=NAV-TADA-PIETEIKUMA")
    expect(clerk.locator("#inbox-results .empty")).to_have_text(
        "Neviens uzdevums neatbilst. Mainiet filtrus vai skatiet citus skatus."
    )
    checked(clerk, "inbox-empty")


def test_inbox_in_english(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9203", ui_server.english_clerk)
    clerk = user_page(ui_server.english_clerk)
    in_english(clerk)
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(clerk.locator("#inbox-results").get_by_role("link", name="Register the request").first).to_be_visible()
    checked(clerk, "inbox-en")


# --- task pages --------------------------------------------------------------------------------------------


def test_task(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9204")
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9204", "Reģistrēt pieteikumu")
    checked(clerk, "task")


def test_task_with_errors(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9205")
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9205", "Reģistrēt pieteikumu")
    clerk.get_by_label("Pieteicēja e-pasts").fill("nav-adrese")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Ņemt darbā un pabeigt").click()
    expect(clerk.locator("#error-summary")).to_be_focused()
    expect(clerk.locator(".field-error")).to_have_count(5)
    checked(clerk, "task-errors")


def test_task_with_choices_and_a_conditional_field(user_page, ui_server):
    submit_complaint(ui_server, "PIE-2026-9206")
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9206", COMPLAINT_REGISTRATION)
    clerk.get_by_role("radio", name="Konkrētu pakalpojumu").check()
    expect(clerk.get_by_label("Pakalpojums", exact=True)).to_be_visible()
    clerk.get_by_role("checkbox").check()
    checked(clerk, "task-choices")


def test_task_claimed(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9207")
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9207", "Reģistrēt pieteikumu")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Ņemt darbā", exact=True).click()
    expect(clerk.get_by_role("status")).to_have_text("Jūs paņēmāt uzdevumu darbā; tas tagad ir jūsu uzdevumos.")
    expect(clerk.get_by_role("button", name="Atdot grupai")).to_be_visible()
    checked(clerk, "task-claimed")


def test_task_in_english(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9208", ui_server.english_clerk)
    clerk = user_page(ui_server.english_clerk)
    in_english(clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9208", "Register the request")
    expect(clerk.get_by_label("Requester's e-mail")).to_be_visible()  # the form's English catalogue
    clerk.get_by_label("Requester's e-mail").fill("not an address")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Claim and complete").click()
    expect(clerk.locator("#field-epasts-error")).to_have_text("Enter an e-mail address, such as name@example.lv.")
    checked(clerk, "task-errors-en")


def test_a_task_of_another_group_is_refused(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9209")
    task = open_task(ui_server, "PIE-2026-9209", "Task_registret")
    executor = user_page(ui_server.executor)
    response = executor.goto(f"{ui_server.base_url}/tasks/{task['id']}")
    assert response.status == 403
    expect(executor.get_by_role("heading", level=1)).to_have_text("Nav atļauts")
    expect(executor.get_by_role("alert")).not_to_be_empty()
    checked(executor, "error-forbidden")


def test_a_task_completed_meanwhile(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9210")
    clerk = user_page(ui_server.clerk)
    task_id = open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9210", "Reģistrēt pieteikumu")
    clerk.get_by_label("Temats").fill("Ievadīts, bet nesaglabāts")
    # Someone else (here the same clerk over the REST API) completes it first.
    body = {"variables": variables_to_typed(REGISTRATION)}
    rest_call(ui_server.rest_url, ui_server.clerk, ui_server.password, "POST", f"/task/{task_id}/complete", body)
    with clerk.expect_response(re.compile(r"/complete$")) as answer:
        clerk.get_by_role("button", name="Ņemt darbā un pabeigt").click()
    assert answer.value.status == 409
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Uzdevums vairs nav atvērts")
    expect(clerk.get_by_role("alert")).to_contain_text(f"{ui_server.clerk} pabeidza šo uzdevumu")
    checked(clerk, "task-gone")


# --- starting a process --------------------------------------------------------------------------------------


def test_start_list(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/start/")
    expect(clerk.get_by_role("link", name="Pieteikumu pārvaldība", exact=True)).to_be_visible()
    checked(clerk, "start")


def test_start_form(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/start/{INTAKE_KEY}")
    expect(clerk.get_by_label("Pieteikuma numurs")).to_have_value(re.compile(r"^PIE-\d{4}-\d{4}$"))
    checked(clerk, "start-form")


def test_start_form_with_an_error(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/start/{INTAKE_KEY}")
    clerk.get_by_label("Pieteikuma numurs").fill("")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Sākt", exact=True).click()
    expect(clerk.locator("#businessKey-error")).to_have_text("Aizpildiet šo lauku.")
    checked(clerk, "start-form-errors")


# --- the instance page ---------------------------------------------------------------------------------------


def test_instance(user_page, ui_server):
    instance_id = register(ui_server, "PIE-2026-9211")
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/instances/{instance_id}")
    # The registration e-mail is a job: the classification follows it.
    reload_until(clerk, clerk.get_by_role("link", name="Klasificēt pieteikumu"), "the classification task")
    wait_for_diagram(clerk)
    expect(clerk.locator('.djs-element.plusma-active[data-element-id="Task_klasificet"]')).to_have_count(1)
    expect(clerk.locator(".badge--state-active")).to_have_text("Norisinās")
    checked(clerk, "instance")


def test_instance_in_english(user_page, ui_server):
    instance_id = register(ui_server, "PIE-2026-9212", ui_server.english_clerk)
    clerk = user_page(ui_server.english_clerk)
    clerk.goto(f"{ui_server.base_url}/instances/{instance_id}")
    in_english(clerk)
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Request intake: PIE-2026-9212")
    reload_until(clerk, clerk.get_by_role("link", name="Classify the request"), "the classification task")
    wait_for_diagram(clerk)
    checked(clerk, "instance-en")


# --- the keyboard --------------------------------------------------------------------------------------------


def tab_to(page: Page, target: str, *, most: int = 40) -> None:
    """Press Tab until the element matching ``target`` has the focus (failing after ``most`` presses)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", target):
            return
    pytest.fail(f"Tab did not reach {target} in {most} presses", pytrace=False)


def focused(page: Page) -> str:
    return page.evaluate("() => document.activeElement.id || document.activeElement.tagName")


def test_a_registration_form_is_filled_and_submitted_by_keyboard_alone(user_page, ui_server):
    submit_complaint(ui_server, "PIE-2026-9213")
    clerk = user_page(ui_server.clerk)
    task_url = f"{ui_server.base_url}/tasks/" + open_task(ui_server, "PIE-2026-9213", "Task_registret")["id"]
    clerk.goto(task_url)
    expect(clerk.get_by_role("heading", level=1)).to_have_text(COMPLAINT_REGISTRATION)

    tab_to(clerk, "#field-pieteicejs")
    clerk.keyboard.type("Inese Kalēja")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-epasts"
    clerk.keyboard.type("inese.kaleja@example.lv")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-valoda"  # Latvian is chosen already
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-kanals"
    clerk.keyboard.type("Ta")  # a closed select takes the typed start of an option
    expect(clerk.locator("#field-kanals")).to_have_value("talrunis")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-temats"
    clerk.keyboard.type("Ilgā gaidīšana tālrunī")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-apraksts"
    clerk.keyboard.type("Zvanīju trīs reizes, katru reizi gaidīju vairāk nekā 20 minūtes.")

    # A radio group is one Tab stop; the arrow keys choose within it.
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-veids-1"
    clerk.keyboard.press("ArrowDown")
    clerk.keyboard.press("ArrowUp")
    expect(clerk.get_by_role("radio", name="Sūdzība", exact=True)).to_be_checked()
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-norada_uz_notikusu_faktu"
    clerk.keyboard.press("Space")
    expect(clerk.get_by_role("checkbox")).to_be_checked()
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-attiecas_uz-1"
    clerk.keyboard.press("ArrowDown")
    clerk.keyboard.press("ArrowUp")
    expect(clerk.get_by_role("radio", name="Konkrētu pakalpojumu")).to_be_checked()
    # The service field appears for this choice, and is next in the Tab order.
    service = clerk.get_by_label("Pakalpojums", exact=True)
    expect(service).to_be_visible()
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-pakalpojums"
    clerk.keyboard.type("Klientu apkalpošana pa tālruni")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-prasiba"
    clerk.keyboard.type("Atb")
    expect(clerk.locator("#field-prasiba")).to_have_value("atbilde")
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-ietekme-1"
    clerk.keyboard.press("ArrowDown")  # from the first option to the second: Vidēja
    clerk.keyboard.press("Tab")
    assert focused(clerk) == "field-steidzamiba-1"
    clerk.keyboard.press("ArrowDown")
    clerk.keyboard.press("ArrowDown")  # Zema
    expect(clerk.get_by_role("radiogroup", name="Ietekme").get_by_role("radio", name="Vidēja")).to_be_checked()
    expect(clerk.get_by_role("radiogroup", name="Steidzamība").get_by_role("radio", name="Zema")).to_be_checked()

    clerk.keyboard.press("Tab")
    expect(clerk.get_by_role("button", name="Ņemt darbā un pabeigt")).to_be_focused()
    with clerk.expect_navigation():
        clerk.keyboard.press("Enter")
    done = f"Uzdevums “{COMPLAINT_REGISTRATION}” pabeigts (PIE-2026-9213)."
    expect(clerk.get_by_role("status").filter(has_text=done)).to_be_visible()
    clerk.goto(task_url)
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Uzdevums vairs nav atvērts")


def test_the_skip_link_is_first_and_moves_the_focus_to_the_content(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    clerk.keyboard.press("Tab")
    skip = clerk.get_by_role("link", name="Pāriet uz saturu")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    clerk.keyboard.press("Enter")
    expect(clerk.locator("main#main")).to_be_focused()
    clerk.keyboard.press("Tab")
    # The next stop is the content's first link, not the header's.
    expect(clerk.get_by_role("navigation", name="Uzdevumu skati").get_by_role("link").first).to_be_focused()


def test_the_task_page_needs_no_mouse_from_the_inbox(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9214")
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/?q=PIE-2026-9214")
    tab_to(clerk, "#inbox-results a")
    with clerk.expect_navigation():
        clerk.keyboard.press("Enter")
    task_id_of(clerk)
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Reģistrēt pieteikumu")


# --- defects found here once, kept as tests ----------------------------------------------------------------


def test_the_timeline_names_every_step_by_its_name(user_page, ui_server):
    instance_id = register(ui_server, "PIE-2026-9215")
    clerk = user_page(ui_server.clerk)
    clerk.goto(f"{ui_server.base_url}/instances/{instance_id}")
    reload_until(clerk, clerk.get_by_role("link", name="Klasificēt pieteikumu"), "the classification task")
    entries = clerk.locator("ol.timeline .timeline__what").all_inner_texts()
    assert "Nosūtīts: Paziņot pieteikuma numuru" in entries, entries
    assert not [entry for entry in entries if "Activity_" in entry], entries


def test_an_invalid_text_field_has_the_error_border_as_an_invalid_select_has(user_page, ui_server):
    start_intake(ui_server, "PIE-2026-9216")
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9216", "Reģistrēt pieteikumu")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Ņemt darbā un pabeigt").click()
    expect(clerk.locator("#error-summary")).to_be_focused()

    def border(selector: str) -> str:
        style = "(element) => getComputedStyle(element).borderTopColor + ' ' + getComputedStyle(element).borderTopWidth"
        return clerk.eval_on_selector(selector, style)

    assert border("#field-kanals") == border("#field-apraksts")  # the select and the textarea agree
    assert border("#field-pieteicejs") == border("#field-kanals")
