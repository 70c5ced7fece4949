"""The staff UI through Flask's test client: the shipped process library deployed, a user per role,
and a client that signs in through the sign-in form and sends the form's CSRF token, as a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from engine.clock import ManualClock
from engine.config import PROJECT_ROOT
from engine.identity import SYSTEM
from engine.notifications import EmailNotifier, SmtpSettings
from engine.process_engine import ProcessEngine
from tests.conftest import PASSWORD
from tests.test_notifications import Recorder, recording_smtp_server
from web.app import create_app
from web.cli import collect_files

#: Tuesday 2026-12-01, 10:00 in Riga: a working day.
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CLERK, EXECUTOR, OWNER, ADMIN = "klara", "ilze", "paula", "admin"
GROUPS = {CLERK: "kac", "karlis": "kac", EXECUTOR: "l2", OWNER: "pakalpojuma-turetajs", ADMIN: "admin"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class UiClient:
    """A browser-like client: cookies, and the CSRF token of the last page for each POST."""

    def __init__(self, client, after_post=None) -> None:  # noqa: ANN001
        self.client = client
        self.csrf = ""
        #: Runs after every POST: the jobs a step scheduled (e-mails), as the scheduler would at once.
        self.after_post = after_post

    def _seen(self, response):  # noqa: ANN001, ANN202
        found = _CSRF.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, url: str, **kw):  # noqa: ANN003, ANN201
        return self._seen(self.client.get(url, **kw))

    def post(self, url: str, data: dict | list | None = None, *, csrf: bool = True, **kw):  # noqa: ANN003, ANN201
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            assert self.csrf, "no page with a CSRF token was loaded before this POST"
            items.append(("csrf_token", self.csrf))
        response = self._seen(self.client.post(url, data=MultiDict(items), **kw))
        if self.after_post is not None:
            self.after_post()
        return response

    def sign_in(self, user: str, password: str = PASSWORD):  # noqa: ANN201
        self.get("/sign-in")
        return self.post("/sign-in", {"username": user, "password": password})


@pytest.fixture
def mail_server() -> Iterator[tuple[Recorder, int]]:
    with recording_smtp_server() as server:
        yield server


@pytest.fixture
def ui_engine(settings, mail_server) -> Iterator[ProcessEngine]:
    notifier = EmailNotifier(
        SmtpSettings(host="127.0.0.1", port=mail_server[1], timeout=5, sender="kac@iestade.example.lv")
    )
    engine = ProcessEngine(settings, clock=ManualClock(START), notifier=notifier)
    for user, group in GROUPS.items():
        engine.users.create_user(user, PASSWORD, groups=[group])
    engine.deployments.deploy(
        collect_files([PROJECT_ROOT / "processes", PROJECT_ROOT / "forms"]), principal=SYSTEM, name="library"
    )
    yield engine
    engine.close()


def run_jobs(engine: ProcessEngine) -> None:
    """Run every job due now (e-mails, timers), as the scheduler would."""
    while engine.jobs.run_due("ui-test-worker"):
        pass


@pytest.fixture
def ui_app(ui_engine, settings):  # noqa: ANN201
    from dataclasses import replace

    # Labels in English come from the shipped catalogues.
    ui_engine.settings = replace(settings, processes_dir=PROJECT_ROOT / "processes", forms_dir=PROJECT_ROOT / "forms")
    app = create_app(engine=ui_engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def browser_for(ui_app):  # noqa: ANN201
    """A new signed-in client per call: ``browser_for("klara")``."""

    def make(user: str | None = None) -> UiClient:
        client = UiClient(ui_app.test_client(), after_post=lambda: run_jobs(ui_app.extensions["plusma"]))
        if user:
            response = client.sign_in(user)
            assert response.status_code == 302, response.get_data(as_text=True)
            client.get(response.headers["Location"])
        return client

    return make
