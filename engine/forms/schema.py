"""Read a form-js ("Camunda Forms") schema into the fields the staff UI renders and validates.

``parse_form`` checks what the renderer relies on, so a form it cannot show correctly is refused with
a message naming the form, the component and what is wrong, instead of being shown half-working:
only the field types the UI renders, options for choice fields, unique keys, well-typed validation
rules, a pattern that compiles and a hide condition the FEEL subset understands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from engine.forms.errors import FormError
from engine.forms.feel import FeelError, compile_expression
from engine.forms.values import format_scalar

#: Field types the staff UI renders, and the ones among them that hold a value under a key.
FIELD_TYPES = frozenset(
    {"textfield", "textarea", "number", "select", "radio", "checkbox", "checklist", "datetime", "text"}
)
CHOICE_TYPES = frozenset({"select", "radio", "checklist"})
#: Components that carry no field: a container whose children are read in its place, and Camunda
#: Modeler's submit button (the UI draws its own buttons).
GROUP_TYPE = "group"
IGNORED_TYPES = frozenset({"button"})

VALIDATION_TYPES = ("email", "phone")
DATETIME_SUBTYPES = ("date", "time", "datetime")


@dataclass(frozen=True)
class Field:
    """One component of a form, as the UI needs it. ``key`` is None for a text (Markdown) component."""

    type: str
    id: str
    key: str | None = None
    label: str | None = None
    description: str | None = None
    #: Markdown source of a ``text`` component.
    text: str | None = None
    #: (value, label) pairs of a select, radio or checklist, in the form's order.
    options: tuple[tuple[Any, str], ...] = ()
    default: Any = None
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    validation_type: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    decimal_digits: int | None = None
    increment: int | float | None = None
    disabled: bool = False
    readonly: bool = False
    #: FEEL source of ``conditional.hide`` (with its leading ``=``), or None.
    hide: str | None = None
    #: ``date``, ``time`` or ``datetime`` for a datetime field.
    subtype: str | None = None
    date_label: str | None = None
    time_label: str | None = None

    @property
    def editable(self) -> bool:
        """True when the user's submission sets this field (it has a key and is neither disabled nor readonly)."""
        return self.key is not None and not self.disabled and not self.readonly

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """The options as (value as the browser sends it, label): what a template renders."""
        return tuple((format_scalar(value), label) for value, label in self.options)

    def option_label(self, value: Any) -> str | None:
        """The label of the option whose value is ``value`` (compared as the browser sends it), or None."""
        text = format_scalar(value)
        for option_text, label in self.choices:
            if option_text == text:
                return label
        return None


@dataclass(frozen=True)
class Form:
    id: str
    #: From the translation catalogue (or a ``title`` in the schema); None when neither gives one.
    title: str | None
    fields: list[Field]

    def field(self, key: str) -> Field | None:
        """The field with this key, or None."""
        for field in self.fields:
            if field.key == key:
                return field
        return None


