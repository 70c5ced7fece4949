"""What a form shows: the strings that prefill its inputs from the process data, and which fields are hidden.

``field_values`` answers in the shape ``Submission.raw`` has (a field key to a list of strings, as a
browser sends them), so a template renders a fresh form and a form sent back with errors the same way:
a text input, number, select, radio or date shows the first string (none: empty), a checkbox is ticked
when the list holds ``"true"``, a checklist ticks each value in the list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from engine.forms.feel import is_true
from engine.forms.schema import Field, Form
from engine.forms.values import format_scalar


def field_values(form: Form, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The strings to prefill each keyed field with: the process data's value, else the field's defaultValue."""
    return {field.key: display_strings(field, current_value(field, data)) for field in form.fields if field.key}


def current_value(field: Field, data: Mapping[str, Any]) -> Any:
    """The field's value before the user changes it: the process data's, or the defaultValue when the data has none."""
    value = data.get(field.key) if field.key else None
    return field.default if value is None else value


def display_strings(field: Field, value: Any) -> list[str]:
    """One value of the process data as the strings an input of this field shows."""
    if value is None:
        return []
    kind = field.type
    if kind == "checkbox":
        return ["true"] if value is True or (isinstance(value, str) and value.lower() == "true") else []
    if kind == "checklist":
        items = value if isinstance(value, (list, tuple)) else [value]
        return [format_scalar(item) for item in items if item is not None]
    if kind == "datetime":
        return [_format_datetime(field.subtype or "date", value)]
    # A select's or radio's option value may be a number or boolean in the schema; the browser sends text.
    return [format_scalar(value)]


_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?")
_ISO_TIME = re.compile(r"^(\d{2}:\d{2})")


def _format_datetime(subtype: str, value: Any) -> str:
    """A date, time or date-time as the browser's date/time inputs want it; a date-time's date as written."""
    day: str | None = None
    clock: str | None = None
    if isinstance(value, datetime):
        day, clock = value.date().isoformat(), value.strftime("%H:%M")
    elif isinstance(value, date):
        day = value.isoformat()
    elif isinstance(value, time):
        clock = value.strftime("%H:%M")
    elif isinstance(value, str):
        text = value.strip()
        match = _ISO_DATE.match(text)
        if match:
            day, clock = match.group(1), match.group(2)
        else:
            time_match = _ISO_TIME.match(text)
            clock = time_match.group(1) if time_match else None
    if subtype == "date" and day:
        return day
    if subtype == "time" and clock:
        return clock
    if subtype == "datetime" and day:
        return f"{day}T{clock or '00:00'}"
    # Not a date this field understands: show it as it is, so nothing is silently lost.
    return format_scalar(value)


# --- hide conditions -----------------------------------------------------------------------------------


def is_hidden(field: Field, context: Mapping[str, Any]) -> bool:
    """True when the field's hide condition is true over ``context`` (null or no condition: shown)."""
    return field.hide is not None and is_true(field.hide, context)


def hidden_field_ids(form: Form, context: Mapping[str, Any]) -> frozenset[str]:
    """The ids of the fields hidden over ``context`` (variable name to value), decided in form order as form-js
    does: a hidden field's value is taken out of the context, so later conditions see it as null."""
    working = dict(context)
    hidden: set[str] = set()
    for field in form.fields:
        if is_hidden(field, working):
            hidden.add(field.id)
            if field.key is not None:
                working.pop(field.key, None)
    return frozenset(hidden)


def display_context(form: Form, data: Mapping[str, Any]) -> dict[str, Any]:
    """The variables hide conditions see on a fresh form: the process data with the fields' defaultValues."""
    context = dict(data)
    for field in form.fields:
        if field.key is not None and context.get(field.key) is None and field.default is not None:
            context[field.key] = field.default
    return context


def visible_fields(form: Form, data: Mapping[str, Any]) -> list[Field]:
    """The fields of a fresh form that are not hidden over the process data (with the fields' defaultValues)."""
    hidden = hidden_field_ids(form, display_context(form, data))
    return [field for field in form.fields if field.id not in hidden]
