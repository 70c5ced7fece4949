"""The start page: the processes this user may start, each with its start form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import BadRequest, Forbidden, NotFound
from engine.forms.validation import Submission, validate_submission
from engine.services.instances import may_start
from engine.services.tasks import TaskQuery
from web.ui.form_view import field_views, load_form, submitted_fields
from web.ui.labels import process_name
from web.ui.session import principal, signed_in

blp = Blueprint("start", __name__, url_prefix="/start")
BUSINESS_KEY_FIELD = "businessKey"


def _engine():  # noqa: ANN202
    return current_app.extensions["plusma"]


def startable() -> list[dict[str, Any]]:
    """Latest versions the user may start by hand (a plain start event; not suspended), by name."""
    engine = _engine()
    found = []
    for definition in engine.definitions.list(latest_only=True):
        if definition.get("suspended") or not may_start(principal(), definition):
            continue
        if engine.definitions.has_plain_start_event(definition):
            found.append({**definition, "label": process_name(definition["key"])})
    return sorted(found, key=lambda d: d["label"].casefold())


def key_prefix(key: str, now: datetime) -> str:
    """Request numbers read like PIE-2026-0001: the process's first letters and the year."""
    letters = "".join(ch for ch in key if ch.isalpha())[:3].upper() or "REQ"
    return f"{letters}-{now.year}"


@blp.route("/")
@signed_in
def index():
    return render_template("start.html", definitions=startable())


def _definition(key: str) -> dict[str, Any]:
    for definition in startable():
        if definition["key"] == key:
            return definition
    abort(404)


@blp.route("/<key>", methods=["GET", "POST"])
@signed_in
def form(key: str):
    engine = _engine()
    definition = _definition(key)
    form_key, form_ref = engine.definitions.start_form(definition)
    start_form = load_form(form_ref or form_key)

    def page(business_key: str, submission: Submission | None = None, status: int = 200, **notices: str) -> tuple:
        views = field_views(start_form, {}, submission) if start_form else []
        return render_template(
            "start_form.html",
            definition=definition,
            form=start_form,
            fields=views,
            business_key=business_key,
            **notices,
        ), status

    if request.method == "GET":
        return page(engine.instances.next_business_key(key_prefix(key, engine.clock.now())))

    business_key = request.form.get(BUSINESS_KEY_FIELD, "").strip()
    submission = validate_submission(start_form, submitted_fields(BUSINESS_KEY_FIELD), {}) if start_form else None
    key_error = None if business_key else _("Fill in this field.")
    if len(business_key) > 255:
        key_error = _("Enter at most %(max)s characters.", max=255)
    if key_error or (submission and not submission.ok):
        return page(business_key, submission, 422, key_error=key_error)
    try:
        instance = engine.instances.start(
            principal(),
            definition_id=definition["id"],
            variables=submission.values if submission else {},
            business_key=business_key,
        )
    except (BadRequest, Forbidden, NotFound) as refused:
        return page(business_key, submission, 400, page_error=refused.message)
    # The starter's own first task, if the process gives them one, is where they continue.
    tasks = engine.tasks.list(principal(), TaskQuery(process_instance_id=instance["id"], sort_by="created"))
    if tasks:
        return redirect(url_for("tasks.show", task_id=tasks[0]["id"]))
    return redirect(url_for("instances.show", instance_id=instance["id"]))
