"""The staff web UI: server-rendered pages (Jinja, with htmx where it helps) over the engine's services.

One module per page group — ``auth`` (sign-in, sign-out, language), ``inbox``, ``tasks``, ``start``,
``instances`` — each a blueprint; ``init_app`` wires them, the session, CSRF and languages into the app.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _

from engine.config import Settings
from engine.deadlines import calendar
from engine.errors import BadRequest, Forbidden, NotFound, PlusmaError
from engine.process_engine import ProcessEngine
from engine.translations import Catalogues
from web.ui import auth, inbox, instances, start, tasks
from web.ui import session as ui_session
from web.ui.form_view import markdown
from web.ui.i18n import LANGUAGES, language
from web.ui.i18n import init_app as init_i18n
from web.ui.labels import element_name, process_choices, process_name

BLUEPRINTS = (auth.blp, inbox.blp, tasks.blp, start.blp, instances.blp)
UI_ENDPOINT_PREFIXES = tuple(f"{bp.name}." for bp in BLUEPRINTS)


def session_key(settings: Settings) -> str:
    """The key that signs session cookies: configured, or generated once into the data folder so that
    every server process (and a restart) shares it."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(secrets.token_urlsafe(48))
        temporary.chmod(0o600)
        # Two processes starting at once: the first rename wins and both read the same key.
        if not path.exists():
            temporary.replace(path)
        else:
            temporary.unlink()
    return path.read_text().strip()


def init_app(app: Flask, engine: ProcessEngine) -> None:
    settings = engine.settings
    app.secret_key = session_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME="plusma_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.extensions["plusma.catalogues"] = Catalogues(settings.processes_dir, settings.forms_dir)
    init_i18n(app, timezone=calendar().timezone.key)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_error_handler(ui_session.CsrfError, _csrf_error_page)
    app.jinja_env.globals.update(
        csrf_token=ui_session.csrf_token,
        current_principal=ui_session.current_principal,
        languages=LANGUAGES,
        language=language,
        process_name=process_name,
        process_choices=process_choices,
        element_name=element_name,
    )
    app.jinja_env.filters.update(when=_when, markdown=markdown, data_value=_data_value)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.after_request(_security_headers)


def _when(value: datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    return format_datetime(value, "dd.MM.yyyy HH:mm" if style == "medium" else style)


def _data_value(value: object) -> str:
    """A process variable as staff read it: yes/no, lists joined, dates in the UI's format."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, list | tuple):
        return ", ".join(_data_value(item) for item in value)
    return str(value)


def _error_page(error: PlusmaError):  # noqa: ANN202
    status = 404 if isinstance(error, NotFound) else 403 if isinstance(error, Forbidden) else 400
    if not isinstance(error, BadRequest | NotFound | Forbidden):
        status = 409
    titles = {404: _("Not found"), 403: _("Not allowed"), 400: _("Request not accepted"), 409: _("Not done")}
    return render_template("error.html", title=titles[status], message=error.message), status


# Blueprints are set up once, at import; each app registers them.
for _blueprint in BLUEPRINTS:
    _blueprint.before_request(ui_session.check_csrf)
    _blueprint.register_error_handler(PlusmaError, _error_page)


def _csrf_error_page(error: ui_session.CsrfError):  # noqa: ANN202
    if not request.endpoint or not request.endpoint.startswith(UI_ENDPOINT_PREFIXES):
        return error
    return render_template(
        "error.html",
        title=_("The form expired"),
        message=_(
            "The form expired or did not come from this site. Go back, reload the page and try again; "
            "what you typed is still in the browser's previous page."
        ),
    ), 400


def _security_headers(response):  # noqa: ANN001, ANN202
    if request.endpoint and request.endpoint.startswith(UI_ENDPOINT_PREFIXES):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
    return response
