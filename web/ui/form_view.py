"""A form-js form as HTML: which fields show, their values, and error messages in the UI's language.

The engine parses and validates forms (``engine.forms``); this module only prepares what the
templates render, so that a first view and a view after errors render alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine.forms.display import display_context, field_values, hidden_field_ids
from engine.forms.schema import Field, Form, parse_form
from engine.forms.validation import FieldError, Submission
from web.ui.labels import form_translation
from web.ui.session import CSRF_FIELD

# form-js renders text components as CommonMark; raw HTML in them is shown as text, never run.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown(text: str | None) -> Markup:
    return Markup(_markdown.render(text or ""))


@dataclass
class FieldView:
    field: Field
    values: list[str]
    errors: list[str] = field(default_factory=list)
    hidden: bool = False

    @property
    def input_id(self) -> str:
        return f"field-{self.field.key or self.field.id}"

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


def load_form(form_id: str | None) -> Form | None:
    """The latest deployed form by id, in the UI's language; None when the task has no form."""
    if not form_id:
        return None
    row = current_app.extensions["plusma"].definitions.form(form_id)
    if row is None:
        return None
    return parse_form(row["schema"], form_translation(form_id))


def field_views(
    form: Form, data: Mapping[str, Any], submission: Submission | None = None, *, with_errors: bool = True
) -> list[FieldView]:
    """What to render for each field: prefilled from the process data on a fresh form, or what was
    typed after a submission (whose values also decide the hide conditions)."""
    if submission is None:
        shown, hidden, errors = field_values(form, data), hidden_field_ids(form, display_context(form, data)), {}
    else:
        shown, hidden = submission.raw, submission.hidden
        errors = submission.errors if with_errors else {}
    return [
        FieldView(
            field=f,
            values=shown.get(f.key, []) if f.key else [],
            errors=[error_message(e) for e in errors.get(f.key, [])] if f.key else [],
            hidden=f.id in hidden,
        )
        for f in form.fields
    ]


def submitted_fields(*excluded: str) -> dict[str, list[str]]:
    """What the browser sent for the form's fields: every value of each name but the CSRF token's."""
    skip = {CSRF_FIELD, *excluded}
    return {key: request.form.getlist(key) for key in request.form if key not in skip}


def error_message(error: FieldError) -> str:
    params = error.params or {}
    messages = {
        "required": lambda: _("Fill in this field."),
        "too_short": lambda: _("Enter at least %(min)s characters.", min=params.get("min")),
        "too_long": lambda: _("Enter at most %(max)s characters.", max=params.get("max")),
        "pattern": lambda: _("The value does not have the required format."),
        "email": lambda: _("Enter an e-mail address, such as name@example.lv."),
        "phone": lambda: _("Enter a phone number with the country code, such as +37167012345."),
        "not_a_number": lambda: _("Enter a number, such as 12 or 12,5."),
        "decimals": lambda: (
            _("Enter a whole number.")
            if not params.get("max")
            else _("Use at most %(max)s digits after the decimal comma.", max=params.get("max"))
        ),
        "increment": lambda: _(
            "Enter a multiple of %(increment)s, such as %(previous)s or %(next)s.",
            increment=params.get("increment"),
            previous=params.get("previous"),
            next=params.get("next"),
        ),
        "below_min": lambda: _("Enter %(min)s or more.", min=params.get("min")),
        "above_max": lambda: _("Enter %(max)s or less.", max=params.get("max")),
        "not_an_option": lambda: _("Choose one of the options offered."),
        "invalid_date": lambda: _("Enter a date, such as 2026-12-01."),
        "invalid_time": lambda: _("Enter a time as HH:MM, such as 09:30."),
        "invalid_datetime": lambda: _("Enter a date and a time, such as 2026-12-01 09:30."),
        "too_many_values": lambda: _("Give one value only."),
    }
    message = messages.get(error.code)
    return message() if message else _("This value is not accepted (%(code)s).", code=error.code)
