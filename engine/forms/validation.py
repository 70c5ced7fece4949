"""Server-side validation of a submitted form: every value is checked against the form, never trusted.

``validate_submission(form, submitted, data)`` takes what the browser sent (a field key to the list of
strings, as werkzeug's ``MultiDict.getlist`` gives them; a MultiDict itself is accepted too) and the
process data, and answers a ``Submission``: the typed ``values`` to complete the task with, the
``errors`` per field key, the ``raw`` strings to show again when there are errors, and the ids of the
fields that were ``hidden``.

Rules, following form-js (``@bpmn-io/form-js-viewer``'s Validator) unless said otherwise:

- Text components are skipped. A field whose hide condition is true is neither validated nor returned.
  Hide conditions are decided in form order over the process data with the submitted values (and the
  defaultValues of disabled and readonly fields the data lacks); a hidden field's value is taken out
  before the next condition, as form-js does.
- Disabled and readonly fields are never read from the submission and are not in ``values``.
- textfield: the value with surrounding whitespace removed; textarea: as typed, with the browser's
  CRLF line ends made LF. An empty optional text field gives ``""``. ``required`` fails on empty or
  whitespace-only; minLength/maxLength count the characters without surrounding whitespace (form-js
  trims too); ``pattern`` is searched, not anchored (JavaScript's ``RegExp.test``: write ``^...$`` to
  match the whole value); email and phone use form-js's own expressions (phone: international, e.g.
  +37167012345).
- number: ``12``, ``-3``, ``12.5`` and the Latvian ``12,5``; an int when the value is whole and the
  field has no decimalDigits (or 0), else a float. Checked: decimalDigits, increment, min, max.
  Empty and optional gives None (in ``values``, so clearing a field clears its variable).
- select, radio: the value must be one of the options (the option's own value is returned, so a
  numeric option value stays a number). Empty and optional gives None.
- checkbox: ticked when ``"true"`` (or a browser's default ``"on"``) was sent; gives a bool.
- checklist: each ticked value must be an option; gives the values in the options' order; required
  means at least one.
- datetime: subtype date gives ``"YYYY-MM-DD"`` (a real calendar date; ``DD.MM.YYYY`` is accepted
  too), time ``"HH:MM"``, datetime ``"YYYY-MM-DDTHH:MM"`` (seconds are dropped). Empty and optional
  gives None.
- A field that takes one value but was sent several is refused (no browser does that).

Error codes (``FieldError.code``), with their ``params``; the UI words them in Latvian and English:

- ``required`` {}: nothing (or only whitespace) given for a required field
- ``too_short`` {"min": int}: fewer characters than minLength
- ``too_long`` {"max": int}: more characters than maxLength
- ``pattern`` {"pattern": str}: does not match validate.pattern
- ``email`` {}: not an e-mail address
- ``phone`` {}: not an international phone number
- ``not_a_number`` {"value": str}: a number field got something else
- ``decimals`` {"max": int}: more decimal digits than decimalDigits (0: not a whole number)
- ``increment`` {"increment": str, "previous": str, "next": str}: not a multiple of increment; the
  two nearest valid values
- ``below_min`` {"min": int | float}: less than validate.min
- ``above_max`` {"max": int | float}: more than validate.max
- ``not_an_option`` {"value": str}: a value that is not one of the field's options
- ``invalid_date`` / ``invalid_time`` / ``invalid_datetime`` {"value": str}: not a calendar date, a
  time of day, a date and time
- ``too_many_values`` {"count": int}: several values sent for a field that takes one
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.forms.display import current_value, display_strings, hidden_field_ids
from engine.forms.schema import Field, Form, compile_pattern
from engine.forms.values import format_scalar

# form-js's own expressions (Validator.js). The phone expression is anchored only at its end there too.
EMAIL_PATTERN = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\Z"
)
_PHONE_COUNTRY_CODES = (
    "297|93|244|1264|358|355|376|971|54|374|1684|1268|61|43|994|257|32|229|226|880|359|973|1242|387|590|375|501|"
    "1441|591|55|1246|673|975|267|236|1|61|41|56|86|225|237|243|242|682|57|269|238|506|53|5999|61|1345|357|420|49|"
    "253|1767|45|1809|1829|1849|213|593|20|291|212|34|372|251|358|679|500|33|298|691|241|44|995|44|233|350|224|590|"
    "220|245|240|30|1473|299|502|594|1671|592|852|504|385|509|36|62|44|91|246|353|98|964|354|972|39|1876|44|962|81|"
    "76|77|254|996|855|686|1869|82|383|965|856|961|231|218|1758|423|94|266|370|352|371|853|590|212|377|373|261|960|"
    "52|692|389|223|356|95|382|976|1670|258|222|1664|596|230|265|60|262|264|687|227|672|234|505|683|31|47|977|674|"
    "64|968|92|507|64|51|63|680|675|48|1787|1939|850|351|595|970|689|974|262|40|7|250|966|249|221|65|500|4779|677|"
    "232|503|378|252|508|381|211|239|597|421|386|46|268|1721|248|963|1649|235|228|66|992|690|993|670|676|1868|216|"
    "90|688|886|255|256|380|598|1|998|3906698|379|1784|58|1284|1340|84|678|681|685|967|27|260|263"
)
PHONE_PATTERN = re.compile(
    rf"(\+|00)({_PHONE_COUNTRY_CODES})"
    r"(9[976]\d|8[987530]\d|6[987]\d|5[90]\d|42\d|3[875]\d|2[98654321]\d|9[8543210]|8[6421]|6[6543210]|"
    r"5[87654321]|4[987654310]|3[9643210]|2[70]|7|1)\d{4,20}\Z",
    re.ASCII,
)

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_LATVIAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})\.?$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
_TICKED = ("true", "on")
#: Longer input is not a number anyone types; refusing it keeps conversions cheap.
MAX_NUMBER_CHARACTERS = 40


@dataclass(frozen=True)
class FieldError:
    """One problem with one field's value; ``code`` is one of those in this module's docstring."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Submission:
    #: Field key to the typed value, for every shown, editable field (the variables to complete with).
    values: dict[str, Any]
    #: Field key to its problems; empty when the submission is valid.
    errors: dict[str, list[FieldError]]
    #: Field key to the strings to show again: what the user sent for editable fields (also hidden ones,
    #: so nothing typed is lost), the process data's display strings for disabled and readonly ones.
    raw: dict[str, list[str]]
    #: Ids of the fields whose hide condition was true.
    hidden: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_submission(form: Form, submitted: Mapping[str, Any], data: Mapping[str, Any]) -> Submission:
    """Check what the browser sent against the form; see the module docstring for the rules and error codes."""
    raw: dict[str, list[str]] = {}
    parsed: dict[str, tuple[Any, list[FieldError]]] = {}
    context = dict(data)
    for item in form.fields:
        if item.key is None:
            continue
        if not item.editable:
            value = current_value(item, data)
            raw[item.key] = display_strings(item, value)
            if value is not None:
                context[item.key] = value
            continue
        strings = _strings(submitted, item.key)
        raw[item.key] = strings
        value, errors = _read(item, strings)
        parsed[item.key] = (value, errors)
        # A value that did not parse is null to the conditions, as an empty field would be.
        context[item.key] = None if _is_conversion_error(errors) else value

    hidden = hidden_field_ids(form, context)
    values: dict[str, Any] = {}
    all_errors: dict[str, list[FieldError]] = {}
    for item in form.fields:
        if item.key not in parsed or item.id in hidden:
            continue
        value, errors = parsed[item.key]
        if errors:
            all_errors[item.key] = errors
        else:
            values[item.key] = value
    return Submission(values=values, errors=all_errors, raw=raw, hidden=hidden)


