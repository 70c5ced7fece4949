"""Deployment parsing and validation: hardened XML, Camunda 7 attributes, timers, whole deployments."""

from __future__ import annotations

from engine.parsing.camunda import (
    SERIALIZER_CONFIG,
    Expression,
    PlusmaParser,
    PlusmaServiceTask,
    PlusmaUserTask,
    expression_parts,
)
from engine.parsing.deployment import (
    KNOWN_CONNECTORS,
    ParsedDecision,
    ParsedDeployment,
    ParsedForm,
    ParsedProcess,
    parse_deployment,
    parse_retry_time_cycle,
)
from engine.parsing.timers import IsoTimer, check_timer_expression, parse_iso_timer
from engine.parsing.xml import MAX_FILE_BYTES, parse_xml

__all__ = [
    "KNOWN_CONNECTORS",
    "MAX_FILE_BYTES",
    "SERIALIZER_CONFIG",
    "Expression",
    "IsoTimer",
    "ParsedDecision",
    "ParsedDeployment",
    "ParsedForm",
    "ParsedProcess",
    "PlusmaParser",
    "PlusmaServiceTask",
    "PlusmaUserTask",
    "check_timer_expression",
    "expression_parts",
    "parse_deployment",
    "parse_iso_timer",
    "parse_retry_time_cycle",
    "parse_xml",
]
