"""External tasks: ``/engine-rest/external-task`` in Camunda 7's shape.

Workers (members of ``external-worker`` or ``admin``) fetch and lock tasks by topic, long-polling with
``asyncResponseTimeout``, and report completion, failure or a BPMN error. A result from a worker that does
not hold the task's lock is refused with 400 (Camunda answers 400 or 500 depending on the call).
"""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from engine.errors import BadRequest
from engine.services.external_tasks import ExternalTaskQuery, FetchTopic
from web import schemas
from web.api import PREFIX, engine, typed_variables
from web.auth import principal

blp = Blueprint(
    "external_task", __name__, url_prefix=f"{PREFIX}/external-task", description="External tasks and their workers"
)


def _topic(raw: dict) -> FetchTopic:
    if raw.get("processVariables"):
        raise BadRequest(f"Topic '{raw['topicName']}': filtering by processVariables is not supported; leave it empty")
    return FetchTopic(
        topic_name=raw["topicName"],
        lock_duration_ms=raw["lockDuration"],
        variables=raw.get("variables"),
        local_variables=bool(raw.get("localVariables")),
        business_key=raw.get("businessKey"),
        process_definition_id=raw.get("processDefinitionId"),
        process_definition_id_in=tuple(raw.get("processDefinitionIdIn") or ()),
        process_definition_key=raw.get("processDefinitionKey"),
        process_definition_key_in=tuple(raw.get("processDefinitionKeyIn") or ()),
    )


@blp.route("/fetchAndLock", methods=["POST"])
@blp.arguments(schemas.FetchAndLock)
@blp.response(200, schemas.LockedExternalTask(many=True))
def fetch_and_lock(args: dict):
    """Lock free tasks of the given topics to the worker; wait up to asyncResponseTimeout ms when none is free."""
    sorting = args.get("sorting") or []
    return engine().external_tasks.fetch_and_lock(
        principal(),
        args["workerId"],
        args["maxTasks"],
        [_topic(raw) for raw in args.get("topics") or []],
        use_priority=bool(args.get("usePriority")),
        async_response_timeout_ms=args.get("asyncResponseTimeout"),
        created_order=sorting[0]["sortOrder"] if sorting else None,
    )


def _query(args: dict) -> ExternalTaskQuery:
    return ExternalTaskQuery(
        external_task_id=args["externalTaskId"],
        topic_name=args["topicName"],
        worker_id=args["workerId"],
        locked=args["locked"],
        not_locked=args["notLocked"],
        with_retries_left=args["withRetriesLeft"],
        no_retries_left=args["noRetriesLeft"],
        process_instance_id=args["processInstanceId"],
        process_definition_id=args["processDefinitionId"],
        process_definition_key=args["processDefinitionKey"],
        activity_id=args["activityId"],
        priority_higher_than_or_equals=args["priorityHigherThanOrEquals"],
        priority_lower_than_or_equals=args["priorityLowerThanOrEquals"],
        sort_by=args["sortBy"],
        sort_order=args["sortOrder"],
        first_result=args["firstResult"],
        max_results=args["maxResults"],
    )


@blp.route("")
@blp.arguments(schemas.ExternalTaskQuery, location="query")
@blp.response(200, schemas.ExternalTask(many=True))
def list_external_tasks(args: dict):
    return engine().external_tasks.list(principal(), _query(args))


@blp.route("/count")
@blp.arguments(schemas.ExternalTaskQuery, location="query")
@blp.response(200, schemas.Count)
def count_external_tasks(args: dict):
    return {"count": engine().external_tasks.count(principal(), _query(args))}


@blp.route("/topic-names")
@blp.arguments(schemas.ExternalTaskTopicNamesQuery, location="query")
@blp.response(200, description="The topic names of the waiting external tasks")
def topic_names(args: dict):
    return engine().external_tasks.topic_names(
        principal(),
        with_locked_tasks=args["withLockedTasks"],
        with_unlocked_tasks=args["withUnlockedTasks"],
        with_retries_left=args["withRetriesLeft"],
    )


@blp.route("/<task_id>")
@blp.response(200, schemas.ExternalTask)
def get_external_task(task_id: str):
    return engine().external_tasks.get(principal(), task_id)


@blp.route("/<task_id>/errorDetails")
@blp.response(200, description="The error details of the task's latest failure, as text")
def error_details(task_id: str):
    return Response(engine().external_tasks.get(principal(), task_id)["error_details"] or "", mimetype="text/plain")


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(schemas.CompleteExternalTask)
@blp.response(204)
def complete(args: dict, task_id: str):
    """Complete a task the worker holds: variables go to the process, localVariables to output parameters."""
    engine().external_tasks.complete(
        principal(),
        task_id,
        args["workerId"],
        typed_variables(args.get("variables")),
        typed_variables(args.get("localVariables")),
    )


@blp.route("/<task_id>/failure", methods=["POST"])
@blp.arguments(schemas.ExternalTaskFailure)
@blp.response(204)
def failure(args: dict, task_id: str):
    """Report a failed attempt: fetchable again after retryTimeout ms, or an incident when retries is 0."""
    engine().external_tasks.failure(
        principal(),
        task_id,
        args["workerId"],
        error_message=args.get("errorMessage"),
        error_details=args.get("errorDetails"),
        retries=args.get("retries") or 0,
        retry_timeout_ms=args.get("retryTimeout") or 0,
    )


@blp.route("/<task_id>/bpmnError", methods=["POST"])
@blp.arguments(schemas.ExternalTaskBpmnError)
@blp.response(204)
def bpmn_error(args: dict, task_id: str):
    """Report a business error: the task's boundary error event for errorCode takes over; 400 if none catches."""
    engine().external_tasks.handle_bpmn_error(
        principal(),
        task_id,
        args["workerId"],
        args["errorCode"],
        args.get("errorMessage"),
        typed_variables(args.get("variables")),
    )


@blp.route("/<task_id>/extendLock", methods=["POST"])
@blp.arguments(schemas.ExtendLock)
@blp.response(204)
def extend_lock(args: dict, task_id: str):
    engine().external_tasks.extend_lock(principal(), task_id, args["workerId"], args["newDuration"])


@blp.route("/<task_id>/unlock", methods=["POST"])
@blp.response(204)
def unlock(task_id: str):
    engine().external_tasks.unlock(principal(), task_id)


@blp.route("/<task_id>/retries", methods=["PUT"])
@blp.arguments(schemas.ExternalTaskRetries)
@blp.response(204)
def set_retries(args: dict, task_id: str):
    """Give a task retries again (admin): its incident is resolved and workers may fetch it."""
    engine().external_tasks.set_retries(principal(), task_id, args["retries"])