def _strings(submitted: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(submitted, "getlist", None)
    sent = getlist(key) if callable(getlist) else submitted.get(key, [])
    if isinstance(sent, str):
        sent = [sent]
    return ["" if value is None else str(value) for value in sent]


_CONVERSION_ERRORS = frozenset(
    {"not_a_number", "not_an_option", "invalid_date", "invalid_time", "invalid_datetime", "too_many_values"}
)


def _is_conversion_error(errors: list[FieldError]) -> bool:
    return any(error.code in _CONVERSION_ERRORS for error in errors)


# --- one field -----------------------------------------------------------------------------------------


def _read(item: Field, strings: list[str]) -> tuple[Any, list[FieldError]]:
    """The typed value of one editable field and its problems."""
    if item.type == "checkbox":
        return _read_checkbox(item, strings)
    if item.type == "checklist":
        return _read_checklist(item, strings)
    sent = [text for text in strings if text != ""]
    if len(sent) > 1:
        return None, [FieldError("too_many_values", {"count": len(sent)})]
    text = sent[0] if sent else ""
    if item.type in ("textfield", "textarea"):
        return _read_text(item, text)
    if item.type == "number":
        return _read_number(item, text)
    if item.type in ("select", "radio"):
        return _read_choice(item, text)
    if item.type == "datetime":
        return _read_datetime(item, text)
    raise AssertionError(f"no reader for field type {item.type}")


def _read_text(item: Field, text: str) -> tuple[str, list[FieldError]]:
    value = text.strip() if item.type == "textfield" else text.replace("\r\n", "\n").replace("\r", "\n")
    significant = value.strip()
    if not significant:
        return value, [FieldError("required")] if item.required else []
    errors = []
    if item.min_length is not None and len(significant) < item.min_length:
        errors.append(FieldError("too_short", {"min": item.min_length}))
    if item.max_length is not None and len(significant) > item.max_length:
        errors.append(FieldError("too_long", {"max": item.max_length}))
    if item.pattern is not None and not compile_pattern(item.pattern).search(value):
        errors.append(FieldError("pattern", {"pattern": item.pattern}))
    if item.validation_type == "email" and not EMAIL_PATTERN.match(value):
        errors.append(FieldError("email"))
    if item.validation_type == "phone" and not PHONE_PATTERN.search(value):
        errors.append(FieldError("phone"))
    return value, errors


def _read_number(item: Field, text: str) -> tuple[int | float | None, list[FieldError]]:
    text = text.strip()
    if not text:
        return None, [FieldError("required")] if item.required else []
    if len(text) > MAX_NUMBER_CHARACTERS or not _NUMBER.match(text):
        return None, [FieldError("not_a_number", {"value": text})]
    number = Decimal(text.replace(",", "."))
    decimals = max(0, -number.normalize().as_tuple().exponent)
    whole = decimals == 0 and not item.decimal_digits
    value: int | float = int(number) if whole else float(number)
    errors = []
    if item.decimal_digits is not None and decimals > item.decimal_digits:
        errors.append(FieldError("decimals", {"max": item.decimal_digits}))
    if item.increment is not None:
        step = Decimal(str(item.increment))
        try:
            offset = number % step
        except InvalidOperation:
            offset = Decimal(0)
        if offset != 0:
            previous = number - offset
            errors.append(
                FieldError(
                    "increment",
                    {"increment": str(step), "previous": _plain(previous), "next": _plain(previous + step)},
                )
            )
    if item.minimum is not None and number < Decimal(str(item.minimum)):
        errors.append(FieldError("below_min", {"min": item.minimum}))
    if item.maximum is not None and number > Decimal(str(item.maximum)):
        errors.append(FieldError("above_max", {"max": item.maximum}))
    return value, errors


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _read_choice(item: Field, text: str) -> tuple[Any, list[FieldError]]:
    if text == "":
        return None, [FieldError("required")] if item.required else []
    for value, _label in item.options:
        if format_scalar(value) == text:
            return value, []
    return None, [FieldError("not_an_option", {"value": text})]


def _read_checkbox(item: Field, strings: list[str]) -> tuple[bool, list[FieldError]]:
    foreign = [text for text in strings if text not in (*_TICKED, "false", "")]
    if foreign:
        return False, [FieldError("not_an_option", {"value": foreign[0]})]
    ticked = any(text in _TICKED for text in strings)
    return ticked, [FieldError("required")] if item.required and not ticked else []


def _read_checklist(item: Field, strings: list[str]) -> tuple[list[Any], list[FieldError]]:
    ticked = {text for text in strings if text != ""}
    options = {text for text, _label in item.choices}
    errors = [FieldError("not_an_option", {"value": text}) for text in strings if text != "" and text not in options]
    value = [option for option, _label in item.options if format_scalar(option) in ticked]
    if item.required and not value and not errors:
        errors.append(FieldError("required"))
    return value, errors


def _read_datetime(item: Field, text: str) -> tuple[str | None, list[FieldError]]:
    text = text.strip()
    if not text:
        return None, [FieldError("required")] if item.required else []
    subtype = item.subtype or "date"
    if subtype == "date":
        day = _parse_date(text)
        return (day, []) if day else (None, [FieldError("invalid_date", {"value": text})])
    if subtype == "time":
        clock = _parse_time(text)
        return (clock, []) if clock else (None, [FieldError("invalid_time", {"value": text})])
    day_text, separator, clock_text = text.replace(" ", "T", 1).partition("T")
    day, clock = _parse_date(day_text), _parse_time(clock_text)
    if not separator or not day or not clock:
        return None, [FieldError("invalid_datetime", {"value": text})]
    return f"{day}T{clock}", []


def _parse_date(text: str) -> str | None:
    """``YYYY-MM-DD`` (or the Latvian ``DD.MM.YYYY``) as ``YYYY-MM-DD`` when it is a real calendar date."""
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _LATVIAN_DATE.match(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _parse_time(text: str) -> str | None:
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"
