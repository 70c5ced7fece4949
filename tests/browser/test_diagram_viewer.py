"""The diagram viewer (web/static/js/diagram.js) in Chromium: bpmn-js from /vendor draws a shipped process.

The page under test is routed by Playwright at the live server's origin (so /vendor and /static come
from the real server, same-origin), and so is the diagram's XML: once as the REST API's own
``{id, bpmn20Xml}`` JSON, once as the raw file.
"""

from __future__ import annotations

import base64
import html
import json
import urllib.request
from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route

from engine.config import PROJECT_ROOT
from tests.browser.conftest import UiServer
from tests.browser.support import check_accessibility, screenshot

PROCESS_KEY = "pieteikumu_parvaldiba"
PROCESS_FILE = PROJECT_ROOT / "processes" / f"{PROCESS_KEY}.bpmn"
TEST_PATH = "/__diagram-test__"
ERROR_TEXT = "Diagrammu neizdevās ielādēt."
#: Where an instance of request intake is after registration: the clerk classifies it next.
COMPLETED = [
    "StartEvent_sanemts",
    "Flow_sanemts",
    "Activity_sagatavot",
    "Flow_sagatavots",
    "Task_registret",
    "Flow_registrets",
    "Activity_pazinot_registraciju",
    "Flow_pazinots",
]
ACTIVE = ["Task_klasificet"]
ACTIVE_BLUE = "rgb(11, 92, 173)"
COMPLETED_GREEN = "rgb(46, 125, 50)"


def diagram_element(*, completed: list[str] | str = (), active: list[str] | str = ()) -> str:
    """The container as the instance page writes it; a str list value is written as it is (bad input).

    Its role is figure, not img: an img's children are presentational, and bpmn-js puts its watermark,
    a link to bpmn.io that its licence forbids removing or changing, inside the container: axe's
    nested-interactive rule (serious) fails any img holding a focusable link.
    """

    def attribute(value: list[str] | str) -> str:
        return html.escape(value if isinstance(value, str) else json.dumps(list(value)))

    return (
        '<div data-bpmn-diagram tabindex="0" role="figure" aria-label="Procesa diagramma: Pieteikumu pārvaldība"'
        f' data-xml-url="{TEST_PATH}/xml" data-completed="{attribute(completed)}"'
        f' data-active="{attribute(active)}" data-error-text="{ERROR_TEXT}"></div>'
    )


def page_html(body: str) -> str:
    return f"""<!doctype html>
<html lang="lv">
<head>
  <meta charset="utf-8">
  <title>Diagrammas pārbaude</title>
  <link rel="stylesheet" href="/vendor/bpmn-js/dist/assets/diagram-js.css">
  <link rel="stylesheet" href="/vendor/bpmn-js/dist/assets/bpmn-js.css">
  <link rel="stylesheet" href="/vendor/bpmn-js/dist/assets/bpmn-font/css/bpmn.css">
  <link rel="stylesheet" href="/static/css/diagram.css">
</head>
<body>
  <main>
    <h1>Pieteikums PIE-TEST</h1>
    {body}
  </main>
  <script src="/vendor/htmx.org/dist/htmx.min.js"></script>
  <script src="/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js"></script>
  <script src="/static/js/diagram.js"></script>
</body>
</html>"""


def definition_xml_json(ui_server: UiServer) -> bytes:
    """``GET /engine-rest/process-definition/key/{key}/xml`` as the admin: Camunda's JSON."""
    token = base64.b64encode(f"{ui_server.admin}:{ui_server.password}".encode()).decode()
    request = urllib.request.Request(
        f"{ui_server.rest_url}/process-definition/key/{PROCESS_KEY}/xml", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def serve(page: Page, ui_server: UiServer, body: str, xml: Callable[[Route], None]) -> None:
    """Route the test page and its XML at the server's origin, then open the page."""

    def handle(route: Route) -> None:
        path = route.request.url.removeprefix(ui_server.base_url)
        if path == f"{TEST_PATH}/page":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page_html(body))
        elif path == f"{TEST_PATH}/xml":
            xml(route)
        elif path == f"{TEST_PATH}/fragment":
            route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                body=diagram_element(completed=COMPLETED, active=ACTIVE),
            )
        else:
            route.fulfill(status=404, body="not a test route")

    page.route(f"{ui_server.base_url}{TEST_PATH}/**", handle)
    page.goto(f"{ui_server.base_url}{TEST_PATH}/page")


