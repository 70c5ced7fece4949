"""Engine information: ``/engine-rest/engine`` and ``/engine-rest/version``, as Camunda clients probe them."""

from __future__ import annotations

from flask_smorest import Blueprint

from web.api import PREFIX

blp = Blueprint("engine_info", __name__, url_prefix=PREFIX, description="Engine information")

#: The Camunda REST API version whose shape Plūsma follows.
CAMUNDA_API_VERSION = "7.22.0"


@blp.route("/engine")
@blp.response(200, description="The process engines")
def engines():
    return [{"name": "default"}]


@blp.route("/version")
@blp.response(200, description="The REST API version")
def version():
    return {"version": CAMUNDA_API_VERSION}
