"""Process instances: ``/engine-rest/process-instance``."""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.errors import NotFound
from web import schemas
from web.api import PREFIX, as_typed, engine, page, typed_variables
from web.auth import principal

blp = Blueprint("process_instance", __name__, url_prefix=f"{PREFIX}/process-instance", description="Process instances")


def _query(args: dict) -> dict:
    ids = args.get("processInstanceIds")
    return {
        "definition_key": args["processDefinitionKey"],
        "definition_id": args["processDefinitionId"],
        "business_key": args["businessKey"],
        "instance_ids": ids.split(",") if ids else None,
        "active": args["active"],
        "completed": args["completed"],
    }


@blp.route("")
@blp.arguments(schemas.ProcessInstanceQuery, location="query")
@blp.response(200, schemas.ProcessInstance(many=True))
def list_instances(args: dict):
    return engine().instances.list(principal(), **_query(args), **page(args))


@blp.route("/count")
@blp.arguments(schemas.ProcessInstanceQuery, location="query")
@blp.response(200, schemas.Count)
def count_instances(args: dict):
    return {"count": engine().instances.list(principal(), **_query(args), count_only=True)}


@blp.route("/<instance_id>")
@blp.response(200, schemas.ProcessInstance)
def get_instance(instance_id: str):
    return engine().instances.get(principal(), instance_id)


@blp.route("/<instance_id>", methods=["DELETE"])
@blp.arguments(schemas.DeleteInstanceQuery, location="query")
@blp.response(204)
def cancel_instance(args: dict, instance_id: str):
    """Cancel a running instance; ``deleteReason`` is kept in its history."""
    engine().instances.cancel(principal(), instance_id, args["deleteReason"])


@blp.route("/<instance_id>/variables")
@blp.response(200, description="Variables by name, each a Camunda typed value")
def variables(instance_id: str):
    return as_typed(engine().instances.variables(principal(), instance_id))


@blp.route("/<instance_id>/variables/<name>")
@blp.response(200, schemas.VariableValue)
def variable(instance_id: str, name: str):
    values = engine().instances.variables(principal(), instance_id)
    if name not in values:
        raise NotFound(f"Process instance '{instance_id}' has no variable '{name}'")
    return as_typed({name: values[name]})[name]


@blp.route("/<instance_id>/variables", methods=["POST"])
@blp.arguments(schemas.VariableModifications)
@blp.response(204)
def modify_variables(args: dict, instance_id: str):
    """Set (``modifications``) and remove (``deletions``) variables of a running instance."""
    engine().instances.set_variables(
        principal(), instance_id, typed_variables(args["modifications"]), deletions=args["deletions"] or []
    )


@blp.route("/<instance_id>/variables/<name>", methods=["PUT"])
@blp.arguments(schemas.VariableValue)
@blp.response(204)
def put_variable(args: dict, instance_id: str, name: str):
    engine().instances.set_variables(principal(), instance_id, typed_variables({name: args}))
