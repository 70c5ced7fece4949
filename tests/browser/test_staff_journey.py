"""The staff journey of issue 5 in a real browser: a clerk registers a request, a level-2 executor fulfils it,
the clerk closes it and sees it closed. Plus the form errors, a wrong password, sign-out and the language switch.

People work as people do: they sign in through the form, click links and buttons, type into fields found by
their labels, choose options. The server's own job scheduler sends the e-mails (to the session's recording
SMTP server) and moves each instance on, so every next task is waited for by reloading the inbox, never by
sleeping.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.browser.support import (
    choose_radio,
    open_inbox_task,
    reload_until,
    rest_call,
)

INTAKE = "Pieteikumu pārvaldība"
REGISTER = "Reģistrēt pieteikumu"
CLASSIFY = "Klasificēt pieteikumu"
REGISTER_SERVICE_REQUEST = "Reģistrēt un klasificēt pakalpojuma pieprasījumu"
EVALUATE = "Izvērtēt atbilstību un pamatotību, pieņemt lēmumu"
DELIVER = "Sniegt pakalpojumu atbilstoši pakalpojuma līmenim"
CLOSE = "Slēgt pieteikumu"
COMPLAINT_REGISTRATION = "Reģistrēt un klasificēt sūdzību vai ierosinājumu"

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
    expect(row.locator(".priority")).to_have_text("Zema")  # priority 4, from low impact and medium urgency
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


def start_intake(page: Page, base_url: str, business_key: str) -> None:
    """Start the request intake from the start form with ``business_key``; the clerk lands on the registration."""
    page.goto(f"{base_url}/start/pieteikumu_parvaldiba")
    page.get_by_label("Pieteikuma numurs").fill(business_key)
    with page.expect_navigation():
        page.get_by_role("button", name="Sākt", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(REGISTER)


def test_registration_errors_are_shown_at_the_fields_and_in_a_summary_the_keyboard_reaches(user_page, ui_server):
    clerk = user_page(ui_server.clerk)
    start_intake(clerk, ui_server.base_url, "PIE-2026-9102")
    name = clerk.get_by_label("Pieteicējs (vārds, uzvārds vai iestāde)")
    email = clerk.get_by_label("Pieteicēja e-pasts")
    email.fill("marta(at)example")
    clerk.get_by_label("Saņemšanas kanāls").select_option(label="Tālrunis")
    clerk.get_by_label("Temats").fill("Kāpņu telpas apgaismojums")
    clerk.get_by_label("Apraksts").fill("Otro nedēļu nedeg gaisma kāpņu telpā.")
    with clerk.expect_navigation():
        complete_button(clerk).click()

    # Each error is next to its field and tied to it; the summary lists both and has the focus.
    expect(clerk.locator("#field-pieteicejs-error")).to_have_text("Aizpildiet šo lauku.")
    expect(clerk.locator("#field-epasts-error")).to_have_text("Ievadiet e-pasta adresi, piemēram, vards@piemers.lv.")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", re.compile(r"(^| )field-epasts-error( |$)"))
    expect(email).to_have_accessible_description(re.compile("Ievadiet e-pasta adresi"))
    summary = clerk.locator("#error-summary")
    expect(summary.get_by_role("heading")).to_have_text("2 laukos jālabo ievadītais")
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Pieteicējs (vārds, uzvārds vai iestāde): Aizpildiet šo lauku.",
            "Pieteicēja e-pasts: Ievadiet e-pasta adresi, piemēram, vards@piemers.lv.",
        ]
    )
    expect(summary).to_be_focused()

    # Nothing typed was lost.
    expect(email).to_have_value("marta(at)example")
    expect(clerk.get_by_label("Saņemšanas kanāls")).to_have_value("talrunis")
    expect(clerk.get_by_label("Temats")).to_have_value("Kāpņu telpas apgaismojums")
    expect(clerk.get_by_label("Apraksts")).to_have_value("Otro nedēļu nedeg gaisma kāpņu telpā.")

    # From the summary, Tab reaches its links and Enter on one puts the cursor in its field.
    clerk.keyboard.press("Tab")
    expect(summary.get_by_role("link").first).to_be_focused()
    clerk.keyboard.press("Tab")
    expect(summary.get_by_role("link").nth(1)).to_be_focused()
    clerk.keyboard.press("Enter")
    expect(email).to_be_focused()
    clerk.keyboard.press("ControlOrMeta+a")
    clerk.keyboard.type("marta.kalnina@example.lv")
    clerk.keyboard.press("Shift+Tab")
    expect(name).to_be_focused()
    clerk.keyboard.type("Marta Kalniņa")
    with clerk.expect_navigation():
        clerk.keyboard.press("Enter")  # Enter in a text field submits the form
    expect(
        clerk.get_by_role("status").filter(has_text=f"Uzdevums “{REGISTER}” pabeigts (PIE-2026-9102).")
    ).to_be_visible()


def test_typing_while_conditional_fields_are_updated_is_kept(user_page, ui_server):
    """Choosing an option asks the server which fields to show; what is typed meanwhile stays, and so does focus."""
    # A complaint arrives by message (as from the web portal); its registration is the front office's.
    message = {"messageName": "sudziba_vai_ierosinajums", "businessKey": "PIE-2026-9103", "resultEnabled": True}
    rest_call(ui_server.rest_url, ui_server.clerk, ui_server.password, "POST", "/message", message)
    clerk = user_page(ui_server.clerk)
    open_inbox_task(clerk, ui_server.base_url, "PIE-2026-9103", COMPLAINT_REGISTRATION)
    service = clerk.get_by_label("Pakalpojums", exact=True)
    expect(service).to_be_hidden()

    # The server's answer is held back until the clerk has typed into another field.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    clerk.route("**/tasks/*/fields", hold)
    with clerk.expect_request("**/tasks/*/fields"):
        choose_radio(clerk, "Uz ko attiecas", "Konkrētu pakalpojumu")
    subject = clerk.get_by_label("Temats")
    subject.click()
    subject.press_sequentially("Rindas klientu centrā")
    assert len(held) == 1, held
    held[0].continue_()

    expect(service).to_be_visible()
    expect(subject).to_have_value("Rindas klientu centrā")
    expect(subject).to_be_focused()
    expect(clerk.get_by_role("radio", name="Konkrētu pakalpojumu")).to_be_checked()
    service.fill("Klientu apkalpošana")
    # And back: the field hides again when the choice changes.
    clerk.unroute("**/tasks/*/fields", hold)
    choose_radio(clerk, "Uz ko attiecas", "Iestādes darbību kopumā")
    expect(service).to_be_hidden()


def test_a_wrong_password_is_refused_with_a_clear_message_and_the_user_name_kept(page, ui_server):
    page.goto(f"{ui_server.base_url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)$"))  # the inbox needs a signed-in user
    user_name = page.get_by_label("Lietotājvārds")
    expect(user_name).to_be_focused()
    page.keyboard.type(ui_server.second_clerk)
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 401

    expect(page.get_by_role("alert")).to_have_text("Nepareizs lietotājvārds vai parole.")
    expect(user_name).to_have_value(ui_server.second_clerk)
    password = page.get_by_label("Parole")
    expect(password).to_have_value("")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Nepareizs lietotājvārds vai parole.")

    password.fill(ui_server.password)
    with page.expect_navigation():
        page.get_by_role("button", name="Pieslēgties").click()
    expect(page).to_have_url(f"{ui_server.base_url}/")
    expect(page.get_by_role("banner")).to_contain_text(f"Pieslēdzies: {ui_server.second_clerk}")


def test_signing_out_ends_the_session(user_page, ui_server):
    clerk = user_page(ui_server.second_clerk)
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="Iziet").click()
    expect(clerk).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    expect(clerk.get_by_role("status")).to_have_text("Jūs esat izgājis no sistēmas.")
    expect(clerk.get_by_role("button", name="Iziet")).to_have_count(0)
    # Back in the browser's history, or any page: the sign-in form again.
    clerk.go_back()
    clerk.reload()
    expect(clerk).to_have_url(re.compile(r"/sign-in\?next="))
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Pieslēgties")


def test_switching_to_english_and_back_is_remembered_for_the_user(user_page, ui_server):
    user = ui_server.switching_clerk
    clerk = user_page(user)
    expect(clerk.locator("html")).to_have_attribute("lang", "lv")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Uzdevumi")

    with clerk.expect_navigation():
        clerk.get_by_role("button", name="English").click()
    expect(clerk.locator("html")).to_have_attribute("lang", "en")
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(clerk.get_by_label("Search by request number or subject")).to_be_visible()
    clerk.get_by_role("link", name="Start a process").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("Start a process")
    expect(clerk.get_by_role("link", name="Request intake", exact=True)).to_be_visible()  # from the library's catalogue

    # The choice is the user's: a new browser signs in in English.
    again = user_page(user)
    expect(again.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(again.get_by_role("button", name="Sign out")).to_be_visible()

    with again.expect_navigation():
        again.get_by_role("button", name="Latviešu").click()
    expect(again.locator("html")).to_have_attribute("lang", "lv")
    expect(again.get_by_role("heading", level=1)).to_have_text("Uzdevumi")
    expect(user_page(user).get_by_role("heading", level=1)).to_have_text("Uzdevumi")
