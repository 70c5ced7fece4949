"""Errors as Camunda's REST API returns them: ``{"type": ..., "message": ...}`` with a status."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from engine.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidModel,
    NotFound,
    PlusmaError,
    ScriptError,
    Unauthorized,
)

log = logging.getLogger(__name__)

_STATUS = [
    (InvalidModel, 400),
    (NotFound, 404),
    (BadRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (Conflict, 409),
    (ScriptError, 400),
]

REALM = 'Basic realm="Plusma"'


def status_of(error: PlusmaError) -> int:
    for cls, status in _STATUS:
        if isinstance(error, cls):
            return status
    return 400


def error_body(error_type: str, message: str, **extra) -> dict:  # noqa: ANN003
    return {"type": error_type, "message": message, **extra}


def handle_plusma_error(error: PlusmaError):  # noqa: ANN201
    body = error_body(error.camunda_type, error.message)
    if isinstance(error, InvalidModel):
        body["problems"] = [p.to_dict() for p in error.problems]
    if isinstance(error, ScriptError) or getattr(error, "element_id", None):
        body["elementId"] = error.element_id
    response = jsonify(body)
    response.status_code = status_of(error)
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = REALM
    return response


def handle_http_exception(error: HTTPException):  # noqa: ANN201
    data = getattr(error, "data", None) or {}
    message = data.get("message") or error.description
    body = error_body("InvalidRequestException" if error.code < 500 else "ProcessEngineException", message)
    messages = data.get("messages") or data.get("errors")
    if messages:
        # webargs/marshmallow validation: say which field and where.
        details = []
        for location, fields in messages.items():
            if isinstance(fields, dict):
                for field, problems in fields.items():
                    details.append(f"{location} field '{field}': {'; '.join(map(str, _flatten(problems)))}")
            else:
                details.append(f"{location}: {fields}")
        body["message"] = "Invalid request: " + ", ".join(details)
    response = jsonify(body)
    # Camunda answers validation problems with 400, not 422.
    response.status_code = 400 if error.code == 422 else error.code
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _flatten(problems):  # noqa: ANN001, ANN202
    if isinstance(problems, dict):
        for key, value in problems.items():
            for item in _flatten(value):
                yield f"{key}: {item}"
    elif isinstance(problems, list):
        for item in problems:
            yield from _flatten(item)
    else:
        yield problems


def handle_unexpected(error: Exception):  # noqa: ANN201
    log.exception("Unexpected error")
    response = jsonify(error_body("ProcessEngineException", f"Internal error: {type(error).__name__}"))
    response.status_code = 500
    return response


def register(app: Flask) -> None:
    app.register_error_handler(PlusmaError, handle_plusma_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
