"""The inbox: the signed-in user's tasks and their groups' unclaimed tasks."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from engine.errors import BadRequest
from engine.services.inbox import PAGE_SIZES, InboxQuery
from web.ui.session import principal, signed_in

blp = Blueprint("inbox", __name__)


def _number(name: str, default: int) -> int:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a whole number") from None


def query_from_request() -> InboxQuery:
    args = request.args
    return InboxQuery(
        view=args.get("view") or "all",
        process=args.get("process") or None,
        priority=args.get("priority") or None,
        deadline=args.get("deadline") or None,
        search=args.get("q") or None,
        sort=args.get("sort") or "due",
        page=_number("page", 1),
        page_size=_number("size", 25),
    )


@blp.route("/")
@signed_in
def index():
    query = query_from_request()
    page = current_app.extensions["plusma"].inbox.page(principal(), query)
    context = {
        "query": query,
        "page": page,
        "page_size_choices": [(size, size) for size in PAGE_SIZES],
    }
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "inbox-results":
        return render_template("inbox_results.html", **context)
    return render_template("inbox.html", **context)
