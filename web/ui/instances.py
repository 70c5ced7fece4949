"""The instance page: the diagram with completed and active elements marked, the data and the
history as a timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template

from engine.services.history import pair_activity_events
from engine.services.tasks import TaskQuery
from web.ui.form_view import load_form
from web.ui.labels import element_name, form_ids, process_name, translated_diagram
from web.ui.session import principal, signed_in

blp = Blueprint("instances", __name__, url_prefix="/instances")

#: History events a person reading the timeline cares about; the REST history keeps them all.
TIMELINE_EVENTS = {
    "instance_started",
    "instance_completed",
    "instance_cancelled",
    "task_created",
    "task_claimed",
    "task_unclaimed",
    "task_completed",
    "timer_fired",
    "message_sent",
    "message_received",
    "connector_completed",
    "external_task_completed",
    "external_task_failed",
    "external_task_bpmn_error",
    "job_failed",
    "incident_created",
    "incident_resolved",
    "variables_set",
}
#: Elements whose completion is news on the timeline (gateways and plain events are not).
TIMELINE_ACTIVITIES = {"scriptTask", "serviceTask", "businessRuleTask", "sendTask", "callActivity", "endEvent"}


def _engine():  # noqa: ANN202
    return current_app.extensions["plusma"]


#: Events that already say how a step ended, so its plain completion adds nothing.
_ENDINGS = {"connector_completed", "external_task_completed", "external_task_bpmn_error"}


def timeline(instance: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    told = {e["activity_instance_id"] for e in events if e["event_type"] in _ENDINGS and e["activity_instance_id"]}
    entries = []
    for event in events:
        kind = event["event_type"]
        if kind == "activity_completed":
            if event.get("activity_type") not in TIMELINE_ACTIVITIES or event.get("activity_instance_id") in told:
                continue
        elif kind not in TIMELINE_EVENTS:
            continue
        name = None
        if event.get("activity_id"):
            name = element_name(
                instance["definition_key"], event["activity_id"], event.get("activity_name"), instance["definition_id"]
            )
        entries.append({**event, "label": name})
    return entries


def markers(activities: list[dict[str, Any]], open_tasks: list[str]) -> tuple[list[str], list[str]]:
    """Element ids to mark on the diagram: completed (ran to their end) and active (running or waiting)."""
    completed, active = set(), set(open_tasks)
    for activity in activities:
        element = activity["start"]["activity_id"]
        if not element:
            continue
        if activity["end"] is not None and activity["end"]["event_type"] == "activity_completed":
            completed.add(element)
        elif activity["end"] is None:
            active.add(element)
    return sorted(completed - active), sorted(active)


def data_rows(definition_id: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The process data as staff read it: each variable with the label its form gives it, and a
    choice's option label instead of its code."""
    fields = {}
    for form_id in form_ids(definition_id):
        form = load_form(form_id)
        for form_field in form.fields if form else ():
            if form_field.key and form_field.key not in fields:
                fields[form_field.key] = form_field
    rows = []
    for key, value in sorted(variables.items()):
        form_field = fields.get(key)
        if form_field is not None and form_field.options:
            if isinstance(value, list | tuple):
                value = [form_field.option_label(item) or item for item in value]
            elif value is not None:
                value = form_field.option_label(value) or value
        rows.append({"key": key, "label": form_field.label if form_field else None, "value": value})
    return rows


@blp.route("/<instance_id>")
@signed_in
def show(instance_id: str):
    engine = _engine()
    instance = engine.instances.get(principal(), instance_id)
    variables = engine.instances.variables(principal(), instance_id)
    events = engine.history.events(instance_id)
    tasks = []
    if instance["state"] == "ACTIVE":
        tasks = engine.tasks.list(principal(), TaskQuery(process_instance_id=instance_id))
    # The activities are paired from the events already read, not read again.
    completed, active = markers(pair_activity_events(events), [t["task_definition_key"] for t in tasks])
    return render_template(
        "instance.html",
        instance=instance,
        process_label=process_name(instance["definition_key"]),
        variables=data_rows(instance["definition_id"], variables),
        timeline=timeline(instance, events),
        open_tasks=[
            {**t, "label": element_name(instance["definition_key"], t["task_definition_key"], t["name"])} for t in tasks
        ],
        completed=completed,
        active=active,
    )


@blp.route("/<instance_id>/diagram.bpmn")
@signed_in
def diagram(instance_id: str):
    engine = _engine()
    instance = engine.instances.get(principal(), instance_id)
    xml = translated_diagram(instance["definition_id"], instance["definition_key"])
    # The language is in the session, not the URL: a cached copy must not outlive a language switch.
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, no-cache"})
