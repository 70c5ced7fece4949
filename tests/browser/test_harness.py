"""The browser-test harness itself: a missing Chromium fails, and the axe check fails on a bad page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM_INSTALL, find_chromium
from tests.browser.support import SCREENSHOTS, check_accessibility, screenshot

INACCESSIBLE_PAGE = """<!doctype html>
<html lang="lv"><head><title>Slikta lapa</title></head>
<body><main>
  <h1>Slikta lapa</h1>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <input type="text" name="temats">
  <p style="color: #bbb; background: #fff">Gandrīz neredzams teksts</p>
</main></body></html>"""


def test_a_machine_without_chromium_fails_naming_the_install_command(tmp_path):
    missing = str(tmp_path / "chromium")
    with pytest.raises(pytest.fail.Exception) as failure:
        find_chromium({"PLUSMA_CHROMIUM": missing})
    assert missing in str(failure.value) and CHROMIUM_INSTALL in str(failure.value)


def test_chromium_is_found(chromium_path):
    assert chromium_path.endswith("chromium")


def test_the_accessibility_check_lists_every_serious_or_critical_violation(page, ui_server):
    page.set_content(INACCESSIBLE_PAGE)
    with pytest.raises(pytest.fail.Exception) as failure:
        check_accessibility(page, "slikta-lapa", base_url=ui_server.base_url)
    report = str(failure.value)
    assert "axe-core on slikta-lapa (about:blank)" in report
    for rule, target in (("image-alt", "img"), ("label", "input"), ("color-contrast", "p")):
        assert f"- {rule} (" in report, report
        assert f"at {target}:" in report, report


def test_the_accessibility_check_passes_a_good_page(page, ui_server):
    page.set_content(
        '<!doctype html><html lang="lv"><head><title>Laba lapa</title></head><body><main><h1>Laba lapa</h1>'
        '<label for="t">Temats</label><input id="t" type="text"></main></body></html>'
    )
    assert check_accessibility(page, "laba-lapa", base_url=ui_server.base_url) == []


def test_a_page_not_on_the_server_needs_base_url_for_axe(page):
    page.set_content("<p>x</p>")
    with pytest.raises(ValueError, match="base_url"):
        check_accessibility(page, "bez-servera")


def test_screenshots_go_to_test_artifacts_under_a_safe_name(page):
    page.set_content("<h1>Ekrānuzņēmums</h1>")
    path = screenshot(page, "harness-screenshot")
    assert path == SCREENSHOTS / "harness-screenshot.png"
    assert path.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="names a file"):
        screenshot(page, "../escape")