def raw_xml(route: Route) -> None:
    route.fulfill(status=200, content_type="application/xml", body=PROCESS_FILE.read_bytes())


def wait_until_done(page: Page, selector: str = "[data-bpmn-diagram]") -> str:
    page.wait_for_function(
        """(selector) => {
            const state = document.querySelector(selector)?.getAttribute('data-diagram-state');
            return state === 'ready' || state === 'failed';
        }""",
        arg=selector,
    )
    return page.get_attribute(selector, "data-diagram-state")


def marker_style(page: Page, element_id: str) -> dict:
    return page.evaluate(
        """(id) => {
            const visual = document.querySelector(`.djs-element[data-element-id="${id}"] .djs-visual > *`);
            const style = getComputedStyle(visual);
            return {stroke: style.stroke, width: style.strokeWidth, dashes: style.strokeDasharray};
        }""",
        element_id,
    )


def viewbox(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const box = document.querySelector('[data-bpmn-diagram]').plusmaViewer.get('canvas').viewbox();
            return {x: box.x, y: box.y, width: box.width, height: box.height, scale: box.scale, inner: box.inner};
        }"""
    )


def test_draws_the_process_from_the_rest_apis_json_with_completed_and_active_marked(page, ui_server):
    definition = definition_xml_json(ui_server)
    assert json.loads(definition)["bpmn20Xml"].startswith("<?xml")

    def camunda_json(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=definition)

    serve(page, ui_server, diagram_element(completed=COMPLETED, active=ACTIVE), camunda_json)
    assert wait_until_done(page) == "ready"

    # Every flow node and flow of the process is drawn.
    assert page.locator("[data-bpmn-diagram] svg .djs-element").count() > 40
    for element_id in [*COMPLETED, *ACTIVE, "EndEvent_slegts", "Gateway_veids"]:
        assert page.locator(f'.djs-element[data-element-id="{element_id}"]').count() == 1, element_id

    active = page.locator(".djs-element.plusma-active")
    assert [active.nth(i).get_attribute("data-element-id") for i in range(active.count())] == ACTIVE
    completed = page.locator(".djs-element.plusma-completed")
    assert sorted(completed.nth(i).get_attribute("data-element-id") for i in range(completed.count())) == sorted(
        COMPLETED
    )
    assert (
        page.locator('.djs-element[data-element-id="Task_slegt"]')
        .get_attribute("class")
        .split()
        .count("plusma-completed")
        == 0
    )

    # The markers win over bpmn-js's inline styles; the active one is dashed, not just coloured.
    assert marker_style(page, "Task_klasificet") == {"stroke": ACTIVE_BLUE, "width": "4px", "dashes": "8px, 4px"}
    assert marker_style(page, "Task_registret")["stroke"] == COMPLETED_GREEN
    assert marker_style(page, "Task_registret")["dashes"] == "none"
    assert marker_style(page, "Task_slegt")["stroke"] not in (ACTIVE_BLUE, COMPLETED_GREEN)

    # Zoomed to fit: the whole diagram is inside the visible area.
    box = viewbox(page)
    inner = box["inner"]
    # (bpmn-js rounds the fitted scale to three decimals, which may crop a pixel or two.)
    slack = 0.005 * max(inner["width"], inner["height"])
    assert box["x"] <= inner["x"] + slack and inner["x"] + inner["width"] <= box["x"] + box["width"] + slack, box
    assert box["y"] <= inner["y"] + slack and inner["y"] + inner["height"] <= box["y"] + box["height"] + slack, box

    screenshot(page, "diagram-viewer")
    check_accessibility(page, "diagram-viewer")


def test_the_raw_bpmn_file_is_drawn_too(page, ui_server):
    serve(page, ui_server, diagram_element(active=["Task_slegt"]), raw_xml)
    assert wait_until_done(page) == "ready"
    assert page.locator('.djs-element.plusma-active[data-element-id="Task_slegt"]').count() == 1
    assert page.locator(".djs-element.plusma-completed").count() == 0


def test_the_container_is_the_one_tab_stop_and_pans_and_zooms_by_keyboard(page, ui_server):
    serve(page, ui_server, diagram_element(completed=COMPLETED, active=ACTIVE), raw_xml)
    assert wait_until_done(page) == "ready"
    assert page.get_attribute("[data-bpmn-diagram] svg", "tabindex") == "-1"

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.hasAttribute('data-bpmn-diagram')")
    focus_outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus_outline == "solid"

    fitted = viewbox(page)
    page.keyboard.press("ArrowRight")
    assert viewbox(page)["x"] > fitted["x"]
    page.keyboard.press("Shift+ArrowDown")
    assert viewbox(page)["y"] > fitted["y"]
    page.keyboard.press("+")
    zoomed = viewbox(page)["scale"]
    assert zoomed == pytest.approx(fitted["scale"] * 1.25, rel=0.01)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert viewbox(page)["scale"] < fitted["scale"]
    page.keyboard.press("0")
    assert viewbox(page)["scale"] == pytest.approx(fitted["scale"], rel=0.01)
    # The page itself did not scroll with the arrows.
    assert page.evaluate("() => window.scrollY") == 0


@pytest.mark.parametrize(
    "failure",
    ["server error", "not bpmn", "bad json"],
)
def test_a_diagram_that_cannot_be_loaded_shows_the_error_text(page, ui_server, failure):
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))

    def broken(route: Route) -> None:
        if failure == "server error":
            route.fulfill(status=500, content_type="application/json", body='{"type": "x", "message": "boom"}')
        elif failure == "not bpmn":
            route.fulfill(status=200, content_type="text/xml", body="<html><body>sign in</body></html>")
        else:
            route.fulfill(status=200, content_type="application/json", body='{"id": "x"}')

    serve(page, ui_server, diagram_element(active=ACTIVE), broken)
    assert wait_until_done(page) == "failed"
    error = page.locator("[data-bpmn-diagram] .plusma-diagram-error")
    assert error.inner_text() == ERROR_TEXT
    assert page.locator("[data-bpmn-diagram] svg").count() == 0
    # The cause is in the console for whoever looks: the URL and what went wrong.
    errors = [message.text for message in messages if message.type == "error"]
    assert any(f"{TEST_PATH}/xml" in text for text in errors), errors
    if failure == "server error":
        screenshot(page, "diagram-viewer-error")
        check_accessibility(page, "diagram-viewer-error")


def test_marker_lists_that_are_not_json_arrays_of_ids_show_the_error(page, ui_server):
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    serve(page, ui_server, diagram_element(active='["Task_klasificet"', completed="[]"), raw_xml)
    assert wait_until_done(page) == "failed"
    assert page.locator(".plusma-diagram-error").inner_text() == ERROR_TEXT
    assert any("data-active is not JSON" in message.text for message in messages)


def test_an_unknown_element_id_is_skipped_with_a_warning(page, ui_server):
    messages: list[ConsoleMessage] = []
    page.on("console", lambda message: messages.append(message))
    serve(page, ui_server, diagram_element(active=["Task_nav_tada", "Task_klasificet"]), raw_xml)
    assert wait_until_done(page) == "ready"
    assert page.locator(".djs-element.plusma-active").count() == 1
    assert any(m.type == "warning" and "Task_nav_tada" in m.text for m in messages)


def test_a_diagram_swapped_in_by_htmx_is_drawn(page, ui_server):
    button = f'<button type="button" hx-get="{TEST_PATH}/fragment" hx-target="#slot">Rādīt diagrammu</button>'
    serve(page, ui_server, f'{button}<div id="slot"></div>', raw_xml)
    assert page.locator("[data-bpmn-diagram]").count() == 0
    page.get_by_role("button", name="Rādīt diagrammu").click()
    assert wait_until_done(page, "#slot [data-bpmn-diagram]") == "ready"
    assert page.locator("#slot .djs-element.plusma-active").count() == 1
