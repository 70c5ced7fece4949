"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.errors import TooManyAttempts, Unauthorized
from web.ui import session as ui_session
from web.ui.i18n import LANGUAGES

blp = Blueprint("auth", __name__)


def local_target(target: str | None, default: str) -> str:
    """Only paths of this site are followed after sign-in or a language switch (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@blp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = local_target(request.values.get("next"), url_for("inbox.index"))
    if request.method == "GET":
        if ui_session.current_principal() is not None:
            return redirect(target)
        return render_template("sign_in.html", next=target, user_name="")
    engine = current_app.extensions["plusma"]
    user_name = request.form.get("username", "").strip()
    try:
        principal = engine.sign_in.sign_in(user_name, request.form.get("password", ""), request.remote_addr)
    except TooManyAttempts as blocked:
        error = _("Too many failed sign-in attempts. Try again in %(seconds)d seconds.", seconds=blocked.retry_after)
        response = render_template("sign_in.html", next=target, user_name=user_name, error=error)
        return response, 429, {"Retry-After": str(blocked.retry_after)}
    except Unauthorized:
        error = _("Wrong user name or password.")
        return render_template("sign_in.html", next=target, user_name=user_name, error=error), 401
    stored = engine.users.get(principal.user_id).get("locale")
    ui_session.start(principal, stored or session.get("locale"))
    return redirect(target)


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    language = session.get("locale")
    ui_session.end()
    if language:
        session["locale"] = language
    return redirect(url_for("auth.sign_in", signed_out=1))


@blp.route("/language", methods=["POST"])
def choose_language():
    language = request.form.get("language")
    if language in LANGUAGES:
        session["locale"] = language
        principal = ui_session.current_principal()
        if principal is not None:
            current_app.extensions["plusma"].users.set_locale(principal.user_id, language)
    return redirect(local_target(request.form.get("next"), url_for("inbox.index")))
