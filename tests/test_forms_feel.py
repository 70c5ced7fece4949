"""The FEEL subset of hide conditions: values, FEEL's null semantics, syntax errors, and every shipped condition."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from engine.config import PROJECT_ROOT
from engine.forms.errors import FormError
from engine.forms.feel import FeelError, compile_expression, evaluate, is_true

SHIPPED_HIDE_CONDITIONS = sorted(
    {
        component["conditional"]["hide"]
        for path in (PROJECT_ROOT / "forms").glob("*.form")
        for component in json.loads(path.read_text(encoding="utf-8"))["components"]
        if component.get("conditional", {}).get("hide")
    }
)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('="teksts"', "teksts"),
        ('"ar \\"pēdiņām\\" un \\\\ \\n\\u0101"', 'ar "pēdiņām" un \\ \nā'),
        ("=42", 42),
        ("=12.5", 12.5),
        ("=.5", 0.5),
        ("=-3", -3),
        ("=--3", 3),
        ("=true", True),
        ("=false", False),
        ("=null", None),
        ("=lemums", "ja"),
        ("=lēmums_2", "nē"),
        ("=nav", None),
        ("=persona.adrese.pilseta", "Rīga"),
        ("=persona.vards", None),
        ("=lemums.daļa", None),
        ("=(1 < 2)", True),
        ("=( ( true ) )", True),
    ],
)
def test_values(expression, expected):
    variables = {"lemums": "ja", "lēmums_2": "nē", "persona": {"adrese": {"pilseta": "Rīga"}}}
    assert evaluate(expression, variables) == expected
    assert type(evaluate(expression, variables)) is type(expected)


@pytest.mark.parametrize(
    "expression, expected",
    [
        # = and != always answer a boolean; null equals only null
        ("=null = null", True),
        ("=nav = null", True),
        ("=tuks = null", True),
        ("=lemums = null", False),
        ("=null = lemums", False),
        ("=nav != null", False),
        ("=lemums != null", True),
        ('=nav != "ja"', True),
        ('=nav = "ja"', False),
        ('=lemums = "ja"', True),
        ('=lemums != "ja"', False),
        # values of different kinds are never equal (no 1 = true, no 1 = "1")
        ('=skaits = "3"', False),
        ("=karogs = 1", False),
        ("=skaits = 3.0", True),
        ("=dalskaitlis = 2.5", True),
        ("=saraksts = saraksts", True),
        ("=karogs = true", True),
        # ordering compares numbers with numbers and strings with strings; else null
        ("=skaits > 2", True),
        ("=skaits >= 3", True),
        ("=skaits < 3", False),
        ("=skaits <= 2", False),
        ('="a" < "b"', True),
        ('=skaits < "4"', None),
        ("=nav < 3", None),
        ("=karogs > false", None),
        ("=null <= null", None),
        # three-valued logic
        ("=true and true", True),
        ("=true and false", False),
        ("=false and null", False),
        ("=null and false", False),
        ("=true and null", None),
        ("=true and 1", None),
        ("=true or null", True),
        ("=null or true", True),
        ("=false or null", None),
        ("=false or false", False),
        ("=not(true)", False),
        ("=not(karogs)", False),
        ("=not(nav)", None),
        ('=not("ja")', None),
        ("=not(nav = null)", False),
        # precedence: comparison binds tighter than and, and tighter than or
        ('=lemums = "ja" and skaits > 2 or false', True),
        ("=false and false or true", True),
        ("=false and (false or true)", False),
        ("=-skaits < 0", True),
        ('=-"a"', None),
    ],
)
def test_feel_null_and_boolean_semantics(expression, expected):
    variables = {
        "lemums": "ja",
        "tuks": None,
        "skaits": 3,
        "dalskaitlis": Decimal("2.5"),
        "karogs": True,
        "saraksts": [1, "a", {"b": None}],
    }
    assert evaluate(expression, variables) is expected


def test_a_null_or_non_boolean_condition_is_not_true():
    assert is_true("=x = null", {}) is True
    assert is_true("=x", {"x": "true"}) is False
    assert is_true("=x < 1", {}) is False
    assert is_true("=not(x)", {"x": False}) is True


@pytest.mark.parametrize(
    "expression, what, position",
    [
        ("=", "expected an expression", 2),
        ("", "expected an expression", 1),
        ("=a = ", "expected a value", 6),
        ("=a == 1", "expected a value", 5),
        ("=a = 1 = 2", "cannot be chained", 8),
        ('="open', "unterminated string", 2),
        ('="a\\q"', "unknown escape", 4),
        ("=a + 1", "unexpected character '+'", 4),
        ("=a & b", "unexpected character '&'", 4),
        ("=(a = 1", "expected ')'", 8),
        ("=not a", "expected '(' after not", 6),
        ("=a b", "expected an operator", 4),
        ("=count(x)", "function calls are not supported", 7),
        ("=a.", "expected a name after '.'", 4),
        ("=a.and", "expected a name after '.'", 4),
        ("=and", "expected a value", 2),
        ("=12abc", "after the number", 4),
        ("=a = 'x'", 'unexpected character "\'"', 6),
    ],
)
def test_a_syntax_error_names_the_expression_and_position(expression, what, position):
    with pytest.raises(FeelError) as caught:
        evaluate(expression, {})
    message = str(caught.value)
    assert what in message
    assert f"at position {position} in {expression!r}" in message
    assert caught.value.position == position and caught.value.expression == expression
    assert isinstance(caught.value, FormError)


def test_nothing_is_executed():
    # Python syntax and names of builtins are just FEEL names (null) or syntax errors, never evaluated.
    assert evaluate("=__import__", {}) is None
    with pytest.raises(FeelError):
        evaluate('=__import__("os").system("true")', {})
    assert evaluate("=open", {"open": "variable"}) == "variable"


def test_compiled_expressions_are_cached():
    assert compile_expression('=a = "b"') is compile_expression('=a = "b"')


def test_the_library_has_hide_conditions():
    assert len(SHIPPED_HIDE_CONDITIONS) >= 10


@pytest.mark.parametrize("expression", SHIPPED_HIDE_CONDITIONS)
def test_every_shipped_hide_condition_evaluates(expression):
    names = set(re.findall(r"\b[a-z_]+\b", re.sub(r'"[^"]*"', "", expression))) - {"null", "not", "and", "or"}
    assert names, expression
    for value in (None, "ja", "ne", "l3", "pieskirt", "apstiprinat", "precizet", "pakalpojums", True, False):
        result = evaluate(expression, dict.fromkeys(names, value))
        assert result is None or isinstance(result, bool)
    assert is_true(expression, {}) in (True, False)
