"""Who is signed in to the web UI, and the CSRF token every form carries.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax): it holds the user id, when they
signed in, their language and a random CSRF token. The user's groups are read from the database on
each request, so a changed membership or a deleted user takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import BadRequest as HTTPBadRequest

from engine.errors import Unauthorized
from engine.identity import Principal

#: A session ends this long after sign-in, whatever the activity (a working day and some).
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def start(principal: Principal, locale: str | None) -> None:
    """A fresh session for someone who just signed in (nothing of the anonymous one carries over)."""
    session.clear()
    session["user_id"] = principal.user_id
    session["signed_in_at"] = int(time.time())
    session["csrf"] = secrets.token_urlsafe(32)
    if locale:
        session["locale"] = locale


def end() -> None:
    session.clear()


def current_principal() -> Principal | None:
    """The signed-in user (cached for the request), or None."""
    if "principal" in g:
        return g.principal
    principal = None
    user_id = session.get("user_id")
    if user_id and time.time() - session.get("signed_in_at", 0) < SESSION_SECONDS:
        try:
            principal = current_app.extensions["plusma"].users.principal(user_id)
        except Unauthorized:
            session.clear()
    elif user_id:
        session.clear()
    g.principal = principal
    return principal


def principal() -> Principal:
    """The signed-in user of a view behind ``signed_in``."""
    return g.principal


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Views that need a signed-in user send others to the sign-in page, and back afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_principal() is None:
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.sign_in", next=target.rstrip("?") if target else None))
        return view(*args, **kwargs)

    return wrapper


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Before every state-changing request of the UI: the form's token must match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError()


class CsrfError(HTTPBadRequest):
    description = "The form expired or did not come from this site; reload the page and try again."