def parse_form(schema: Mapping[str, Any], translation: Mapping[str, Any] | None = None) -> Form:
    """Read a form-js schema, with the texts of ``translation`` (a ``forms/i18n/<lang>/<id>.json`` catalogue).

    Raises ``FormError`` naming the form and component when the schema is something the UI cannot render.
    """
    if not isinstance(schema, Mapping):
        raise FormError("a form schema must be a JSON object")
    form_id = schema.get("id")
    if not isinstance(form_id, str) or not form_id.strip():
        raise FormError('a form needs a non-empty string "id"')
    components = schema.get("components")
    if not isinstance(components, list):
        raise FormError('"components" must be a list', form_id)
    catalogue = _Catalogue(form_id, translation)
    fields: list[Field] = []
    _read_components(form_id, components, catalogue, fields)
    _check_unique(form_id, fields)
    title = catalogue.title if catalogue.title is not None else _optional_str(form_id, None, schema, "title")
    return Form(id=form_id, title=title, fields=fields)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a form-js ``validate.pattern`` (a JavaScript regular expression) for Python's ``re``.

    form-js tests ``new RegExp(pattern).test(value)``: unanchored, and ``\\d``, ``\\w``, ``\\b`` are
    ASCII-only in JavaScript, hence ``re.ASCII``; JavaScript's named groups ``(?<name>`` become ``(?P<name>``.
    Raises ``re.error`` for a pattern that does not compile.
    """
    return re.compile(_JS_NAMED_GROUP.sub("(?P<", pattern), re.ASCII)


_JS_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?=[A-Za-z_])")


# --- reading components ------------------------------------------------------------------------------


def _read_components(
    form_id: str, components: list, catalogue: _Catalogue, fields: list[Field], group_hide: str | None = None
) -> None:
    """Append the fields of ``components`` to ``fields``; a group's children take its place, hidden with it."""
    for index, component in enumerate(components):
        if not isinstance(component, Mapping):
            raise FormError(f"component number {index + 1} is not a JSON object", form_id)
        component_id = component.get("id")
        if not isinstance(component_id, str) or not component_id:
            raise FormError(f'component number {index + 1} needs a non-empty string "id"', form_id)
        kind = component.get("type")
        if kind == GROUP_TYPE:
            if component.get("path"):
                raise FormError(
                    "a group with a data path (nested data) is not supported; remove the group's path",
                    form_id,
                    component_id,
                )
            children = component.get("components", [])
            if not isinstance(children, list):
                raise FormError('a group\'s "components" must be a list', form_id, component_id)
            hide = _combine_hide(group_hide, _read_hide(form_id, component_id, component))
            _read_components(form_id, children, catalogue, fields, hide)
            continue
        if kind in IGNORED_TYPES:
            continue
        if kind not in FIELD_TYPES:
            known = ", ".join(sorted(FIELD_TYPES | {GROUP_TYPE}))
            raise FormError(
                f"field type {kind!r} is not supported by the staff UI (supported: {known})", form_id, component_id
            )
        field = _read_field(form_id, component_id, kind, component, catalogue)
        if group_hide is not None:
            field = replace(field, hide=_combine_hide(group_hide, field.hide))
        fields.append(field)


def _combine_hide(outer: str | None, inner: str | None) -> str | None:
    """One hide condition for a field inside a group: hidden when the group or the field is hidden."""
    if outer is None or inner is None:
        return outer or inner
    return f"=({outer[1:]}) or ({inner[1:]})"


def _read_field(form_id: str, component_id: str, kind: str, component: Mapping, catalogue: _Catalogue) -> Field:
    def text_property(name: str) -> str | None:
        return _optional_str(form_id, component_id, component, name)

    def flag(name: str) -> bool:
        value = component.get(name, False)
        if not isinstance(value, bool):
            raise FormError(f'"{name}" must be true or false, not {value!r}', form_id, component_id)
        return value

    hide = _read_hide(form_id, component_id, component)
    if kind == "text":
        text = text_property("text") or ""
        entry = catalogue.entry(None, component_id)
        return Field(type=kind, id=component_id, text=entry.get("text", text), hide=hide)

    key = component.get("key")
    if not isinstance(key, str) or not key.strip():
        raise FormError(f'a {kind} field needs a non-empty string "key"', form_id, component_id)
    if any(character in key for character in ".[]"):
        raise FormError(
            f"key {key!r} is a data path; nested data is not supported, use a plain variable name",
            form_id,
            component_id,
        )
    entry = catalogue.entry(key, component_id)
    validate = component.get("validate") or {}
    if not isinstance(validate, Mapping):
        raise FormError('"validate" must be a JSON object', form_id, component_id)
    rules = _Rules(form_id, component_id, validate)

    label = text_property("label")
    subtype = date_label = time_label = None
    if kind == "datetime":
        subtype = component.get("subtype", "date")
        if subtype not in DATETIME_SUBTYPES:
            raise FormError(
                f"datetime subtype {subtype!r} is not one of {', '.join(DATETIME_SUBTYPES)}", form_id, component_id
            )
        date_label = entry.get("dateLabel", text_property("dateLabel"))
        time_label = entry.get("timeLabel", text_property("timeLabel"))
        # A datetime field has no label of its own in form-js; a catalogue's "label" names its first part.
        if "label" in entry:
            if subtype == "time":
                time_label = entry["label"]
            else:
                date_label = entry["label"]
        label = label or (time_label if subtype == "time" else date_label)
    if "label" in entry:
        label = entry["label"]

    options: tuple[tuple[Any, str], ...] = ()
    if kind in CHOICE_TYPES:
        options = _read_options(form_id, component_id, kind, component, entry)

    pattern = rules.string("pattern")
    if pattern is not None:
        try:
            compile_pattern(pattern)
        except re.error as err:
            raise FormError(
                f"validate.pattern {pattern!r} is not a valid regular expression: {err}", form_id, component_id
            ) from None
    validation_type = rules.string("validationType")
    if validation_type is not None and validation_type not in VALIDATION_TYPES:
        raise FormError(
            f"validate.validationType {validation_type!r} is not one of {', '.join(VALIDATION_TYPES)}",
            form_id,
            component_id,
        )
    decimal_digits = _optional_number(form_id, component_id, component, "decimalDigits", integer=True, minimum=0)
    increment = _optional_number(form_id, component_id, component, "increment")
    if increment is not None and increment <= 0:
        raise FormError(f'"increment" must be positive, not {increment!r}', form_id, component_id)
    default = component.get("defaultValue")
    if isinstance(default, list):
        # A checklist's default: a tuple, so a Field stays immutable and hashable.
        default = tuple(default)

    return Field(
        type=kind,
        id=component_id,
        key=key,
        label=label,
        description=entry.get("description", text_property("description")),
        options=options,
        default=default,
        required=rules.flag("required"),
        min_length=rules.number("minLength", integer=True, minimum=0),
        max_length=rules.number("maxLength", integer=True, minimum=0),
        pattern=pattern,
        validation_type=validation_type,
        minimum=rules.number("min"),
        maximum=rules.number("max"),
        decimal_digits=decimal_digits,
        increment=increment,
        disabled=flag("disabled"),
        readonly=flag("readonly"),
        hide=hide,
        subtype=subtype,
        date_label=date_label,
        time_label=time_label,
    )


