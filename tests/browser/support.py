"""Helpers for the browser tests: the axe-core accessibility check, full-page screenshots, signing in
and waiting for what the server's job scheduler does in the background.

Plain functions, imported by test modules (``from tests.browser.support import check_accessibility``).
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from engine.config import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
AXE_PATH = "/vendor/axe-core/axe.min.js"
#: WCAG 2.1 A and AA, as the issue asks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
#: How long a step may take that the server's job scheduler finishes (an e-mail, then the next task).
JOB_SECONDS = 30.0
#: How long to wait for a locator on one load of a page before reloading it.
RELOAD_EVERY_MS = 500
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _checked_name(name: str) -> str:
    if not _SAFE_NAME.match(name):
        raise ValueError(f"artifact name {name!r}: use letters, digits, '.', '_' and '-' only (it names a file)")
    return name


def check_accessibility(page: Page, name: str, *, base_url: str | None = None) -> list[dict]:
    """Run axe-core on the page as it is now; fail listing every serious or critical violation.

    axe is loaded from the server's ``/vendor/axe-core/axe.min.js`` (``base_url``, by default the
    page's own origin), so the page's Content-Security-Policy allows it as it allows the UI's scripts.
    Returns the violations of lesser impact, for a test that wants to look at them.
    """
    if base_url is None:
        parts = urlsplit(page.url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"check_accessibility({name!r}): page is at {page.url}; pass base_url= for axe")
        base_url = f"{parts.scheme}://{parts.netloc}"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=base_url.rstrip("/") + AXE_PATH)
    violations = page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return results.violations.map((violation) => ({
                id: violation.id,
                impact: violation.impact,
                help: violation.help,
                helpUrl: violation.helpUrl,
                nodes: violation.nodes.map((node) => ({
                    target: node.target.map(String),
                    summary: node.failureSummary || '',
                })),
            }));
        }""",
        AXE_TAGS,
    )
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    if failing:
        pytest.fail(f"axe-core on {name} ({page.url}): {_describe(failing)}", pytrace=False)
    return violations


def _describe(violations: list[dict]) -> str:
    lines = [f"{len(violations)} serious or critical violation(s) of WCAG 2.1 AA"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    at {' > '.join(node['target'])}: {summary}")
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of the page, saved as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_checked_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, base_url: str, user: str, password: str) -> None:
    """Sign in through the sign-in form as a person would (type, then Enter); fail saying why if refused."""
    page.goto(f"{base_url}/sign-in")
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    if urlsplit(page.url).path == "/sign-in":
        alert = page.locator("#sign-in-error")
        reason = alert.inner_text() if alert.count() else "(no error shown)"
        pytest.fail(f"{user} could not sign in: {reason}", pytrace=False)


def reload_until(page: Page, locator: Locator, what: str, *, timeout: float = JOB_SECONDS) -> Locator:
    """Reload the page until ``locator`` is on it, for what the server's scheduler does asynchronously.

    Each load is given ``RELOAD_EVERY_MS`` for the locator to appear, so the wait ends as soon as the
    server is done; after ``timeout`` seconds the test fails naming ``what`` it waited for.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            locator.first.wait_for(state="attached", timeout=RELOAD_EVERY_MS)
            return locator
        except PlaywrightError:
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not on {page.url} after {timeout:.0f} s", pytrace=False)
        page.reload()


def inbox_task_link(page: Page, task_name: str) -> Locator:
    """The link to a task named ``task_name`` in the inbox's results."""
    return page.locator("#inbox-results").get_by_role("link", name=task_name, exact=True)


def open_inbox_task(page: Page, base_url: str, business_key: str, task_name: str) -> str:
    """Search the inbox for ``business_key`` until the task ``task_name`` is listed, open it; its id."""
    page.goto(f"{base_url}/?{urlencode({'q': business_key})}")
    link = reload_until(page, inbox_task_link(page, task_name), f"task {task_name!r} of {business_key} in the inbox")
    with page.expect_navigation():
        link.click()
    return task_id_of(page)


def task_id_of(page: Page) -> str:
    """The id of the task whose page is open (``/tasks/<id>``)."""
    path = urlsplit(page.url).path
    if not path.startswith("/tasks/"):
        pytest.fail(f"expected a task page, the browser is at {page.url}", pytrace=False)
    return path.removeprefix("/tasks/")


def choose_radio(page: Page, legend: str, option: str) -> None:
    """Choose ``option`` of the radio group whose legend is ``legend``."""
    group = page.get_by_role("radiogroup", name=legend).or_(page.get_by_role("group", name=legend))
    group.get_by_label(option, exact=True).check()


def rest_call(rest_url: str, user: str, password: str, method: str, path: str, body: dict | None = None) -> Any:
    """One call of the REST API (``rest_url`` ends in ``/engine-rest``) with Basic authentication, for setting up
    what a test does not drive in the browser; JSON in and out. An error status fails the test, naming the call."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(
        rest_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            content = response.read()
    except urllib.error.HTTPError as error:
        answer = error.read().decode("utf-8", errors="replace")
        pytest.fail(f"{method} {path} as {user} answered {error.code}: {answer}", pytrace=False)
    return json.loads(content) if content else None
