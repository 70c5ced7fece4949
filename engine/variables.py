"""Camunda 7 typed variables <-> the Python values process data holds.

Camunda clients send ``{"name": {"value": ..., "type": "String"}}``; scripts and conditions see
plain Python values. Dates become timezone-aware ``datetime`` objects, Json becomes dicts/lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from engine.errors import BadRequest

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
#: Camunda's date format, e.g. 2026-11-24T10:15:00.000+0200.
CAMUNDA_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"

SUPPORTED_TYPES = ("String", "Integer", "Short", "Long", "Double", "Boolean", "Date", "Json", "Object", "Null")


def _bad(name: str, message: str) -> BadRequest:
    return BadRequest(f"Cannot convert value of variable '{name}': {message}")


def parse_date(text: str) -> datetime:
    """Parse Camunda's date format and ISO 8601; a date without an offset is taken as UTC."""
    value = text.strip()
    # Camunda writes +0200; Python 3.11's fromisoformat wants +02:00 or Z.
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit() and value[-3] != ":":
        value = f"{value[:-2]}:{value[-2:]}"
    result = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return result if result.tzinfo else result.replace(tzinfo=UTC)


def format_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.strftime(CAMUNDA_DATE_FORMAT)
    # milliseconds, not microseconds, as Camunda prints them
    return text[:23] + text[26:]


def from_typed(name: str, typed: Any) -> Any:
    """One Camunda typed value to the Python value stored in process data."""
    if not isinstance(typed, Mapping):
        raise _bad(name, "expected an object with 'value' and 'type'")
    value = typed.get("value")
    kind = typed.get("type")
    if kind is None:
        return _untyped(name, value)
    if not isinstance(kind, str):
        raise _bad(name, "'type' must be a string")
    kind = kind[0].upper() + kind[1:] if kind else kind
    if value is None or kind == "Null":
        return None
    if kind == "String":
        if not isinstance(value, str):
            raise _bad(name, f"expected a string for type String, got {type(value).__name__}")
        return value
    if kind in ("Integer", "Short", "Long"):
        if isinstance(value, bool) or not isinstance(value, (int, str, float)):
            raise _bad(name, f"expected a whole number for type {kind}")
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except ValueError:
            number = None
        if number is None:
            raise _bad(name, f"'{value}' is not a whole number")
        low, high = (
            (INT_MIN, INT_MAX)
            if kind == "Integer"
            else (-(2**15), 2**15 - 1)
            if kind == "Short"
            else (
                LONG_MIN,
                LONG_MAX,
            )
        )
        if not low <= number <= high:
            raise _bad(name, f"{number} is out of range for type {kind}")
        return number
    if kind == "Double":
        if isinstance(value, bool):
            raise _bad(name, "expected a number for type Double")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _bad(name, f"'{value}' is not a number") from None
        if not math.isfinite(number):
            raise _bad(name, "a Double must be finite")
        return number
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _bad(name, f"'{value}' is not a Boolean")
    if kind == "Date":
        if not isinstance(value, str):
            raise _bad(name, "expected a date string for type Date")
        try:
            return parse_date(value)
        except ValueError:
            raise _bad(name, f"'{value}' is not a date (expected e.g. 2026-11-24T10:15:00.000+0200)") from None
    if kind in ("Json", "Object"):
        if kind == "Object":
            fmt = (typed.get("valueInfo") or {}).get("serializationDataFormat", "application/json")
            if fmt != "application/json":
                raise _bad(name, f"only application/json objects are accepted, not {fmt}")
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as error:
                raise _bad(name, f"invalid JSON: {error}") from None
        if isinstance(value, (dict, list, int, float, bool)):
            return value
        raise _bad(name, "expected JSON")
    raise _bad(name, f"unsupported type '{kind}' (supported: {', '.join(SUPPORTED_TYPES)})")


def _untyped(name: str, value: Any) -> Any:
    # Camunda infers the type of an untyped value from its JSON type.
    if value is None or isinstance(value, (str, bool, int, float, dict, list)):
        return value
    raise _bad(name, "unsupported value")


def variables_from_typed(variables: Any) -> dict[str, Any]:
    """A ``{"name": {"value", "type"}}`` mapping to plain process data."""
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        raise BadRequest("'variables' must be an object mapping names to typed values")
    result = {}
    for name, typed in variables.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise BadRequest(
                f"Invalid variable name '{name}': use letters, digits and underscores, not starting with a digit or '_'"
            )
        result[name] = from_typed(name, typed)
    return result


def to_typed(value: Any) -> dict[str, Any]:
    """A Python value to Camunda's typed value."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if INT_MIN <= value <= INT_MAX else "Long"
        return {"type": kind, "value": value, "valueInfo": {}}
    if isinstance(value, (float, Decimal)):
        return {"type": "Double", "value": float(value), "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    if isinstance(value, datetime):
        return {"type": "Date", "value": format_date(value), "valueInfo": {}}
    if isinstance(value, date):
        return {"type": "Date", "value": format_date(datetime(value.year, value.month, value.day)), "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, default=str, ensure_ascii=False), "valueInfo": {}}


def variables_to_typed(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: to_typed(value) for name, value in data.items() if not callable(value)}
