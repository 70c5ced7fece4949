"""The task page: the task's form, claim, unclaim and complete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, Forbidden, NotFound
from engine.forms.validation import Submission, validate_submission
from web.ui.form_view import field_views, load_form, submitted_fields
from web.ui.labels import element_name, process_name
from web.ui.session import principal, signed_in

blp = Blueprint("tasks", __name__, url_prefix="/tasks")


def _engine():  # noqa: ANN202
    return current_app.extensions["plusma"]


def _gone(task_id: str):  # noqa: ANN202
    """The page for a task that is no longer open: say who completed it, and when, if anyone did."""
    completion = _engine().history.task_completion(task_id)
    return render_template("task_gone.html", completion=completion), 409 if completion else 404


def _context(task_id: str) -> dict[str, Any] | None:
    engine = _engine()
    try:
        row, data = engine.tasks.row_and_data(principal(), task_id)
    except NotFound:
        return None
    return {
        "task": row,
        "task_name": element_name(row["definition_key"], row["task_definition_key"], row["name"]),
        "process_name": process_name(row["definition_key"]),
        "form": load_form(row.get("form_ref") or row.get("form_key")),
        "data": data,
        "mine": row["assignee"] == principal().user_id,
        "deadline_state": engine.inbox.deadline_state(row["due"]),
    }


def _render(context: dict[str, Any], status: int = 200, submission: Submission | None = None):  # noqa: ANN202
    form = context["form"]
    views = field_views(form, context["data"], submission) if form else []
    return render_template("task.html", fields=views, **context), status


@blp.route("/<task_id>")
@signed_in
def show(task_id: str):
    context = _context(task_id)
    if context is None:
        return _gone(task_id)
    return _render(context)


@blp.route("/<task_id>/fields", methods=["POST"])
@signed_in
def fields(task_id: str):
    """The ids of the form's fields hidden by their conditions over what is typed so far (plusma.js
    shows and hides them as the user goes; nothing on the page is replaced)."""
    context = _context(task_id)
    if context is None or context["form"] is None:
        return _gone(task_id)
    submission = validate_submission(context["form"], submitted_fields(), context["data"])
    return jsonify(hidden=sorted(submission.hidden))


@blp.route("/<task_id>/claim", methods=["POST"])
@signed_in
def claim(task_id: str):
    try:
        _engine().tasks.claim(principal(), task_id, principal().user_id)
    except NotFound:
        return _gone(task_id)
    except Conflict as taken:
        flash(_("Someone else claimed this task first."), "error")
        current_app.logger.info("claim refused: %s", taken.message)
    else:
        flash(_("You claimed the task; it is in your tasks now."), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@blp.route("/<task_id>/unclaim", methods=["POST"])
@signed_in
def unclaim(task_id: str):
    try:
        _engine().tasks.unclaim(principal(), task_id)
    except NotFound:
        return _gone(task_id)
    flash(_("You gave the task back to the group."), "success")
    return redirect(url_for("tasks.show", task_id=task_id))


@blp.route("/<task_id>/complete", methods=["POST"])
@signed_in
def complete(task_id: str):
    engine = _engine()
    context = _context(task_id)
    if context is None:
        return _gone(task_id)
    task = context["task"]
    if task["assignee"] not in (None, principal().user_id):
        flash(_("%(user)s has claimed this task; only they can complete it.", user=task["assignee"]), "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    values: dict[str, Any] = {}
    submission = None
    if context["form"] is not None:
        submission = validate_submission(context["form"], submitted_fields(), context["data"])
        if not submission.ok:
            return _render(context, 422, submission)
        values = submission.values
    try:
        if task["assignee"] is None:
            engine.tasks.claim(principal(), task_id, principal().user_id)
        engine.tasks.complete(principal(), task_id, values)
    except NotFound:
        return _gone(task_id)
    except (Conflict, Forbidden):
        # What was typed stays on the page, so it can be passed on to whoever has the task now.
        context["page_error"] = _("Someone else claimed this task meanwhile; your input was not saved.")
        return _render(context, 409, submission)
    flash(
        _("Task “%(name)s” completed (%(key)s).", name=context["task_name"], key=task["business_key"] or "—"),
        "success",
    )
    return redirect(url_for("inbox.index"))
