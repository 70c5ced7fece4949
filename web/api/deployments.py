"""Deployments: ``/engine-rest/deployment``."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from engine.errors import BadRequest
from web import schemas
from web.api import PREFIX, engine, page
from web.auth import principal

blp = Blueprint("deployment", __name__, url_prefix=f"{PREFIX}/deployment", description="Deployments")


@blp.route("/create", methods=["POST"])
@blp.arguments(schemas.DeploymentForm, location="form")
@blp.response(200, schemas.DeploymentWithDefinitions)
def create(form: dict):
    """Deploy BPMN, DMN and form files (multipart, one part per file)."""
    files: dict[str, bytes] = {}
    for storage in request.files.values():
        name = storage.filename or storage.name
        if not name:
            raise BadRequest("Every uploaded file needs a file name")
        if name in files:
            raise BadRequest(f"File '{name}' is uploaded twice")
        files[name] = storage.read()
    result = engine().deployments.deploy(
        files,
        principal=principal(),
        name=form["deployment_name"],
        source=form["deployment_source"],
        deploy_changed_only=form["deploy_changed_only"],
        enable_duplicate_filtering=form["enable_duplicate_filtering"],
    )
    body = dict(result.deployment)
    body["deployedProcessDefinitions"] = (
        {d["id"]: d for d in result.process_definitions} if result.process_definitions else None
    )
    return body


@blp.route("")
@blp.arguments(schemas.DeploymentQuery, location="query")
@blp.response(200, schemas.Deployment(many=True))
def list_deployments(args: dict):
    return engine().deployments.list(name=args["name"], deployment_id=args["id"], **page(args))


@blp.route("/count")
@blp.arguments(schemas.DeploymentQuery, location="query")
@blp.response(200, schemas.Count)
def count_deployments(args: dict):
    return {"count": len(engine().deployments.list(name=args["name"], deployment_id=args["id"]))}


@blp.route("/<deployment_id>")
@blp.response(200, schemas.Deployment)
def get_deployment(deployment_id: str):
    return engine().deployments.get(deployment_id)


@blp.route("/<deployment_id>/resources")
@blp.response(200, schemas.Resource(many=True))
def deployment_resources(deployment_id: str):
    return engine().deployments.resources(deployment_id)
