"""Values of process data as the text an HTML input holds."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


def format_scalar(value: Any) -> str:
    """A value as text: numbers without a trailing ``.0`` or exponent, booleans as true/false, objects as JSON,
    date-times as ``YYYY-MM-DD HH:MM``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return format_number(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        # As written (its own offset), without seconds: a deadline shown in a text field reads as one.
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def format_number(value: int | float | Decimal) -> str:
    """``12`` for 12.0, ``12.5`` for 12.5, ``0.00001`` rather than ``1e-05``."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    number = Decimal(repr(value)) if isinstance(value, float) else value
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
