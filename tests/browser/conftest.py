"""Browser tests: Debian's headless Chromium driven by Playwright, against a real ``plusma serve``.

Chromium is the machine's own (``apt-get install chromium``), never a browser Playwright downloads.
One server runs for the whole session with the shipped ``processes/`` and ``forms/`` on its own
SQLite file; tests share it, so each uses business keys of its own.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from engine.config import PROJECT_ROOT
from tests.live_server import ADMIN, CLERK, EXECUTOR, PASSWORD, USERS, LiveServer, _environment, run_cli, start_server
from tests.live_server import stop as stop_server

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


@dataclass
class UiServer:
    """The running server: ``base_url`` for pages (``http://127.0.0.1:PORT``), ``rest_url`` for the API."""

    base_url: str
    rest_url: str
    server: LiveServer
    password: str = PASSWORD
    admin: str = ADMIN
    clerk: str = CLERK
    executor: str = EXECUTOR

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


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """``plusma serve`` with the shipped processes and forms, an admin, a clerk (kac) and an executor (l2)."""
    folder = tmp_path_factory.mktemp("ui-server")
    log_path = folder / "plusma-serve.log"
    env = _environment(f"sqlite:///{folder / 'plusma.sqlite'}")
    env["PLUSMA_PROCESSES_DIR"] = str(PROJECT_ROOT / "processes")
    env["PLUSMA_FORMS_DIR"] = str(PROJECT_ROOT / "forms")
    run_cli(["db", "upgrade"], env, log_path)
    for user, group in USERS.items():
        run_cli(["user", "create", user, "--group", group, "--password", PASSWORD], env, log_path)
    server = start_server(env, log_path)
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        _require_front_end_packages(base_url)
        yield UiServer(base_url=base_url, rest_url=server.url, server=server)
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
