"""Server-side validation of submitted forms, and the values that prefill a form."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from werkzeug.datastructures import MultiDict

from engine.config import PROJECT_ROOT
from engine.forms.display import field_values, visible_fields
from engine.forms.schema import Form, parse_form
from engine.forms.validation import FieldError, validate_submission

SHIPPED_FORMS = sorted((PROJECT_ROOT / "forms").glob("*.form"))


def form_of(*components: dict) -> Form:
    return parse_form({"id": "test-form", "components": list(components)})


def field(kind: str, key: str = "x", **properties) -> dict:
    return {"type": kind, "id": f"Field_{key}", "key": key, "label": key.upper(), **properties}


def codes(submission, key: str = "x") -> list[str]:
    return [error.code for error in submission.errors.get(key, [])]


def check(component: dict, *sent: str, data: dict | None = None):
    """Validate one field with the strings the browser sent; answer (value or a marker, error codes)."""
    form = form_of(component)
    submission = validate_submission(form, {component["key"]: list(sent)}, data or {})
    return submission.values.get(component["key"], "<absent>"), codes(submission, component["key"])


# --- text ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, expected",
    [
        (["  Jānis Bērziņš "], ("Jānis Bērziņš", [])),
        ([""], ("<absent>", ["required"])),
        (["   \t "], ("<absent>", ["required"])),
        ([], ("<absent>", ["required"])),
    ],
)
def test_required_textfield(sent, expected):
    assert check(field("textfield", validate={"required": True}), *sent) == expected


def test_an_empty_optional_text_field_gives_an_empty_string():
    assert check(field("textfield"), "") == ("", [])
    assert check(field("textarea"), "   ") == ("   ", [])
    assert check(field("textfield")) == ("", [])


def test_textarea_keeps_what_was_typed_with_unix_line_ends():
    assert check(field("textarea", validate={"required": True}), "  Pirmā\r\nOtrā\rTrešā\n") == (
        "  Pirmā\nOtrā\nTrešā\n",
        [],
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ab", ["too_short"]),
        ("abc", []),
        ("  abc  ", []),  # form-js counts without surrounding whitespace
        ("āžšēī", []),  # characters, not bytes
        ("abcdef", ["too_long"]),
    ],
)
def test_min_and_max_length(text, expected):
    assert check(field("textarea", validate={"minLength": 3, "maxLength": 5}), text)[1] == expected


def test_length_errors_carry_the_limit():
    form = form_of(field("textfield", validate={"minLength": 3, "maxLength": 5}))
    assert validate_submission(form, {"x": ["ab"]}, {}).errors == {"x": [FieldError("too_short", {"min": 3})]}
    assert validate_submission(form, {"x": ["abcdef"]}, {}).errors == {"x": [FieldError("too_long", {"max": 5})]}


@pytest.mark.parametrize(
    "pattern, text, ok",
    [
        ("^LV\\d{11}$", "LV12345678901", True),
        ("^LV\\d{11}$", "LV1234", False),
        # form-js tests new RegExp(pattern).test(value): not anchored
        ("\\d{3}", "abc123def", True),
        ("\\d{3}", "abc12", False),
        # \d is ASCII in JavaScript
        ("^\\d+$", "١٢٣", False),
        ("^(?<year>\\d{4})$", "2026", True),
    ],
)
def test_pattern_like_form_js(pattern, text, ok):
    value, errors = check(field("textfield", validate={"pattern": pattern}), text)
    assert errors == ([] if ok else ["pattern"])
    if not ok:
        submission = validate_submission(form_of(field("textfield", validate={"pattern": pattern})), {"x": [text]}, {})
        assert submission.errors["x"][0].params == {"pattern": pattern}


def test_pattern_is_not_checked_on_an_empty_optional_field():
    assert check(field("textfield", validate={"pattern": "^\\d+$"}), "") == ("", [])


@pytest.mark.parametrize(
    "text, ok",
    [
        ("anna@iestade.gov.lv", True),
        ("  anna@iestade.gov.lv ", True),  # a textfield's surrounding whitespace is dropped first
        ("a.b+c@x-y.lv", True),
        ("anna@localhost", True),  # form-js's expression allows a host without a dot
        ("anna", False),
        ("anna@", False),
        ("anna@-x.lv", False),
        ("anna@x..lv", False),
        ("jānis@iestade.lv", False),
        ("anna@iestade.lv\nBcc: x@y.lv", False),
    ],
)
def test_email(text, ok):
    assert check(field("textfield", validate={"validationType": "email"}), text)[1] == ([] if ok else ["email"])


@pytest.mark.parametrize(
    "text, ok",
    [
        ("+37167012345", True),
        ("+4930664040900", True),
        ("0037129123456", True),
        ("1234", False),
        ("29123456", False),
        ("+371 2912 3456", False),  # form-js wants the digits without spaces
    ],
)
def test_phone(text, ok):
    assert check(field("textfield", validate={"validationType": "phone"}), text)[1] == ([] if ok else ["phone"])


# --- numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12", 12),
        (" 12 ", 12),
        ("-3", -3),
        ("+7", 7),
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("0,25", 0.25),
        (",5", 0.5),
        ("12.0", 12),
        ("12.", 12),
    ],
)
def test_numbers(text, expected):
    value, errors = check(field("number"), text)
    assert (value, errors) == (expected, [])
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", ["abc", "12a", "1e5", "1.2.3", "12,5,1", "--1", "0x10", "NaN", "Infinity", "1" * 41])
def test_not_a_number(text):
    form = form_of(field("number"))
    submission = validate_submission(form, {"x": [text]}, {})
    assert submission.errors == {"x": [FieldError("not_a_number", {"value": text})]}
    assert "x" not in submission.values
    assert submission.raw == {"x": [text]}


def test_a_field_with_decimal_digits_gives_floats():
    assert check(field("number", decimalDigits=2), "12") == (12.0, [])
    assert type(check(field("number", decimalDigits=2), "12")[0]) is float
    assert check(field("number", decimalDigits=2), "12,25") == (12.25, [])
    assert check(field("number", decimalDigits=2), "12.255")[1] == ["decimals"]
    assert check(field("number", decimalDigits=0), "12.5")[1] == ["decimals"]
    assert check(field("number", decimalDigits=0), "12.000") == (12, [])


def test_min_and_max():
    component = field("number", validate={"min": 0, "max": 1000})
    assert check(component, "0") == (0, [])
    assert check(component, "1000") == (1000, [])
    assert check(component, "-0,5")[1] == ["below_min"]
    assert check(component, "1000.01")[1] == ["above_max"]
    submission = validate_submission(form_of(component), {"x": ["-1"]}, {})
    assert submission.errors["x"] == [FieldError("below_min", {"min": 0})]


def test_increment_names_the_nearest_valid_values():
    submission = validate_submission(form_of(field("number", increment=0.25)), {"x": ["1.3"]}, {})
    assert submission.errors["x"] == [FieldError("increment", {"increment": "0.25", "previous": "1.25", "next": "1.5"})]
    assert check(field("number", increment=0.25), "1.75") == (1.75, [])


def test_an_empty_optional_number_is_none_and_a_required_one_is_an_error():
    assert check(field("number"), "") == (None, [])
    assert check(field("number"), "  ") == (None, [])
    assert check(field("number", validate={"required": True}), "") == ("<absent>", ["required"])
    assert check(field("number", validate={"required": True}), "0") == (0, [])


# --- choices -------------------------------------------------------------------------------------------

OPTIONS = [{"label": "Jā", "value": "ja"}, {"label": "Nē", "value": "ne"}]


@pytest.mark.parametrize("kind", ["select", "radio"])
def test_a_choice_must_be_one_of_the_options(kind):
    component = field(kind, values=OPTIONS, validate={"required": True})
    assert check(component, "ne") == ("ne", [])
    assert check(component, "varbūt") == ("<absent>", ["not_an_option"])
    assert check(component, "Jā") == ("<absent>", ["not_an_option"])  # a label is not a value
    assert check(component, "") == ("<absent>", ["required"])
    assert check(component) == ("<absent>", ["required"])
    submission = validate_submission(form_of(component), {"x": ["<script>"]}, {})
    assert submission.errors["x"] == [FieldError("not_an_option", {"value": "<script>"})]


def test_an_empty_optional_choice_is_none():
    assert check(field("select", values=OPTIONS), "") == (None, [])


def test_a_numeric_option_value_stays_a_number():
    assert check(field("select", values=[{"label": "Viens", "value": 1}, {"label": "Divi", "value": 2}]), "2") == (
        2,
        [],
    )


def test_several_values_for_a_single_valued_field_are_refused():
    assert check(field("radio", values=OPTIONS), "ja", "ne") == ("<absent>", ["too_many_values"])
    assert check(field("textfield"), "a", "b") == ("<absent>", ["too_many_values"])
    assert check(field("textfield"), "", "b") == ("b", [])


@pytest.mark.parametrize(
    "sent, expected",
    [
        (["true"], True),
        (["on"], True),
        ([], False),
        ([""], False),
        (["false", "true"], True),  # a hidden "false" input before the checkbox
        (["false"], False),
    ],
)
def test_checkbox(sent, expected):
    assert check(field("checkbox"), *sent) == (expected, [])


def test_checkbox_required_and_foreign_values():
    assert check(field("checkbox", validate={"required": True}))[1] == ["required"]
    assert check(field("checkbox", validate={"required": True}), "true") == (True, [])
    assert check(field("checkbox"), "yes") == ("<absent>", ["not_an_option"])


CHECKLIST = field(
    "checklist",
    values=[{"label": "A", "value": "a"}, {"label": "B", "value": "b"}, {"label": "C", "value": "c"}],
    validate={"required": True},
)


def test_checklist_gives_the_ticked_values_in_option_order():
    assert check(CHECKLIST, "c", "a") == (["a", "c"], [])
    assert check(CHECKLIST, "b", "b") == (["b"], [])


def test_checklist_required_means_at_least_one():
    assert check(CHECKLIST) == ("<absent>", ["required"])
    assert check(CHECKLIST, "") == ("<absent>", ["required"])
    optional = {**CHECKLIST, "validate": {}}
    assert check(optional) == ([], [])


def test_checklist_with_a_foreign_value_is_refused():
    submission = validate_submission(form_of(CHECKLIST), {"x": ["a", "zz", "b"]}, {})
    assert submission.errors == {"x": [FieldError("not_an_option", {"value": "zz"})]}
    assert submission.values == {}
    assert submission.raw == {"x": ["a", "zz", "b"]}


# --- dates and times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-01", ("2026-03-01", [])),
        ("2028-02-29", ("2028-02-29", [])),
        ("1.3.2026", ("2026-03-01", [])),
        ("01.03.2026.", ("2026-03-01", [])),
        ("2026-02-30", ("<absent>", ["invalid_date"])),
        ("2026-02-29", ("<absent>", ["invalid_date"])),
        ("2026-13-01", ("<absent>", ["invalid_date"])),
        ("30.02.2026", ("<absent>", ["invalid_date"])),
        ("2026-3-1", ("<absent>", ["invalid_date"])),
        ("rīt", ("<absent>", ["invalid_date"])),
        ("", ("<absent>", ["required"])),
    ],
)
def test_dates(text, expected):
    assert check(field("datetime", subtype="date", validate={"required": True}), text) == expected


def test_an_invalid_date_carries_what_was_typed():
    submission = validate_submission(form_of(field("datetime", subtype="date")), {"x": ["2026-02-30"]}, {})
    assert submission.errors == {"x": [FieldError("invalid_date", {"value": "2026-02-30"})]}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("09:05", ("09:05", [])),
        ("23:59:59", ("23:59", [])),
        ("24:00", ("<absent>", ["invalid_time"])),
        ("12:60", ("<absent>", ["invalid_time"])),
        ("9:05", ("<absent>", ["invalid_time"])),
    ],
)
def test_times(text, expected):
    assert check(field("datetime", subtype="time"), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03-01T09:05", ("2026-03-01T09:05", [])),
        ("2026-03-01 09:05:30", ("2026-03-01T09:05", [])),
        ("2026-03-01", ("<absent>", ["invalid_datetime"])),
        ("2026-02-30T09:05", ("<absent>", ["invalid_datetime"])),
        ("2026-03-01T25:00", ("<absent>", ["invalid_datetime"])),
    ],
)
def test_datetimes(text, expected):
    assert check(field("datetime", subtype="datetime"), text) == expected


def test_an_empty_optional_date_is_none():
    assert check(field("datetime", subtype="date"), "") == (None, [])


# --- disabled, readonly, hidden ------------------------------------------------------------------------


def test_disabled_and_readonly_fields_are_never_taken_from_the_submission():
    form = form_of(
        field("textfield", "temats", disabled=True),
        field("number", "summa", readonly=True),
        field("textarea", "piezimes"),
    )
    data = {"temats": "Oriģinālais temats", "summa": 10}
    submission = validate_submission(
        form, {"temats": ["Viltots"], "summa": ["999"], "piezimes": ["Labi"], "csrf_token": ["x"]}, data
    )
    assert submission.ok
    assert submission.values == {"piezimes": "Labi"}
    # what the page shows again for them is the process data, not what was sent
    assert submission.raw == {"temats": ["Oriģinālais temats"], "summa": ["10"], "piezimes": ["Labi"]}


def test_a_disabled_required_field_is_not_required_of_the_user():
    form = form_of(field("textfield", "temats", disabled=True, validate={"required": True}))
    assert validate_submission(form, {}, {}).ok


def test_a_hidden_required_field_is_not_required_and_not_returned():
    form = form_of(
        field(
            "radio",
            "lemums",
            values=[{"label": "Piešķirt", "value": "pieskirt"}, {"label": "Atteikt", "value": "atteikt"}],
        ),
        field("textarea", "pamatojums", validate={"required": True}, conditional={"hide": '=lemums != "atteikt"'}),
    )
    granted = validate_submission(form, {"lemums": ["pieskirt"], "pamatojums": ["  "]}, {})
    assert granted.ok and granted.values == {"lemums": "pieskirt"}
    assert granted.hidden == {"Field_pamatojums"}
    assert granted.raw["pamatojums"] == ["  "]  # kept, in case the user changes their mind
    refused = validate_submission(form, {"lemums": ["atteikt"], "pamatojums": [""]}, {})
    assert codes(refused, "pamatojums") == ["required"] and refused.hidden == frozenset()
    # a hidden field's invalid value does not count either
    assert validate_submission(form, {"lemums": ["pieskirt"], "pamatojums": ["a", "b"]}, {}).ok


def test_hide_conditions_see_process_data_and_submitted_values():
    form = form_of(
        field("textarea", "vadibas_lemums", disabled=True, conditional={"hide": "=vadibas_lemums = null"}),
        field("checkbox", "izmainas"),
        field("textarea", "apraksts", validate={"required": True}, conditional={"hide": "=not(izmainas)"}),
        field("textfield", "limenis", validate={"required": True}, conditional={"hide": '=prioritate != "augsta"'}),
    )
    submission = validate_submission(form, {"izmainas": ["true"], "apraksts": [""]}, {"prioritate": "zema"})
    assert submission.hidden == {"Field_vadibas_lemums", "Field_limenis"}
    assert codes(submission, "apraksts") == ["required"]
    submission = validate_submission(form, {}, {"prioritate": "augsta", "vadibas_lemums": "Turpināt"})
    assert submission.hidden == {"Field_apraksts"}
    assert submission.values == {"izmainas": False} and codes(submission, "limenis") == ["required"]


def test_a_hidden_fields_value_is_null_to_later_conditions_as_in_form_js():
    form = form_of(
        field("radio", "a", values=OPTIONS, conditional={"hide": '=b = "ne"'}),
        field("textfield", "c", validate={"required": True}, conditional={"hide": '=a != "ja"'}),
    )
    # a is hidden, so the later condition sees a as null and hides c, although "ja" was sent for a
    submission = validate_submission(form, {"a": ["ja"], "c": [""]}, {"b": "ne"})
    assert submission.hidden == {"Field_a", "Field_c"} and submission.ok and submission.values == {}


def test_a_value_that_does_not_parse_is_null_to_conditions():
    form = form_of(
        field("number", "n"),
        field("textfield", "t", validate={"required": True}, conditional={"hide": "=n = null"}),
    )
    submission = validate_submission(form, {"n": ["abc"], "t": [""]}, {})
    assert submission.hidden == {"Field_t"} and codes(submission, "n") == ["not_a_number"]


def test_text_components_are_skipped():
    form = parse_form({"id": "f", "components": [{"type": "text", "id": "Text_1", "text": "## Sveiki"}]})
    submission = validate_submission(form, {"Text_1": ["x"]}, {})
    assert submission.ok and submission.values == {} and submission.raw == {}


def test_a_werkzeug_multidict_is_accepted():
    form = form_of(CHECKLIST, field("textfield", "t"))
    sent = MultiDict([("x", "a"), ("x", "c"), ("t", "Teksts")])
    assert validate_submission(form, sent, {}).values == {"x": ["a", "c"], "t": "Teksts"}


def test_errors_are_collected_for_every_field_at_once():
    form = form_of(
        field("textfield", "a", validate={"required": True}),
        field("number", "b", validate={"max": 5}),
        field("select", "c", values=OPTIONS),
    )
    submission = validate_submission(form, {"a": [""], "b": ["6"], "c": ["ne"]}, {})
    assert not submission.ok
    assert {key: [e.code for e in errors] for key, errors in submission.errors.items()} == {
        "a": ["required"],
        "b": ["above_max"],
    }
    assert submission.values == {"c": "ne"}


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda path: path.stem)
def test_every_shipped_form_validates_an_empty_submission_without_crashing(path):
    form = parse_form(json.loads(path.read_text(encoding="utf-8")))
    submission = validate_submission(form, {}, {})
    required = {f.key for f in form.fields if f.required and f.editable and f.id not in submission.hidden}
    assert {key for key, errors in submission.errors.items() if errors[0].code == "required"} == required
    assert required, "every shipped form asks for something"


# --- prefilling ----------------------------------------------------------------------------------------


def test_field_values_prefill_from_the_process_data_else_the_default():
    form = form_of(
        field("textfield", "t", defaultValue="noklusējums"),
        field("textarea", "ta"),
        field("number", "n"),
        field("number", "f"),
        field("select", "s", values=OPTIONS, defaultValue="ja"),
        field("checkbox", "cb", defaultValue=True),
        field("checkbox", "cb2"),
        CHECKLIST,
        field("datetime", "d", subtype="date"),
        field("datetime", "d2", subtype="date"),
        field("datetime", "tm", subtype="time"),
        field("datetime", "dt", subtype="datetime"),
        field("textfield", "termins", disabled=True),
    )
    riga = timezone(timedelta(hours=2))
    data = {
        "ta": "Rindas\nteksts",
        "n": 12.0,
        "f": 0.00001,
        "s": None,
        "cb": False,
        "x": ["c", "a"],
        "d": "2026-03-01T23:30:00.000+0200",
        "d2": date(2026, 3, 2),
        "tm": "09:05:00",
        "dt": datetime(2026, 3, 1, 9, 5, tzinfo=UTC),
        "termins": datetime(2026, 12, 1, 15, 0, tzinfo=riga),
    }
    assert field_values(form, data) == {
        "t": ["noklusējums"],
        "ta": ["Rindas\nteksts"],
        "n": ["12"],
        "f": ["0.00001"],
        "s": ["ja"],
        "cb": [],
        "cb2": [],
        "x": ["c", "a"],
        "d": ["2026-03-01"],
        "d2": ["2026-03-02"],
        "tm": ["09:05"],
        "dt": ["2026-03-01T09:05"],
        "termins": ["2026-12-01 15:00"],
    }
    assert field_values(form, {})["cb"] == ["true"]


def test_a_value_a_date_field_cannot_read_is_shown_as_it_is():
    assert field_values(form_of(field("datetime", subtype="date")), {"x": "pēc Jāņiem"}) == {"x": ["pēc Jāņiem"]}


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda path: path.stem)
def test_prefilled_values_submit_back_to_the_same_data(path):
    """What field_values shows, submitted unchanged, validates to the process data it came from."""
    form = parse_form(json.loads(path.read_text(encoding="utf-8")))
    data = {}
    for item in form.fields:
        if item.key is None:
            continue
        data[item.key] = {
            "textfield": "Vērtība",
            "textarea": "Pirmā rinda\nOtrā",
            "number": 7,
            "checkbox": True,
            "datetime": "2026-03-01",
        }.get(item.type)
        if item.validation_type == "email":
            data[item.key] = "anna@iestade.gov.lv"
        if item.type == "number":
            data[item.key] = max(7, item.minimum or 0) if item.maximum is None else item.maximum
        if item.type in ("select", "radio"):
            data[item.key] = item.options[-1][0]
        if item.type == "checklist":
            data[item.key] = [item.options[0][0], item.options[-1][0]]
    submission = validate_submission(form, field_values(form, data), data)
    assert submission.ok, submission.errors
    for key, value in submission.values.items():
        assert value == data[key], key
    editable_shown = {f.key for f in form.fields if f.editable and f.id not in submission.hidden}
    assert set(submission.values) == editable_shown


def test_visible_fields_use_the_data_and_the_defaults():
    form = form_of(
        field("textarea", "vadibas_lemums", disabled=True, conditional={"hide": "=vadibas_lemums = null"}),
        field("checkbox", "izmainas", defaultValue=False),
        field("textarea", "apraksts", conditional={"hide": "=not(izmainas)"}),
    )
    assert [f.key for f in visible_fields(form, {})] == ["izmainas"]
    assert [f.key for f in visible_fields(form, {"vadibas_lemums": "Jā", "izmainas": True})] == [
        "vadibas_lemums",
        "izmainas",
        "apraksts",
    ]


def test_the_package_exports_what_the_ui_needs():
    import engine.forms as forms

    form = forms.parse_form({"id": "f", "components": [field("textfield", validate={"required": True})]})
    submission = forms.validate_submission(form, forms.field_values(form, {"x": "a"}), {"x": "a"})
    assert submission.ok and submission.values == {"x": "a"}
    assert forms.hidden_field_ids(form, {}) == frozenset() and not forms.is_hidden(form.fields[0], {})
