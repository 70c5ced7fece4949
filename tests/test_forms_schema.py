"""Reading form-js schemas: the shipped forms in Latvian and English; forms the UI cannot render are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT
from engine.errors import BadRequest
from engine.forms.errors import FormError
from engine.forms.feel import FeelError
from engine.forms.schema import FIELD_TYPES, parse_form

FORMS_DIR = PROJECT_ROOT / "forms"
SHIPPED_FORMS = sorted(FORMS_DIR.glob("*.form"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def english(form_id: str) -> dict:
    return load(FORMS_DIR / "i18n" / "en" / f"{form_id}.json")


def schema(*components: dict, form_id: str = "test-form") -> dict:
    return {"id": form_id, "type": "default", "schemaVersion": 16, "components": list(components)}


def test_the_library_ships_forms():
    assert len(SHIPPED_FORMS) >= 60


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda path: path.stem)
def test_shipped_form_parses_in_latvian(path):
    form = parse_form(load(path))
    assert form.id == path.stem
    assert form.fields, "a form without fields"
    for field in form.fields:
        assert field.type in FIELD_TYPES
        if field.type == "text":
            assert field.key is None and field.text
            continue
        assert field.key and field.label, f"{field.id} has no key or label"
        if field.type in ("select", "radio", "checklist"):
            assert field.options and all(label for _value, label in field.options)
        if field.type == "datetime":
            assert field.subtype == "date" and field.date_label == field.label


@pytest.mark.parametrize("path", SHIPPED_FORMS, ids=lambda path: path.stem)
def test_shipped_form_is_fully_translated_to_english(path):
    """Every text a user reads has an English entry, every entry names a component, and parse_form uses them."""
    latvian_schema = load(path)
    catalogue = english(latvian_schema["id"])
    latvian = parse_form(latvian_schema)
    translated = parse_form(latvian_schema, catalogue)
    entries = catalogue["components"]
    assert translated.title and translated.title != latvian.title
    names = {field.key for field in latvian.fields if field.key} | {field.id for field in latvian.fields}
    assert set(entries) <= names, f"catalogue entries for no component: {set(entries) - names}"
    for source, result in zip(latvian.fields, translated.fields, strict=True):
        entry = entries.get(source.key) or entries.get(source.id)
        assert entry is not None, f"{source.id} is not translated"
        if source.type == "text":
            assert result.text == entry["text"] != source.text
            continue
        assert result.label == entry["label"], f"{source.key}: label not translated"
        if source.description:
            assert result.description == entry["description"], f"{source.key}: description not translated"
        if source.options:
            assert {value for value, _ in source.choices} == set(entry["values"]), f"{source.key}: options"
            assert [label for _, label in result.choices] == [entry["values"][value] for value, _ in source.choices]
        assert (result.key, result.type, result.required, result.hide) == (
            source.key,
            source.type,
            source.required,
            source.hide,
        )


def test_a_catalogue_translates_by_key_then_by_id():
    form = parse_form(
        schema(
            {"type": "text", "id": "Text_1", "text": "## Sveiki"},
            {
                "type": "radio",
                "id": "Field_lemums",
                "key": "lemums",
                "label": "Lēmums",
                "description": "Izvēlieties",
                "values": [{"label": "Jā", "value": "ja"}, {"label": "Nē", "value": "ne"}],
            },
            {"type": "textfield", "id": "Field_piezimes", "key": "piezimes", "label": "Piezīmes"},
        ),
        {
            "title": "A test",
            "components": {
                "Text_1": {"text": "## Hello"},
                "lemums": {"label": "Decision", "values": {"ja": "Yes"}},
                "Field_piezimes": {"label": "Notes"},
            },
        },
    )
    text, radio, notes = form.fields
    assert form.title == "A test"
    assert text.text == "## Hello"
    assert radio.label == "Decision" and radio.description == "Izvēlieties"
    assert radio.options == (("ja", "Yes"), ("ne", "Nē"))
    assert notes.label == "Notes"


def test_fields_carry_every_rule_the_ui_needs():
    form = parse_form(
        schema(
            {
                "type": "number",
                "id": "Field_n",
                "key": "n",
                "label": "N",
                "defaultValue": 3,
                "decimalDigits": 2,
                "increment": "0.5",
                "readonly": True,
                "validate": {"required": True, "min": "0", "max": 10.5},
            },
            {
                "type": "textfield",
                "id": "Field_t",
                "key": "t",
                "label": "T",
                "disabled": True,
                "validate": {"minLength": 2, "maxLength": 5, "pattern": "^[A-Z]+$", "validationType": "phone"},
                "conditional": {"hide": '=n > 2 and x = "y"'},
            },
            {
                "type": "datetime",
                "id": "Field_d",
                "key": "d",
                "subtype": "datetime",
                "dateLabel": "Datums",
                "timeLabel": "Laiks",
            },
        )
    )
    number, text, when = form.fields
    assert (number.default, number.decimal_digits, number.increment, number.readonly) == (3, 2, 0.5, True)
    assert (number.required, number.minimum, number.maximum) == (True, 0, 10.5)
    assert (text.min_length, text.max_length, text.pattern, text.validation_type) == (2, 5, "^[A-Z]+$", "phone")
    assert text.disabled and not text.editable and text.hide == '=n > 2 and x = "y"'
    assert (when.subtype, when.date_label, when.time_label, when.label) == ("datetime", "Datums", "Laiks", "Datums")
    assert form.field("t") is text and form.field("missing") is None


def test_a_catalogue_label_names_a_datetime_fields_date():
    form = parse_form(
        schema({"type": "datetime", "id": "Field_d", "key": "d", "subtype": "date", "dateLabel": "Datums"}),
        {"components": {"d": {"label": "Date"}}},
    )
    assert (form.fields[0].label, form.fields[0].date_label) == ("Date", "Date")


def test_groups_are_flattened_in_order_and_hide_with_their_fields():
    form = parse_form(
        schema(
            {"type": "textfield", "id": "Field_a", "key": "a", "label": "A"},
            {
                "type": "group",
                "id": "Group_1",
                "label": "Grupa",
                "conditional": {"hide": '=a = "x"'},
                "components": [
                    {"type": "textfield", "id": "Field_b", "key": "b", "label": "B"},
                    {
                        "type": "group",
                        "id": "Group_2",
                        "components": [{"type": "checkbox", "id": "Field_c", "key": "c"}],
                    },
                    {"type": "textfield", "id": "Field_d", "key": "d", "conditional": {"hide": "=c"}},
                ],
            },
            {"type": "button", "id": "Button_submit", "action": "submit", "label": "Iesniegt"},
            {"type": "textfield", "id": "Field_e", "key": "e"},
        )
    )
    assert [field.key for field in form.fields] == ["a", "b", "c", "d", "e"]
    assert form.fields[1].hide == '=a = "x"'
    assert form.fields[3].hide == '=(a = "x") or (c)'
    assert form.fields[4].hide is None


@pytest.mark.parametrize("kind", ["taglist", "filepicker", "dynamiclist", "iframe", None])
def test_an_unknown_field_type_is_refused_naming_form_component_and_type(kind):
    component = {"type": kind, "id": "Field_x", "key": "x", "label": "X"}
    with pytest.raises(FormError) as caught:
        parse_form(schema({"type": "textfield", "id": "Field_ok", "key": "ok"}, component, form_id="my-form"))
    message = str(caught.value)
    assert "'my-form'" in message and "'Field_x'" in message and repr(kind) in message
    assert (caught.value.form_id, caught.value.component_id) == ("my-form", "Field_x")
    assert isinstance(caught.value, BadRequest)


@pytest.mark.parametrize(
    "components, expected",
    [
        ([{"type": "select", "id": "S", "key": "s", "label": "S"}], 'needs its options in "values"'),
        ([{"type": "radio", "id": "R", "key": "r", "values": []}], "non-empty list"),
        ([{"type": "checklist", "id": "C", "key": "c", "valuesKey": "options"}], "valuesKey are not supported"),
        (
            [{"type": "select", "id": "S", "key": "s", "values": [{"value": "a"}, {"value": "a", "label": "A"}]}],
            "'a' appears twice",
        ),
        (
            [{"type": "textfield", "id": "A", "key": "same"}, {"type": "textarea", "id": "B", "key": "same"}],
            "key 'same' is also the key of component 'A'",
        ),
        ([{"type": "textfield", "id": "A", "key": "x"}, {"type": "text", "id": "A", "text": "t"}], "used twice"),
        ([{"type": "textfield", "id": "A"}], 'needs a non-empty string "key"'),
        ([{"type": "textfield", "id": "A", "key": "person.name"}], "nested data is not supported"),
        ([{"type": "textfield", "key": "a"}], 'needs a non-empty string "id"'),
        ([{"type": "textfield", "id": "A", "key": "a", "validate": {"pattern": "([a-z"}}], "not a valid regular"),
        ([{"type": "textfield", "id": "A", "key": "a", "validate": {"required": "yes"}}], "must be true or false"),
        ([{"type": "textfield", "id": "A", "key": "a", "validate": {"maxLength": 2.5}}], "must be a whole number"),
        ([{"type": "number", "id": "A", "key": "a", "validate": {"min": "=other"}}], 'validate.min" must be a number'),
        ([{"type": "textfield", "id": "A", "key": "a", "validate": {"validationType": "url"}}], "'url' is not one of"),
        ([{"type": "datetime", "id": "A", "key": "a", "subtype": "week"}], "subtype 'week'"),
        ([{"type": "number", "id": "A", "key": "a", "increment": 0}], "must be positive"),
        ([{"type": "textfield", "id": "A", "key": "a", "disabled": "true"}], '"disabled" must be true or false'),
        ([{"type": "textfield", "id": "A", "key": "a", "conditional": {"hide": "a = 1"}}], 'starting with "="'),
        ([{"type": "group", "id": "G", "path": "person", "components": []}], "data path"),
    ],
)
def test_a_schema_the_ui_cannot_render_is_refused_with_a_clear_message(components, expected):
    with pytest.raises(FormError) as caught:
        parse_form(schema(*components))
    assert expected in str(caught.value)
    assert "form 'test-form'" in str(caught.value)


def test_an_invalid_regex_names_the_component():
    component = {"type": "textfield", "id": "Field_code", "key": "code", "validate": {"pattern": "[0-9"}}
    with pytest.raises(FormError) as caught:
        parse_form(schema(component))
    assert caught.value.component_id == "Field_code" and "[0-9" in str(caught.value)


def test_a_hide_condition_outside_the_feel_subset_is_refused_at_parse_time():
    component = {"type": "textfield", "id": "Field_a", "key": "a", "conditional": {"hide": "=count(items) > 2"}}
    with pytest.raises(FormError) as caught:
        parse_form(schema(component))
    message = str(caught.value)
    assert "component 'Field_a'" in message and "conditional.hide" in message and "function calls" in message
    assert "position 7" in message


def test_feel_errors_are_form_errors():
    assert issubclass(FeelError, FormError)


@pytest.mark.parametrize(
    "document, expected",
    [
        ([], "must be a JSON object"),
        ({"components": []}, 'non-empty string "id"'),
        ({"id": "x", "components": {}}, '"components" must be a list'),
        ({"id": "x", "components": ["text"]}, "component number 1 is not a JSON object"),
    ],
)
def test_a_document_that_is_not_a_form_is_refused(document, expected):
    with pytest.raises(FormError, match=expected):
        parse_form(document)


@pytest.mark.parametrize(
    "translation, expected",
    [
        ([], "translation must be a JSON object"),
        ({"title": 3}, '"title" must be a string'),
        ({"components": []}, '"components" must be a JSON object'),
        ({"components": {"a": "Label"}}, "must be a JSON object"),
        ({"components": {"a": {"label": ["A"]}}}, "translated label of component 'Field_a' must be a string"),
        ({"components": {"a": {"values": {"x": 1}}}}, "must map option values to strings"),
    ],
)
def test_a_malformed_translation_is_refused(translation, expected):
    with pytest.raises(FormError, match=expected):
        parse_form(schema({"type": "textfield", "id": "Field_a", "key": "a", "label": "A"}), translation)


def test_option_values_keep_their_type_and_labels_default_to_the_value():
    form = parse_form(schema({"type": "select", "id": "S", "key": "s", "values": [{"value": 1}, {"value": True}]}))
    assert form.fields[0].options == ((1, "1"), (True, "true"))
    assert form.fields[0].choices == (("1", "1"), ("true", "true"))
    assert form.fields[0].option_label(1) == "1" and form.fields[0].option_label("2") is None


def test_fields_are_immutable_and_hashable_with_a_list_default():
    form = parse_form(
        schema({"type": "checklist", "id": "C", "key": "c", "values": [{"value": "a"}], "defaultValue": ["a"]})
    )
    assert form.fields[0].default == ("a",)
    assert len({form.fields[0], form.fields[0]}) == 1
