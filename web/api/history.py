"""History: ``/engine-rest/history``, read from the append-only event table."""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.errors import Forbidden, NotFound
from web import schemas
from web.api import PREFIX, engine, page
from web.auth import principal

blp = Blueprint("history", __name__, url_prefix=f"{PREFIX}/history", description="History")


def _millis(start, end) -> int | None:  # noqa: ANN001
    return int((end - start).total_seconds() * 1000) if start and end else None


def _historic_instance(item: dict, definitions: dict[str, dict]) -> dict:
    start, end = item["start"], item["end"]
    state = "ACTIVE"
    if end is not None:
        state = "COMPLETED" if end["event_type"] == "instance_completed" else "EXTERNALLY_TERMINATED"
    definition = definitions.get(start["definition_id"], {})
    return {
        "id": start["instance_id"],
        "businessKey": start["business_key"],
        "processDefinitionId": start["definition_id"],
        "processDefinitionKey": start["definition_key"],
        "processDefinitionName": definition.get("name"),
        "processDefinitionVersion": definition.get("version"),
        "startTime": start["timestamp"],
        "endTime": end["timestamp"] if end else None,
        "durationInMillis": _millis(start["timestamp"], end["timestamp"] if end else None),
        "startUserId": start["user_id"],
        "startActivityId": None,
        "deleteReason": (end.get("data") or {}).get("reason") if end else None,
        "rootProcessInstanceId": start["instance_id"],
        "state": state,
    }


def _definitions_of(items: list[dict]) -> dict[str, dict]:
    """The definitions of historic instances, each read once."""
    ids = {i["start"]["definition_id"] for i in items}
    return {d: engine().definitions.get(d) for d in ids}


def _may_read(instance_id: str) -> None:
    # History is as visible as the instance itself; the instance service decides.
    engine().instances.get(principal(), instance_id)


def _instances(args: dict, paged: bool) -> list[dict]:
    finished = True if args.get("finished") else False if args.get("unfinished") else None
    items = engine().history.process_instances(
        instance_id=args["processInstanceId"],
        definition_key=args["processDefinitionKey"],
        definition_id=args["processDefinitionId"],
        business_key=args["processInstanceBusinessKey"],
        finished=finished,
        **(page(args) if paged else {}),
    )
    if not principal().is_admin:
        visible = (
            {
                r["id"]
                for r in engine().instances.list(principal(), instance_ids=[i["start"]["instance_id"] for i in items])
            }
            if items
            else set()
        )
        items = [i for i in items if i["start"]["instance_id"] in visible]
    return items


@blp.route("/process-instance")
@blp.arguments(schemas.HistoricProcessInstanceQuery, location="query")
@blp.response(200, schemas.HistoricProcessInstance(many=True))
def historic_instances(args: dict):
    items = _instances(args, paged=True)
    return [_historic_instance(i, _definitions_of(items)) for i in items]


@blp.route("/process-instance/count")
@blp.arguments(schemas.HistoricProcessInstanceQuery, location="query")
@blp.response(200, schemas.Count)
def count_historic_instances(args: dict):
    return {"count": len(_instances(args, paged=False))}


@blp.route("/process-instance/<instance_id>")
@blp.response(200, schemas.HistoricProcessInstance)
def historic_instance(instance_id: str):
    _may_read(instance_id)
    items = engine().history.process_instances(instance_id=instance_id)
    if not items:
        raise NotFound(f"No historic process instance with id '{instance_id}'")
    return _historic_instance(items[0], _definitions_of(items))


def _historic_activity(item: dict) -> dict:
    start, end = item["start"], item["end"]
    return {
        "id": f"{start['activity_id']}:{start['activity_instance_id']}",
        "parentActivityInstanceId": start["instance_id"],
        "activityId": start["activity_id"],
        "activityName": start["activity_name"],
        "activityType": start["activity_type"],
        "processDefinitionKey": start["definition_key"],
        "processDefinitionId": start["definition_id"],
        "processInstanceId": start["instance_id"],
        "executionId": start["instance_id"],
        "taskId": start["activity_instance_id"] if start["activity_type"] == "userTask" else None,
        "assignee": item["assignee"],
        "startTime": start["timestamp"],
        "endTime": end["timestamp"] if end else None,
        "durationInMillis": _millis(start["timestamp"], end["timestamp"] if end else None),
        "canceled": bool(end and end["event_type"] == "activity_cancelled"),
        "completeScope": bool(end and start["activity_type"] == "endEvent"),
        "rootProcessInstanceId": start["instance_id"],
    }


@blp.route("/activity-instance")
@blp.arguments(schemas.HistoricActivityInstanceQuery, location="query")
@blp.response(200, schemas.HistoricActivityInstance(many=True))
def historic_activities(args: dict):
    instance_id = args["processInstanceId"]
    if instance_id:
        _may_read(instance_id)
    elif not principal().is_admin:
        raise Forbidden("Reading activity history across instances needs the 'admin' group; give processInstanceId")
    items = engine().history.activity_instances(
        instance_id=instance_id, activity_id=args["activityId"], activity_type=args["activityType"]
    )
    if args.get("finished"):
        items = [i for i in items if i["end"] is not None]
    if args.get("unfinished"):
        items = [i for i in items if i["end"] is None]
    first = args.get("firstResult") or 0
    last = first + args["maxResults"] if args.get("maxResults") is not None else None
    return [_historic_activity(i) for i in items[first:last]]
