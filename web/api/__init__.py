"""The ``/engine-rest`` REST API in Camunda 7's shape. Each module is one resource."""

from __future__ import annotations

from flask import current_app

from engine.process_engine import ProcessEngine
from engine.variables import variables_from_typed, variables_to_typed

PREFIX = "/engine-rest"


def engine() -> ProcessEngine:
    return current_app.extensions["plusma"]


def typed_variables(raw: dict | None) -> dict:
    """Request variables (Camunda-typed) to process data; 400 on a bad one."""
    return variables_from_typed(raw)


def as_typed(data: dict) -> dict:
    return variables_to_typed(data)


def page(args: dict) -> dict:
    return {"first_result": args.get("firstResult") or 0, "max_results": args.get("maxResults")}
