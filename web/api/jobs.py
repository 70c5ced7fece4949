"""Jobs (timers and connector work) and the incidents of failed ones: ``/engine-rest/job``, ``/incident``.

Both show the engine's inner workings across all instances, so they are for administrators.
"""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from engine.errors import Forbidden
from web import schemas
from web.api import PREFIX, engine, page
from web.auth import principal

blp = Blueprint("job", __name__, url_prefix=PREFIX, description="Jobs and incidents")


def _admin() -> None:
    who = principal()
    if not who.is_admin:
        raise Forbidden(f"User '{who.user_id}' may not read jobs and incidents: that needs the 'admin' group")


def _job_filters(args: dict) -> dict:
    return {
        "instance_id": args["processInstanceId"],
        "definition_key": args["processDefinitionKey"],
        "with_exception": args["withException"],
        "no_retries_left": args["noRetriesLeft"],
    }


@blp.route("/job")
@blp.arguments(schemas.JobQuery, location="query")
@blp.response(200, schemas.Job(many=True))
def list_jobs(args: dict):
    _admin()
    return engine().jobs.list(**_job_filters(args), **page(args))


@blp.route("/job/count")
@blp.arguments(schemas.JobQuery, location="query")
@blp.response(200, schemas.Count)
def count_jobs(args: dict):
    _admin()
    return {"count": len(engine().jobs.list(**_job_filters(args)))}


@blp.route("/job/<job_id>")
@blp.response(200, schemas.Job)
def get_job(job_id: str):
    _admin()
    return engine().jobs.get(job_id)


@blp.route("/job/<job_id>/stacktrace")
@blp.response(200, description="The failed job's stack trace, as text")
def job_stacktrace(job_id: str):
    _admin()
    return Response(engine().jobs.get(job_id)["exception_stacktrace"] or "", mimetype="text/plain")


@blp.route("/job/<job_id>/retries", methods=["PUT"])
@blp.arguments(schemas.JobRetries)
@blp.response(204)
def set_job_retries(args: dict, job_id: str):
    """Give a failed job retries again: it runs at once and its incident is resolved."""
    engine().jobs.set_retries(principal(), job_id, args["retries"])


def _incident_filters(args: dict) -> dict:
    return {
        "incident_type": args["incidentType"],
        "instance_id": args["processInstanceId"],
        "definition_key": args["processDefinitionKey"],
    }


@blp.route("/incident")
@blp.arguments(schemas.IncidentQuery, location="query")
@blp.response(200, schemas.Incident(many=True))
def list_incidents(args: dict):
    _admin()
    return engine().incidents.list(**_incident_filters(args), **page(args))


@blp.route("/incident/count")
@blp.arguments(schemas.IncidentQuery, location="query")
@blp.response(200, schemas.Count)
def count_incidents(args: dict):
    _admin()
    return {"count": len(engine().incidents.list(**_incident_filters(args)))}
