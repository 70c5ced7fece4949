"""The inbox page (filters, search, sorting, htmx partial, bad parameters), the start page and the
instance page (diagram markers, data, timeline)."""

from __future__ import annotations

import json
import re

from engine.services.tasks import TaskQuery
from tests.ui.conftest import CLERK, EXECUTOR
from tests.ui.test_task_pages import REGISTRATION, start_intake


def test_inbox_lists_filters_and_searches_tasks(browser_for):
    clerk = browser_for(CLERK)
    first = start_intake(clerk, "PIE-2026-0201")
    clerk.post(f"/tasks/{first}/complete", {**REGISTRATION, "temats": "Ūdens noplūde"})
    start_intake(clerk, "PIE-2026-0202")

    page = clerk.get("/").get_data(as_text=True)
    assert "2 uzdevumi" in page
    assert "Klasificēt pieteikumu" in page and "Reģistrēt pieteikumu" in page
    assert "Ūdens noplūde" in page, "the subject, once the registration set it"

    found = clerk.get("/?q=ūdens").get_data(as_text=True)
    assert "1 uzdevums" in found and "PIE-2026-0201" in found and "PIE-2026-0202" not in found
    assert "PIE-2026-0202" in clerk.get("/?q=0202").get_data(as_text=True)
    assert "0 uzdevumu" in clerk.get("/?process=incidentu_parvaldiba").get_data(as_text=True)
    assert "0 uzdevumu" in clerk.get("/?view=mine").get_data(as_text=True)
    assert "2 uzdevumi" in clerk.get("/?view=group&sort=priority&deadline=none&size=10").get_data(as_text=True)

    partial = clerk.get("/?q=0202", headers={"HX-Request": "true", "HX-Target": "inbox-results"})
    text = partial.get_data(as_text=True)
    assert text.lstrip().startswith('<p class="result-count" role="status">') and "<html" not in text


def test_inbox_shows_deadline_state_and_priority_in_words(browser_for, ui_engine):
    clerk = browser_for(CLERK)
    task_id = start_intake(clerk, "PIE-2026-0203")
    clerk.post(f"/tasks/{task_id}/complete", REGISTRATION)
    page = clerk.get("/?q=0203").get_data(as_text=True)
    classify = re.search(r"Klasificēt pieteikumu.*?</tr>", page, re.S).group(0)
    assert 'class="badge badge--' in classify and 'class="priority priority--' in classify


def test_bad_inbox_parameters_are_named(browser_for):
    clerk = browser_for(CLERK)
    for query, named in (("?sort=name", "sort"), ("?page=abc", "page"), ("?priority=urgent", "priority")):
        response = clerk.get("/" + query)
        assert response.status_code == 400 and named in response.get_data(as_text=True), query


def test_inbox_in_english(browser_for):
    clerk = browser_for(CLERK)
    start_intake(clerk, "PIE-2026-0204")
    clerk.post("/language", {"language": "en"})
    page = clerk.get("/").get_data(as_text=True)
    assert "1 task" in page and "Register the request" in page and "Request intake" in page


def test_start_page_lists_what_the_user_may_start(browser_for, ui_engine):
    clerk = browser_for(CLERK)
    page = clerk.get("/start/").get_data(as_text=True)
    assert "/start/pieteikumu_parvaldiba" in page
    assert "/start/kvdb_audits" not in page, "a timer-started process has no start by hand"
    executor = browser_for(EXECUTOR)
    listed = executor.get("/start/").get_data(as_text=True)
    assert "/start/konfiguraciju_parvaldiba" in listed, "level 2 may start configuration management"
    assert "/start/pieteikumu_parvaldiba" not in listed, "only the front office registers requests"
    assert executor.get("/start/pieteikumu_parvaldiba").status_code == 404
    form = clerk.get("/start/pieteikumu_parvaldiba").get_data(as_text=True)
    assert 'name="businessKey" type="text" value="PIE-2026-0001"' in form, "a request number is suggested"
    response = clerk.post("/start/pieteikumu_parvaldiba", {"businessKey": "  "})
    assert response.status_code == 422 and "Aizpildiet šo lauku." in response.get_data(as_text=True)
    assert clerk.get("/start/no_such_process").status_code == 404


def test_instance_page_marks_the_diagram_and_shows_data_and_history(browser_for, ui_engine):
    clerk = browser_for(CLERK)
    task_id = start_intake(clerk, "PIE-2026-0205")
    clerk.post(f"/tasks/{task_id}/complete", REGISTRATION)
    [task] = ui_engine.tasks.list(ui_engine.users.principal(CLERK), TaskQuery(business_key="PIE-2026-0205"))
    instance_id = task["instance_id"]
    response = clerk.get(f"/instances/{instance_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    completed = json.loads(re.search(r"data-completed='([^']*)'", page).group(1))
    active = json.loads(re.search(r"data-active='([^']*)'", page).group(1))
    assert "Task_registret" in completed and "StartEvent_sanemts" in completed
    assert active == ["Task_klasificet"]
    assert "Temats <code>temats</code>" in page and "Izziņa par deklarēto dzīvesvietu" in page
    assert re.search(r"<code>kanals</code></th><td>Portāls</td>", page), "a choice shows its label, not its code"
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)
    assert "Process sākts" in timeline and "Uzdevums pabeigts: Reģistrēt pieteikumu" in timeline and "klara" in timeline
    xml = clerk.get(f"/instances/{instance_id}/diagram.bpmn")
    assert xml.mimetype == "application/xml" and b"Task_klasificet" in xml.data

    clerk.post("/language", {"language": "en"})
    english = clerk.get(f"/instances/{instance_id}/diagram.bpmn").get_data(as_text=True)
    assert 'name="Classify the request"' in english, "the diagram speaks the UI's language"
    page = clerk.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Sent: Send the request number" in page and "Step done: Send the request number" not in page

    executor = browser_for(EXECUTOR)
    assert executor.get(f"/instances/{instance_id}").status_code == 403
    assert executor.get(f"/instances/{instance_id}/diagram.bpmn").status_code == 403
