"""Message correlation: ``POST /engine-rest/message``."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from engine.errors import BadRequest
from web import schemas
from web.api import PREFIX, as_typed, engine, typed_variables
from web.auth import principal

blp = Blueprint("message", __name__, url_prefix=PREFIX, description="Messages")


@blp.route("/message", methods=["POST"])
@blp.arguments(schemas.CorrelateMessage)
@blp.response(200, schemas.MessageCorrelationResult(many=True))
@blp.alt_response(204, description="Delivered (resultEnabled false)")
def correlate(args: dict):
    """Deliver a message to the instance waiting for it, or start the process it starts; 400 if neither."""
    if args["tenantId"]:
        raise BadRequest("tenantId: Plūsma has no tenants; leave it out")
    results = engine().messages.correlate(
        principal(),
        args["messageName"],
        business_key=args["businessKey"],
        correlation_keys=typed_variables(args["correlationKeys"]),
        process_instance_id=args["processInstanceId"],
        variables=typed_variables(args["processVariables"]),
        correlate_all=args["all"],
    )
    if not args["resultEnabled"]:
        return Response(status=204)
    answer = []
    for result in results:
        instance = result.instance
        item = {
            "resultType": result.result_type,
            "execution": None,
            "processInstance": instance,
            "variables": None,
        }
        if result.result_type == "Execution":
            item["execution"] = {
                "id": instance["id"],
                "processInstanceId": instance["id"],
                "ended": instance["state"] != "ACTIVE",
                "tenantId": None,
            }
        if args["variablesInResultEnabled"]:
            item["variables"] = as_typed(engine().instances.variables(principal(), instance["id"]))
        answer.append(item)
    return answer
