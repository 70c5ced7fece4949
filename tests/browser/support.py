"""Helpers for the browser tests: the axe-core accessibility check and full-page screenshots.

Plain functions, imported by test modules (``from tests.browser.support import check_accessibility``).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from engine.config import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
AXE_PATH = "/vendor/axe-core/axe.min.js"
#: WCAG 2.1 A and AA, as the issue asks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
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
