"""Browser tests: Debian's headless Chromium driven by Playwright, against a real ``plusma serve``.

Chromium is the machine's own (``apt-get install chromium``), never a browser Playwright downloads.
One server runs for the whole session with the shipped ``processes/`` and ``forms/`` on its own
SQLite file and its job scheduler sending e-mail to a recording SMTP server; tests share it, so each
uses business keys of its own.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from engine.config import PROJECT_ROOT
from tests.browser.support import sign_in
from tests.live_server import (
    ADMIN,
    CLERK,
    EXECUTOR,
    PASSWORD,
    USERS,
    LiveServer,
    _environment,
    run_cli,
    start_server,
)
from tests.live_server import stop as stop_server
from tests.test_notifications import Recorder, recording_smtp_server

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_INSTALL = "apt-get install -y --no-install-recommends chromium"
#: Chromium as the machine runs it: as root without a sandbox, and with nothing that calls out to
#: Google's services (the closed network refuses those connections, many at a time).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCALE = "lv-LV"
VIEWPORT = {"width": 1280, "height": 900}
LOG_TAIL_CHARS = 20_000
#: Users of the browser tests only, besides tests/live_server.py's USERS (which other tests share): a clerk
#: who works in English, one who signs in wrongly and signs out, one who switches languages (a user's
#: language is stored with the user, so a test that changes it keeps it to a user of its own).
ENGLISH_CLERK, SECOND_CLERK, SWITCHING_CLERK = "emma", "liene", "juris"
BROWSER_USERS = {ENGLISH_CLERK: "kac", SECOND_CLERK: "kac", SWITCHING_CLERK: "kac"}


@dataclass
class UiServer:
    """The running server: ``base_url`` for pages (``http://127.0.0.1:PORT``), ``rest_url`` for the API."""

    base_url: str
    rest_url: str
    server: LiveServer
    #: Every e-mail the server's jobs sent (``mailbox.messages()``), for the whole session.
    mailbox: Recorder = field(default_factory=Recorder)
    password: str = PASSWORD
    admin: str = ADMIN
    clerk: str = CLERK
    executor: str = EXECUTOR
    english_clerk: str = ENGLISH_CLERK
    second_clerk: str = SECOND_CLERK
    switching_clerk: str = SWITCHING_CLERK

    @property
    def log_path(self) -> Path:
        return self.server.log_path


def find_chromium(environ: Mapping[str, str]) -> str:
    """Debian's chromium (or ``$PLUSMA_CHROMIUM``); a machine without it fails the tests rather than skips them."""
    path = environ.get("PLUSMA_CHROMIUM") or DEFAULT_CHROMIUM
    resolved = shutil.which(path)
    if resolved is None:
        pytest.fail(
            f"Chromium not found at {path}: install Debian's package with `{CHROMIUM_INSTALL}` "
            "(or set PLUSMA_CHROMIUM to a Chromium executable)",
            pytrace=False,
        )
    return resolved


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return find_chromium(os.environ)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium_path: str) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context (Latvian locale, 1280x900) and page; a script error the page does not catch fails the test."""
    context = browser.new_context(locale=LOCALE, viewport=VIEWPORT)
    new_page = context.new_page()
    uncaught: list[str] = []
    new_page.on("pageerror", lambda error: uncaught.append(f"{new_page.url}: {error}"))
    yield new_page
    context.close()
    if uncaught:
        pytest.fail("uncaught script errors in the page:\n" + "\n".join(uncaught), pytrace=False)


@pytest.fixture
def user_page(browser: Browser, ui_server: UiServer) -> Iterator[Callable[[str], Page]]:
    """``user_page(name)``: a page in a context of its own (cookies apart), signed in as ``name`` through the
    sign-in form, as ``page`` is set up; for tests in which several people work side by side."""
    contexts = []
    uncaught: list[str] = []

    def open_for(user: str) -> Page:
        context = browser.new_context(locale=LOCALE, viewport=VIEWPORT)
        contexts.append(context)
        new_page = context.new_page()
        new_page.on("pageerror", lambda error: uncaught.append(f"{user} at {new_page.url}: {error}"))
        sign_in(new_page, ui_server.base_url, user, ui_server.password)
        return new_page

    yield open_for
    for context in contexts:
        context.close()
    if uncaught:
        pytest.fail("uncaught script errors in the page:\n" + "\n".join(uncaught), pytrace=False)


@pytest.fixture(scope="session")
def smtp_recorder() -> Iterator[tuple[Recorder, int]]:
    """A local SMTP server that keeps every message: (recorder, port)."""
    with recording_smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory, smtp_recorder: tuple[Recorder, int]) -> Iterator[UiServer]:
    """``plusma serve`` with the shipped processes and forms, an admin, clerks (kac) and an executor (l2).

    Its job scheduler sends the processes' e-mails to ``smtp_recorder``: without a mail server an
    instance would wait at its first e-mail task, retrying.
    """
    recorder, smtp_port = smtp_recorder
    folder = tmp_path_factory.mktemp("ui-server")
    log_path = folder / "plusma-serve.log"
    env = _environment(f"sqlite:///{folder / 'plusma.sqlite'}")
    env["PLUSMA_PROCESSES_DIR"] = str(PROJECT_ROOT / "processes")
    env["PLUSMA_FORMS_DIR"] = str(PROJECT_ROOT / "forms")
    env["PLUSMA_SMTP_HOST"] = "127.0.0.1"
    env["PLUSMA_SMTP_PORT"] = str(smtp_port)
    env["PLUSMA_SMTP_SECURITY"] = "none"
    run_cli(["db", "upgrade"], env, log_path)
    for user, group in {**USERS, **BROWSER_USERS}.items():
        run_cli(["user", "create", user, "--group", group, "--password", PASSWORD], env, log_path)
    server = start_server(env, log_path)
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        _require_front_end_packages(base_url)
        yield UiServer(base_url=base_url, rest_url=server.url, server=server, mailbox=recorder)
    finally:
        stop_server(server.process)


def _require_front_end_packages(base_url: str) -> None:
    """Every page needs /vendor: fail at once, saying why, when the server does not serve it."""
    url = f"{base_url}/vendor/axe-core/axe.min.js"
    try:
        with urllib.request.urlopen(url, timeout=10):
            return
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", errors="replace").strip()
        if "npm ci" in body:
            pytest.fail(f"GET {url}: {body}", pytrace=False)
        pytest.fail(
            f"GET {url} answered {error.code}: the app does not serve the front-end packages; "
            "web/app.py must register web.vendor.blp (app.register_blueprint(vendor.blp))",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """Attach the server's output to the report of a failed test that used ``ui_server``."""
    report = yield
    server = getattr(item, "funcargs", {}).get("ui_server")
    if isinstance(server, UiServer) and report.failed:
        # The server runs for the whole session: its latest output is what this test caused.
        output = server.server.output()[-LOG_TAIL_CHARS:]
        report.sections.append((f"plusma serve output, its end ({server.log_path})", output))
    return report
