"""Deployment parsing and validation: hardened XML, Camunda 7 attributes, timers, whole deployments."""

from __future__ import annotations

from engine.parsing.camunda import SERIALIZER_CONFIG, PlusmaParser, PlusmaUserTask
from engine.parsing.deployment import (
    ParsedDecision,
    ParsedDeployment,
    ParsedForm,
    ParsedProcess,
    parse_deployment,
)
from engine.parsing.timers import IsoTimer, check_timer_expression, parse_iso_timer
from engine.parsing.xml import MAX_FILE_BYTES, parse_xml

__all__ = [
    "MAX_FILE_BYTES",
    "SERIALIZER_CONFIG",
    "IsoTimer",
    "ParsedDecision",
    "ParsedDeployment",
    "ParsedForm",
    "ParsedProcess",
    "PlusmaParser",
    "PlusmaUserTask",
    "check_timer_expression",
    "parse_deployment",
    "parse_iso_timer",
    "parse_xml",
]