def _read_options(form_id: str, component_id: str, kind: str, component: Mapping, entry: Mapping) -> tuple:
    values = component.get("values")
    if values is None:
        dynamic = [name for name in ("valuesKey", "valuesExpression") if component.get(name)]
        if dynamic:
            raise FormError(
                f'options from {dynamic[0]} are not supported; list the options in "values"', form_id, component_id
            )
        raise FormError(f'a {kind} field needs its options in "values"', form_id, component_id)
    if not isinstance(values, list) or not values:
        raise FormError('"values" must be a non-empty list of {"label", "value"} objects', form_id, component_id)
    translated = entry.get("values", {})
    options = []
    seen: set[str] = set()
    for index, option in enumerate(values):
        if not isinstance(option, Mapping) or "value" not in option:
            raise FormError(f'option number {index + 1} must be an object with a "value"', form_id, component_id)
        value = option["value"]
        if not isinstance(value, (str, int, float, bool)) or value == "":
            raise FormError(f"option number {index + 1} has no usable value: {value!r}", form_id, component_id)
        text = format_scalar(value)
        if text in seen:
            raise FormError(f"option value {value!r} appears twice", form_id, component_id)
        seen.add(text)
        label = option.get("label", text)
        if not isinstance(label, str):
            raise FormError(f"the label of option {value!r} must be a string", form_id, component_id)
        options.append((value, translated.get(text, label)))
    return tuple(options)


def _read_hide(form_id: str, component_id: str, component: Mapping) -> str | None:
    conditional = component.get("conditional")
    if conditional is None:
        return None
    if not isinstance(conditional, Mapping):
        raise FormError('"conditional" must be a JSON object', form_id, component_id)
    hide = conditional.get("hide")
    if hide is None or hide == "":
        return None
    if not isinstance(hide, str) or not hide.startswith("="):
        raise FormError(
            f'conditional.hide must be a FEEL expression starting with "=", not {hide!r}', form_id, component_id
        )
    try:
        compile_expression(hide)
    except FeelError as err:
        raise FormError(f"conditional.hide: {err.reason}", form_id, component_id) from None
    return hide


