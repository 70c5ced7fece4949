"""Timer values: what Camunda Modeler writes (bare ISO 8601) or a Python expression over process data.

Camunda Modeler writes ``<bpmn:timeDuration>PT3S</bpmn:timeDuration>``; SpiffWorkflow evaluates that text as
Python (a NameError for ``PT3S``). Plūsma accepts both: a bare ISO 8601 value, or an expression whose
result is one. This module checks a value at deploy time and describes a bare ISO value for scheduling;
the ISO parsing itself is SpiffWorkflow's (``TimerEventDefinition``), so deploy time and run time agree.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import ScriptError
from engine.parsing.camunda import (
    Expression,
    camunda_expression_body,
    expression_parts,
    is_camunda_expression,
    juel_to_python,
)
from engine.scripting import compile_expression

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

TIME_DURATION = "timeDuration"
TIME_DATE = "timeDate"
TIME_CYCLE = "timeCycle"
TIMER_KINDS = (TIME_DURATION, TIME_DATE, TIME_CYCLE)

_EXAMPLES = {
    TIME_DURATION: "PT3S or P2DT4H",
    TIME_DATE: "2027-01-01T09:00:00+02:00",
    TIME_CYCLE: "R3/PT10M or R/P1D",
}

# What makes a value "meant as ISO 8601" rather than Python: a duration (P1D, PT3S), a repeating
# interval (R/..., R3/...) or a calendar date (2027-01-01...). A variable such as ``PT_days`` is Python.
_ISO_LIKE = re.compile(r"^(?:P(?:\d|T\d)|R\d*/|\d{4}-?(?:\d{2}|W\d))", re.IGNORECASE)
# Camunda also takes cron expressions for timeCycle (``0 0/5 * * * ?``); SpiffWorkflow does not.
_CRON_LIKE = re.compile(r"^[\d*?/,LW#A-Z-]+(?:\s+[\d*?/,LW#A-Z-]+){4,6}$", re.IGNORECASE)


@dataclass
class IsoTimer:
    """A bare ISO 8601 timer value, parsed.

    ``duration`` holds the ISO parts as SpiffWorkflow parses them (``{"days": 2, "hours": 4}``); months and
    years only become a length of time against a start date, see :meth:`duration_from`.
    """

    kind: str
    text: str
    #: timeDuration; a cycle's interval.
    duration: dict[str, int | float] | None = None
    #: timeDate (aware, in UTC); a cycle's explicit start (``R3/2027-01-01T09:00:00Z/PT1H``).
    date: datetime | None = None
    #: A cycle's explicit end (``R3/PT1H/2027-01-01T09:00:00Z``): the last repetition is due then.
    end: datetime | None = None
    #: timeCycle: number of repetitions; -1 for unbounded (``R/PT1H``).
    repetitions: int | None = None

    def duration_from(self, start: datetime) -> timedelta:
        """The duration as a timedelta counted from ``start`` (months and years have calendar lengths)."""
        if self.duration is None:
            raise ValueError(f"{self.kind} {self.text!r} has no duration")
        # SpiffWorkflow's helper pops from the dict it gets: hand it a copy.
        return TimerEventDefinition.get_timedelta_from_start(dict(self.duration), start)


def _duration(text: str, kind: str) -> dict[str, int | float]:
    if text[:1] not in ("P", "p"):
        raise ValueError(f"{kind} {text!r} is not an ISO 8601 duration (like {_EXAMPLES[TIME_DURATION]})")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception:
        parsed = None
    if not parsed:
        raise ValueError(f"{kind} {text!r} is not a valid ISO 8601 duration (like {_EXAMPLES[TIME_DURATION]})")
    return parsed


def _datetime(text: str, kind: str) -> datetime:
    try:
        value = TimerEventDefinition.parse_time_or_duration(text)
    except Exception:
        value = None
    if not isinstance(value, datetime):
        raise ValueError(f"{kind} {text!r} is not a valid ISO 8601 date-time (like {_EXAMPLES[TIME_DATE]})")
    return value


def parse_iso_timer(text: str, kind: str) -> IsoTimer:
    """Parse a bare ISO 8601 timer value of the given kind; ValueError saying what is wrong otherwise."""
    if kind not in TIMER_KINDS:
        raise ValueError(f"unknown timer kind {kind!r}; expected one of {', '.join(TIMER_KINDS)}")
    value = (text or "").strip()
    if not value:
        raise ValueError(f"{kind} is empty")

    if kind == TIME_DURATION:
        if value[:1] not in ("P", "p"):
            hint = " (it looks like a date-time: use timeDate)" if _ISO_LIKE.match(value) else ""
            raise ValueError(f"{kind} {value!r} is not an ISO 8601 duration (like {_EXAMPLES[TIME_DURATION]}){hint}")
        return IsoTimer(kind, value, duration=_duration(value, kind))

    if kind == TIME_DATE:
        if value[:1] in ("P", "p"):
            raise ValueError(
                f"{kind} {value!r} is a duration; timeDate needs a date-time "
                f"(like {_EXAMPLES[TIME_DATE]}), or use timeDuration"
            )
        return IsoTimer(kind, value, date=_datetime(value, kind))

    # timeCycle
    if _CRON_LIKE.match(value) and not value.upper().startswith("R"):
        raise ValueError(
            f"{kind} {value!r} looks like a cron expression; Plūsma supports ISO 8601 "
            f"repeating intervals only (like {_EXAMPLES[TIME_CYCLE]})"
        )
    match = re.fullmatch(r"R(\d*)/(.+)", value, re.IGNORECASE)
    if not match:
        raise ValueError(f"{kind} {value!r} is not an ISO 8601 repeating interval (like {_EXAMPLES[TIME_CYCLE]})")
    repetitions = int(match.group(1)) if match.group(1) else -1
    parts = match.group(2).split("/")
    if len(parts) == 1:
        timer = IsoTimer(kind, value, duration=_duration(parts[0], kind), repetitions=repetitions)
    elif len(parts) == 2:
        first, second = parts
        if first[:1] in ("P", "p") and second[:1] not in ("P", "p"):
            timer = IsoTimer(
                kind, value, duration=_duration(first, kind), end=_datetime(second, kind), repetitions=repetitions
            )
        elif first[:1] not in ("P", "p") and second[:1] in ("P", "p"):
            timer = IsoTimer(
                kind, value, date=_datetime(first, kind), duration=_duration(second, kind), repetitions=repetitions
            )
        else:
            raise ValueError(
                f"{kind} {value!r} needs exactly one duration and at most one date-time "
                f"(like R3/PT10M or R3/2027-01-01T09:00:00Z/PT1H)"
            )
    else:
        raise ValueError(f"{kind} {value!r} has too many parts (like {_EXAMPLES[TIME_CYCLE]})")
    # Run SpiffWorkflow's own parser too, so nothing it would refuse at run time gets through.
    try:
        TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as err:
        raise ValueError(f"{kind} {value!r} is not a valid ISO 8601 repeating interval: {err}") from None
    return timer


def check_timer_expression(text: str, kind: str, element_id: str) -> None:
    """Check a timer value at deploy time; raise ``ScriptError`` (with ``element_id``) saying what is wrong.

    Accepted: a bare ISO 8601 value of the right kind, or a Python expression over process data that
    ``compile_expression`` accepts (a string literal in it must itself be valid ISO 8601).
    """
    if kind not in TIMER_KINDS:
        raise ScriptError(f"unknown timer kind {kind!r}; expected one of {', '.join(TIMER_KINDS)}", element_id)
    value = (text or "").strip()
    if not value:
        raise ScriptError(f"the timer's {kind} is empty (write an ISO 8601 value like {_EXAMPLES[kind]})", element_id)

    if is_camunda_expression(value):
        # ${...} as Camunda Modeler writes it: the body is a Python expression over process data; text
        # around it ("P${dienas}D") is joined to it.
        try:
            python = camunda_timer_to_python(value)
        except ValueError as err:
            raise ScriptError(f"{kind} {value!r}: {err}", element_id) from None
        try:
            compile_expression(python, element_id)
        except ScriptError as err:
            body = camunda_expression_body(value)
            hint = f" (write it in Python: {juel_to_python(body)})" if body and juel_to_python(body) != body else ""
            raise ScriptError(f"{kind} {value!r} is not a valid expression{hint}: {err.reason}", element_id) from None
        return

    if _ISO_LIKE.match(value) or (kind == TIME_CYCLE and _CRON_LIKE.match(value)):
        try:
            parse_iso_timer(value, kind)
        except ValueError as err:
            raise ScriptError(str(err), element_id) from None
        return

    try:
        compile_expression(value, element_id)
    except ScriptError as err:
        raise ScriptError(
            f"{kind} {value!r} is neither an ISO 8601 value (like {_EXAMPLES[kind]}) "
            f"nor a valid Python expression: {err.reason}",
            element_id,
        ) from None

    # A literal is checked for what it will evaluate to.
    node = ast.parse(value, mode="eval").body
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, str):
            raise ScriptError(
                f"{kind} {value!r} is a constant, not an ISO 8601 text (like {_EXAMPLES[kind]})", element_id
            )
        try:
            parse_iso_timer(node.value, kind)
        except ValueError as err:
            raise ScriptError(str(err), element_id) from None


def camunda_timer_to_python(value: str) -> str:
    """The Python expression for a timer value with Camunda ``${...}`` parts.

    ``${termins}`` -> ``(termins)``; ``P${dienas}D`` -> ``'P' + str(dienas) + 'D'``. ValueError for an
    expression that is not closed or is empty.
    """
    parts = expression_parts(value)
    if any(isinstance(part, Expression) and not part.body for part in parts):
        raise ValueError("an expression ${} is empty")
    if len(parts) == 1 and isinstance(parts[0], Expression):
        return f"({parts[0].body})"
    return " + ".join(f"str({part.body})" if isinstance(part, Expression) else repr(part) for part in parts)


def quote_bare_iso_timers(root: etree._Element) -> int:
    """Make timer values as Camunda Modeler writes them Python, in the tree SpiffWorkflow parses (it
    evaluates timer values as Python expressions): bare ISO 8601 values (``PT3S``) become string literals,
    ``${...}`` expressions their Python form (see :func:`camunda_timer_to_python`).

    The deployed file itself keeps the modeller's text. Returns how many values were rewritten.
    """
    rewritten = 0
    for element in root.iter(*(f"{{{BPMN_MODEL_NS}}}{kind}" for kind in TIMER_KINDS)):
        value = (element.text or "").strip()
        if value and is_camunda_expression(value):
            element.text = camunda_timer_to_python(value)
            rewritten += 1
        elif value and _ISO_LIKE.match(value):
            element.text = json.dumps(value)
            rewritten += 1
    return rewritten
