"""Process definitions: ``/engine-rest/process-definition``, including starting instances."""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.errors import NotFound
from engine.services.tasks import form_reference
from web import schemas
from web.api import PREFIX, as_typed, engine, page, typed_variables
from web.auth import principal

blp = Blueprint(
    "process_definition", __name__, url_prefix=f"{PREFIX}/process-definition", description="Process definitions"
)


def _query(args: dict) -> dict:
    return {
        "key": args["key"],
        "name": args["name"],
        "deployment_id": args["deploymentId"],
        "definition_id": args["processDefinitionId"],
        "latest_only": args["latestVersion"],
        "version": args["version"],
    }


@blp.route("")
@blp.arguments(schemas.ProcessDefinitionQuery, location="query")
@blp.response(200, schemas.ProcessDefinition(many=True))
def list_definitions(args: dict):
    return engine().definitions.list(**_query(args), **page(args))


@blp.route("/count")
@blp.arguments(schemas.ProcessDefinitionQuery, location="query")
@blp.response(200, schemas.Count)
def count_definitions(args: dict):
    return {"count": len(engine().definitions.list(**_query(args)))}


@blp.route("/key/<key>")
@blp.response(200, schemas.ProcessDefinition)
def by_key(key: str):
    return engine().definitions.latest(key)


@blp.route("/key/<key>/xml")
@blp.response(200, schemas.ProcessDefinitionXml)
def xml_by_key(key: str):
    return _xml(engine().definitions.latest(key))


@blp.route("/<definition_id>")
@blp.response(200, schemas.ProcessDefinition)
def by_id(definition_id: str):
    return engine().definitions.get(definition_id)


@blp.route("/<definition_id>/xml")
@blp.response(200, schemas.ProcessDefinitionXml)
def xml_by_id(definition_id: str):
    return _xml(engine().definitions.get(definition_id))


def _xml(definition: dict) -> dict:
    return {"id": definition["id"], "bpmn20Xml": engine().definitions.xml(definition).decode("utf-8")}


def _start(args: dict, **target: str) -> dict:
    variables = typed_variables(args.get("variables"))
    row = engine().instances.start(principal(), variables=variables, business_key=args.get("businessKey"), **target)
    if args.get("withVariablesInReturn"):
        row["variables"] = as_typed(engine().instances.variables(principal(), row["id"]))
    return row


@blp.route("/key/<key>/start", methods=["POST"])
@blp.arguments(schemas.StartInstance)
@blp.response(200, schemas.ProcessInstanceWithVariables)
def start_by_key(args: dict, key: str):
    """Start an instance of the latest version, run it to its first wait state."""
    return _start(args, key=key)


@blp.route("/<definition_id>/start", methods=["POST"])
@blp.arguments(schemas.StartInstance)
@blp.response(200, schemas.ProcessInstanceWithVariables)
def start_by_id(args: dict, definition_id: str):
    return _start(args, definition_id=definition_id)


def _start_form(definition: dict) -> dict:
    key, ref = engine().definitions.start_form(definition)
    return form_reference(key, ref)


def _deployed_start_form(definition: dict) -> dict:
    _, ref = engine().definitions.start_form(definition)
    form = engine().definitions.form(ref) if ref else None
    if form is None:
        raise NotFound(f"Process definition '{definition['id']}' has no deployed start form")
    return form["schema"]


@blp.route("/key/<key>/startForm")
@blp.response(200, description="The start event's form reference: key, camundaFormRef, contextPath")
def start_form_by_key(key: str):
    return _start_form(engine().definitions.latest(key))


@blp.route("/<definition_id>/startForm")
@blp.response(200, description="The start event's form reference: key, camundaFormRef, contextPath")
def start_form_by_id(definition_id: str):
    return _start_form(engine().definitions.get(definition_id))


@blp.route("/key/<key>/deployed-start-form")
@blp.response(200, description="The start event's deployed form (form-js JSON)")
def deployed_start_form_by_key(key: str):
    return _deployed_start_form(engine().definitions.latest(key))


@blp.route("/<definition_id>/deployed-start-form")
@blp.response(200, description="The start event's deployed form (form-js JSON)")
def deployed_start_form_by_id(definition_id: str):
    return _deployed_start_form(engine().definitions.get(definition_id))
