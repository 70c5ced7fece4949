"""The staff journey of issue 5 in a real browser: a clerk registers a request, a level-2 executor fulfils it,
the clerk closes it and sees it closed. Plus the form errors, a wrong password, sign-out and the language switch.

People work as people do: they sign in through the form, click links and buttons, type into fields found by
their labels, choose options. The server's own job scheduler sends the e-mails (to the session's recording
SMTP server) and moves each instance on, so every next task is waited for by reloading the inbox, never by
sleeping.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.support import (
    choose_radio,
    open_inbox_task,
    reload_until,
)

INTAKE = "Pieteikumu pārvaldība"
REGISTER = "Reģistrēt pieteikumu"
CLASSIFY = "Klasificēt pieteikumu"
REGISTER_SERVICE_REQUEST = "Reģistrēt un klasificēt pakalpojuma pieprasījumu"
EVALUATE = "Izvērtēt atbilstību un pamatotību, pieņemt lēmumu"
DELIVER = "Sniegt pakalpojumu atbilstoši pakalpojuma līmenim"
CLOSE = "Slēgt pieteikumu"

REQUESTER = "Marta Kalniņa"
REQUESTER_EMAIL = "marta.kalnina.9101@example.lv"
SUBJECT = "Izziņa par deklarēto dzīvesvietu bankai"
RESULT = "Izziņa Nr. 12-7/9101 parakstīta ar drošu e-parakstu un nosūtīta uz e-pastu."


def complete_button(page: Page):  # noqa: ANN201 - a Locator
    return page.locator("form.task-form").get_by_role("button")


def submit_task(page: Page) -> None:
    """Complete the open task with its button; the inbox confirms it."""
    name = page.get_by_role("heading", level=1).inner_text()
    with page.expect_navigation():
        complete_button(page).click()
    expect(page.get_by_role("status").filter(has_text=f"Uzdevums “{name}” pabeigts")).to_be_visible()


def claim(page: Page, user: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Ņemt darbā", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Jūs paņēmāt uzdevumu darbā; tas tagad ir jūsu uzdevumos.")
    expect(page.locator(".facts dt:text-is('Izpildītājs') + dd")).to_have_text(user)
    expect(complete_button(page)).to_have_text("Pabeigt uzdevumu")


def test_a_clerk_registers_a_request_an_executor_fulfils_it_and_the_clerk_closes_it(user_page, ui_server):
    business_key = "PIE-2026-9101"
    clerk = user_page(ui_server.clerk)

    # The clerk starts the request intake from the start page with her own request number.
    clerk.get_by_role("navigation", name="Galvenā navigācija").get_by_role("link", name="Sākt procesu").click()
    with clerk.expect_navigation():
        clerk.get_by_role("link", name=INTAKE, exact=True).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"Sākt: {INTAKE}")
    number = clerk.get_by_label("Pieteikuma numurs")
    expect(number).to_have_value(re.compile(r"^PIE-2026-\d{4}$"))  # a number is suggested
    number.fill(business_key)
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Sākt", exact=True).click()

    # She lands on the registration and registers the request.
    expect(clerk.get_by_role("heading", level=1)).to_have_text(REGISTER)
    expect(clerk.locator(".facts")).to_contain_text(business_key)
    expect(complete_button(clerk)).to_have_text("Ņemt darbā un pabeigt")
    clerk.get_by_label("Pieteicējs (vārds, uzvārds vai iestāde)").fill(REQUESTER)
    clerk.get_by_label("Pieteicēja e-pasts").fill(REQUESTER_EMAIL)
    expect(clerk.get_by_label("Saziņas valoda")).to_have_value("lv")
    clerk.get_by_label("Saņemšanas kanāls").select_option(label="Klātienē")
    clerk.get_by_label("Temats").fill(SUBJECT)
    clerk.get_by_label("Apraksts").fill("Bankai vajadzīga izziņa par deklarēto dzīvesvietu kredīta pieteikumam.")
    submit_task(clerk)

    # Once the number is e-mailed to the requester, the classification is hers: a service request that
    # the front office cannot solve itself.
    open_inbox_task(clerk, ui_server.base_url, business_key, CLASSIFY)
    expect(clerk.get_by_label("Temats")).to_have_value(SUBJECT)
    clerk.get_by_label("Pieteikuma veids").select_option(label="Pakalpojuma pieprasījums")
    clerk.get_by_label("Pakalpojums vai pakalpojumu grupa").fill("Izziņu izsniegšana")
    choose_radio(clerk, "Ietekme", "Zema")
    choose_radio(clerk, "Steidzamība", "Vidēja")
    expect(clerk.get_by_role("checkbox")).not_to_be_checked()
    submit_task(clerk)

    # The intake hands the request to service request fulfilment, whose registration is the front office's too:
    # what the intake knew is filled in already.
    open_inbox_task(clerk, ui_server.base_url, business_key, REGISTER_SERVICE_REQUEST)
    expect(clerk.get_by_role("textbox", name="Pieprasītājs", exact=True)).to_have_value(REQUESTER)
    expect(clerk.get_by_label("Pieprasītāja e-pasts")).to_have_value(REQUESTER_EMAIL)
    expect(clerk.get_by_role("textbox", name="Pakalpojums", exact=True)).to_have_value("Izziņu izsniegšana")
    expect(clerk.get_by_label("Ietekme")).to_have_value("zema")
    choose_radio(clerk, "Pieprasījuma veids", "Standarta (rutīnas) pieprasījums")
    submit_task(clerk)

    # The executor finds the request by its number in her inbox, claims the evaluation and grants the service.
    executor = user_page(ui_server.executor)
    search = executor.get_by_label("Meklēt pēc pieteikuma numura vai temata")
    search.press_sequentially(business_key)  # htmx updates the results as she types
    expect(executor).to_have_url(re.compile(rf"[?&]q={business_key}(&|$)"))  # the search is in the address
    evaluation = reload_until(
        executor, executor.locator("#inbox-results").get_by_role("link", name=EVALUATE), "the evaluation"
    )
    row = executor.locator("#inbox-results tbody tr").filter(has=executor.get_by_role("link", name=EVALUATE))
    expect(row).to_contain_text(business_key)
    expect(row).to_contain_text(SUBJECT)
    expect(row).to_contain_text("Zema")  # priority 4
    evaluation.click()
    expect(executor.get_by_role("heading", level=1)).to_have_text(EVALUATE)
    claim(executor, ui_server.executor)
    # The fields of a decision to grant appear only once it is chosen (htmx asks the server).
    expect(executor.get_by_label("Pakalpojuma sniegšanas veids")).to_be_hidden()
    choose_radio(executor, "Lēmums", "Sniegt pakalpojumu")
    executor.get_by_label("Pakalpojuma sniegšanas veids").select_option(label="Elektroniski (e-pasts, portāls)")
    executor.get_by_label("Lēmuma pamatojums").fill("Pieprasītājs ir deklarējis dzīvesvietu novadā.")
    executor.get_by_label("Informācija pieprasītājam").fill("Izziņu nosūtīsim uz Jūsu e-pastu.")
    submit_task(executor)

    # Once the requester is told, the delivery is the executor's group's: she claims and delivers it.
    open_inbox_task(executor, ui_server.base_url, business_key, DELIVER)
    claim(executor, ui_server.executor)
    choose_radio(executor, "Vai jāiesaista partneris (3. līmenis)?", "Nē — pakalpojums sniegts")
    executor.get_by_label("Veiktās darbības").fill("Pārbaudīti Iedzīvotāju reģistra dati, sagatavota izziņa.")
    executor.get_by_label("Rezultāts (tiek nosūtīts pieprasītājam)").fill(RESULT)
    choose_radio(executor, "Izpildes statuss", "Izpildīts pilnībā")
    executor.get_by_label("Patērētais laiks (stundas)").fill("0,5")
    submit_task(executor)

    # The result goes back to the intake, which tells the requester; the clerk closes the request.
    open_inbox_task(clerk, ui_server.base_url, business_key, CLOSE)
    expect(clerk.get_by_label("Rezultāts")).to_have_value(RESULT)
    clerk.get_by_label("Pieteicēja apmierinātība").select_option(label="5 – ļoti apmierināts")
    clerk.get_by_label("Noslēguma ziņa pieteicējam").fill("Paldies, ka izmantojāt mūsu pakalpojumus!")
    instance_link = clerk.locator(".facts").get_by_role("link", name=business_key)
    instance_path = instance_link.get_attribute("href")
    submit_task(clerk)

    # On the instance page she sees the request closed, once the closing e-mail is sent.
    clerk.goto(ui_server.base_url + instance_path)
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"{INTAKE}: {business_key}")
    reload_until(clerk, clerk.locator(".badge--state-completed"), "the request closed")
    expect(clerk.locator(".facts")).to_contain_text("Pabeigts")
    timeline = clerk.locator("ol.timeline")
    for entry in (
        "Process sākts",
        f"Uzdevums pabeigts: {REGISTER}",
        f"Uzdevums pabeigts: {CLASSIFY}",
        "Ziņojums nosūtīts",
        "Ziņojums saņemts",
        f"Uzdevums pabeigts: {CLOSE}",
        "Process pabeigts",
    ):
        expect(timeline.locator("li").filter(has_text=entry).first).to_be_visible()
    closed = timeline.locator("li").filter(has_text=f"Uzdevums pabeigts: {CLOSE}")
    expect(closed.locator(".timeline__who")).to_have_text(ui_server.clerk)
    clerk.wait_for_function(
        "() => document.querySelector('[data-bpmn-diagram]')?.getAttribute('data-diagram-state') === 'ready'"
    )
    expect(clerk.locator('.djs-element.plusma-completed[data-element-id="EndEvent_slegts"]')).to_have_count(1)
    expect(clerk.locator(".djs-element.plusma-active")).to_have_count(0)

    # The requester was told at every step, in Latvian.
    subjects = [m["Subject"] for m in ui_server.mailbox.messages() if m["To"] == REQUESTER_EMAIL]
    assert subjects == [
        f"Pieteikums Nr. {business_key} reģistrēts",
        f"Pieteikums Nr. {business_key}: pakalpojums tiks sniegts",
        f"Pieteikums Nr. {business_key} izpildīts",
        f"Pieteikums Nr. {business_key} slēgts",
    ]