def _check_unique(form_id: str, fields: list[Field]) -> None:
    ids: set[str] = set()
    keys: dict[str, str] = {}
    for field in fields:
        if field.id in ids:
            raise FormError(f"component id {field.id!r} is used twice", form_id, field.id)
        ids.add(field.id)
        if field.key is None:
            continue
        if field.key in keys:
            raise FormError(f"key {field.key!r} is also the key of component {keys[field.key]!r}", form_id, field.id)
        keys[field.key] = field.id


# --- small readers -----------------------------------------------------------------------------------


def _optional_str(form_id: str, component_id: str | None, container: Mapping, name: str) -> str | None:
    value = container.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FormError(f'"{name}" must be a string, not {value!r}', form_id, component_id)
    return value


def _optional_number(
    form_id: str,
    component_id: str,
    container: Mapping,
    name: str,
    *,
    integer: bool = False,
    minimum: int | None = None,
    what: str | None = None,
) -> int | float | None:
    value = container.get(name)
    if value is None or value == "":
        return None
    label = what or name
    # form-js's properties panel stores some numbers as strings ("10"); accept those too.
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise FormError(f'"{label}" must be a number, not {value!r}', form_id, component_id) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FormError(f'"{label}" must be a number, not {value!r}', form_id, component_id)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if integer and not isinstance(value, int):
        raise FormError(f'"{label}" must be a whole number, not {value!r}', form_id, component_id)
    if minimum is not None and value < minimum:
        raise FormError(f'"{label}" must be at least {minimum}, not {value!r}', form_id, component_id)
    return value


class _Rules:
    """The ``validate`` object of one component, read with errors naming the rule."""

    def __init__(self, form_id: str, component_id: str, validate: Mapping) -> None:
        self.form_id = form_id
        self.component_id = component_id
        self.validate = validate

    def flag(self, name: str) -> bool:
        value = self.validate.get(name, False)
        if not isinstance(value, bool):
            raise FormError(f"validate.{name} must be true or false, not {value!r}", self.form_id, self.component_id)
        return value

    def string(self, name: str) -> str | None:
        value = self.validate.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise FormError(f"validate.{name} must be a string, not {value!r}", self.form_id, self.component_id)
        return value

    def number(self, name: str, *, integer: bool = False, minimum: int | None = None) -> int | float | None:
        return _optional_number(
            self.form_id,
            self.component_id,
            self.validate,
            name,
            integer=integer,
            minimum=minimum,
            what=f"validate.{name}",
        )


class _Catalogue:
    """A form's translation catalogue: ``{"title", "components": {key or id: {label, description, values, text}}}``."""

    ENTRY_TEXTS = ("label", "description", "text", "dateLabel", "timeLabel")

    def __init__(self, form_id: str, translation: Mapping[str, Any] | None) -> None:
        self.form_id = form_id
        self.title: str | None = None
        self.components: Mapping[str, Any] = {}
        if translation is None:
            return
        if not isinstance(translation, Mapping):
            raise FormError("the translation must be a JSON object", form_id)
        title = translation.get("title")
        if title is not None and not isinstance(title, str):
            raise FormError(f'the translation\'s "title" must be a string, not {title!r}', form_id)
        self.title = title
        components = translation.get("components", {})
        if not isinstance(components, Mapping):
            raise FormError('the translation\'s "components" must be a JSON object', form_id)
        self.components = components

    def entry(self, key: str | None, component_id: str) -> Mapping[str, Any]:
        """The translated texts of a component, found by its key, else by its id; checked for shape."""
        entry = None
        if key is not None:
            entry = self.components.get(key)
        if entry is None:
            entry = self.components.get(component_id)
        if entry is None:
            return {}
        if not isinstance(entry, Mapping):
            raise FormError(f"the translation of component {component_id!r} must be a JSON object", self.form_id)
        for name in self.ENTRY_TEXTS:
            if name in entry and not isinstance(entry[name], str):
                raise FormError(
                    f"the translated {name} of component {component_id!r} must be a string, not {entry[name]!r}",
                    self.form_id,
                )
        values = entry.get("values", {})
        if not isinstance(values, Mapping) or not all(isinstance(label, str) for label in values.values()):
            raise FormError(
                f"the translated values of component {component_id!r} must map option values to strings", self.form_id
            )
        return entry
