"""HTTP Basic authentication for the REST API, as Camunda's engine-rest has it."""

from __future__ import annotations

from flask import current_app, g, request

from engine.errors import Unauthorized
from engine.identity import Principal
from web.api import PREFIX

#: Endpoints anyone may call: the API description and the engine list.
PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "engine_info.engines", "engine_info.version"}


def authenticate_request() -> None:
    """Before each API request: set ``g.principal`` or refuse with 401."""
    if not request.path.startswith(PREFIX) or request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise Unauthorized("Authentication required: send HTTP Basic credentials")
    g.principal = current_app.extensions["plusma"].users.authenticate(auth.username, auth.password or "")


def principal() -> Principal:
    return g.principal
