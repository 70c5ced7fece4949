"""User tasks: ``/engine-rest/task``."""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.services.tasks import TaskQuery
from web import schemas
from web.api import PREFIX, as_typed, engine, typed_variables
from web.auth import principal

blp = Blueprint("task", __name__, url_prefix=f"{PREFIX}/task", description="User tasks")


def _query(args: dict) -> TaskQuery:
    return TaskQuery(
        process_instance_id=args["processInstanceId"],
        process_definition_key=args["processDefinitionKey"],
        process_definition_id=args["processDefinitionId"],
        business_key=args["processInstanceBusinessKey"],
        assignee=args["assignee"],
        unassigned=args["unassigned"],
        assigned=args["assigned"],
        candidate_group=args["candidateGroup"],
        candidate_user=args["candidateUser"],
        name=args["name"],
        name_like=args["nameLike"],
        task_definition_key=args["taskDefinitionKey"],
        task_id=args["taskId"],
        sort_by=args["sortBy"],
        sort_order=args["sortOrder"],
        first_result=args["firstResult"],
        max_results=args["maxResults"],
    )


@blp.route("")
@blp.arguments(schemas.TaskListQuery, location="query")
@blp.response(200, schemas.Task(many=True))
def list_tasks(args: dict):
    """Open tasks the caller may see (their own and their groups'), filtered, sorted and paged."""
    return engine().tasks.list(principal(), _query(args))


@blp.route("/count")
@blp.arguments(schemas.TaskListQuery, location="query")
@blp.response(200, schemas.Count)
def count_tasks(args: dict):
    return {"count": engine().tasks.count(principal(), _query(args))}


@blp.route("/<task_id>")
@blp.response(200, schemas.Task)
def get_task(task_id: str):
    return engine().tasks.get(principal(), task_id)


@blp.route("/<task_id>/claim", methods=["POST"])
@blp.arguments(schemas.ClaimTask)
@blp.response(204)
def claim(args: dict, task_id: str):
    engine().tasks.claim(principal(), task_id, args["userId"])


@blp.route("/<task_id>/unclaim", methods=["POST"])
@blp.response(204)
def unclaim(task_id: str):
    engine().tasks.unclaim(principal(), task_id)


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(schemas.CompleteTask)
@blp.response(204)
@blp.alt_response(200, description="Variables, when withVariablesInReturn is true")
def complete(args: dict, task_id: str):
    """Complete the task with variables and run the instance to its next wait state."""
    with_variables = bool(args.get("withVariablesInReturn"))
    result = engine().tasks.complete(
        principal(), task_id, typed_variables(args.get("variables")), with_variables=with_variables
    )
    return (as_typed(result), 200) if with_variables else None


@blp.route("/<task_id>/form-variables")
@blp.response(200, description="The form's variables by name, each a Camunda typed value")
def form_variables(task_id: str):
    return as_typed(engine().tasks.form_variables(principal(), task_id))


@blp.route("/<task_id>/identity-links")
@blp.response(200, description="Candidate users and groups and the assignee")
def identity_links(task_id: str):
    row = engine().tasks.get(principal(), task_id)
    candidates = engine().tasks.candidates(task_id)
    links = [{"userId": None, "groupId": g, "type": "candidate"} for g in candidates["group"]]
    links += [{"userId": u, "groupId": None, "type": "candidate"} for u in candidates["user"]]
    if row["assignee"]:
        links.append({"userId": row["assignee"], "groupId": None, "type": "assignee"})
    return links


@blp.route("/<task_id>/form")
@blp.response(200, description="The task's form reference: key, camundaFormRef, contextPath")
def form(task_id: str):
    return engine().tasks.form(principal(), task_id)


@blp.route("/<task_id>/deployed-form")
@blp.response(200, description="The task's deployed form (form-js JSON)")
def deployed_form(task_id: str):
    return engine().tasks.deployed_form(principal(), task_id)
