"""Sign-in, sign-out, sessions, CSRF and the language switch of the staff UI."""

from __future__ import annotations

from sqlalchemy import delete

from engine.services.tasks import TaskQuery
from engine.storage.tables import user_account
from tests.conftest import PASSWORD
from tests.ui.conftest import CLERK, UiClient


def test_pages_need_a_signed_in_user_and_come_back_after_sign_in(browser_for):
    anonymous = browser_for()
    for path in ("/", "/start/", "/tasks/x", "/instances/x"):
        response = anonymous.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=")
    response = anonymous.get("/start/")
    page = anonymous.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="lv">' in page and "Pieslēgties" in page, "Latvian by default"
    signed_in = anonymous.post("/sign-in", {"username": CLERK, "password": PASSWORD, "next": "/start/"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/start/"


def test_session_cookie_is_http_only_and_same_site(browser_for):
    client = browser_for()
    client.get("/sign-in")
    response = client.post("/sign-in", {"username": CLERK, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "plusma_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_says_so_and_keeps_the_user_name(browser_for):
    client = browser_for()
    client.get("/sign-in")
    response = client.post("/sign-in", {"username": CLERK, "password": "not-the-password"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Nepareizs lietotājvārds vai parole." in page and 'role="alert"' in page
    assert f'value="{CLERK}"' in page, "the user name is kept; the password is not"
    assert "not-the-password" not in page


def test_repeated_failures_are_slowed_down(browser_for):
    client = browser_for()
    client.get("/sign-in")
    statuses = [client.post("/sign-in", {"username": CLERK, "password": "wrong-wrong"}).status_code for _ in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 429
    blocked = client.post("/sign-in", {"username": CLERK, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "Pārāk daudz neveiksmīgu pieslēgšanās mēģinājumu" in blocked.get_data(as_text=True)


def test_sign_out_ends_the_session(browser_for):
    client = browser_for(CLERK)
    response = client.post("/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?signed_out=1"
    assert client.get("/").status_code == 302


def test_every_form_post_needs_the_csrf_token_and_nothing_changes_without_it(browser_for, ui_engine):
    client = browser_for(CLERK)
    client.post("/start/pieteikumu_parvaldiba", {"businessKey": "PIE-2026-0100"})
    [task] = ui_engine.tasks.list(ui_engine.users.principal(CLERK), TaskQuery(business_key="PIE-2026-0100"))
    for path, data in (
        (f"/tasks/{task['id']}/claim", {}),
        (f"/tasks/{task['id']}/complete", {"temats": "x"}),
        ("/start/pieteikumu_parvaldiba", {"businessKey": "PIE-2026-0101"}),
        ("/sign-out", {}),
        ("/language", {"language": "en"}),
    ):
        for token in (None, "forged-token"):
            items = dict(data) if token is None else {**data, "csrf_token": token}
            response = client.post(path, items, csrf=False)
            assert response.status_code == 400, path
            assert "Veidlapa ir novecojusi" in response.get_data(as_text=True)
    assert ui_engine.tasks.get(ui_engine.users.principal(CLERK), task["id"])["assignee"] is None
    assert ui_engine.instances.list(ui_engine.users.principal("admin"), business_key="PIE-2026-0101") == []
    assert client.get("/").status_code == 200, "still signed in"


def test_a_login_form_from_another_site_is_refused(ui_app):
    client = UiClient(ui_app.test_client())
    response = client.post("/sign-in", {"username": CLERK, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400


def test_next_only_leads_to_this_site(browser_for):
    client = browser_for()
    client.get("/sign-in")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/sign-in", {"username": CLERK, "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/", target
        client.post("/sign-out")


def test_language_is_switchable_and_remembered_per_user(browser_for):
    client = browser_for(CLERK)
    response = client.post("/language", {"language": "en", "next": "/start/"})
    assert response.headers["Location"] == "/start/"
    page = client.get("/start/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Start a process" in page and "Request intake" in page
    client.post("/sign-out")

    again = browser_for(CLERK)
    assert "Start a process" in again.get("/start/").get_data(as_text=True), "the user's choice is kept"
    assert again.post("/language", {"language": "de"}).status_code == 302
    assert "Start a process" in again.get("/start/").get_data(as_text=True), "an unknown language changes nothing"


def test_a_session_ends_twelve_hours_after_sign_in(browser_for):
    client = browser_for(CLERK)
    with client.client.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_a_session_of_a_user_who_no_longer_exists_ends(browser_for, ui_engine):
    client = browser_for("karlis")
    with ui_engine.db.transaction() as uow:
        uow.execute(delete(user_account).where(user_account.c.id == "karlis"))
    assert client.get("/").status_code == 302
