"""Starting, reading and cancelling process instances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, exists, func, or_, select

from engine import runtime
from engine.clock import Clock
from engine.errors import BadRequest, Forbidden, NotFound
from engine.identity import Principal
from engine.runtime import HistoryEntry
from engine.serialization import Serializer
from engine.services.definitions import definition_by_id, latest_definition
from engine.services.instance_store import ACTIVE, EXTERNALLY_TERMINATED, InstanceStore
from engine.storage.database import Database
from engine.storage.tables import history_event, process_instance, task, task_candidate

_SUMMARY_COLUMNS = [c for c in process_instance.c if c.name != "workflow_state"]


def may_start(principal: Principal, definition: dict[str, Any]) -> bool:
    groups = definition.get("starter_groups") or []
    users = definition.get("starter_users") or []
    if principal.is_admin or (not groups and not users):
        return True
    return principal.user_id in users or bool(principal.groups.intersection(groups))


# Visibility conditions, built once with the viewer as parameters (``visibility_params``): list
# queries run on every inbox refresh, and building these per call costs more than running them.
TASK_VISIBLE = or_(
    task.c.assignee == bindparam("viewer"),
    exists().where(
        task_candidate.c.task_id == task.c.id,
        or_(
            (task_candidate.c.kind == "user") & (task_candidate.c.identity == bindparam("viewer")),
            (task_candidate.c.kind == "group")
            & task_candidate.c.identity.in_(bindparam("viewer_groups", expanding=True)),
        ),
    ),
)
"""SQL condition: the task row is the viewer's or one of their groups'."""

INSTANCE_VISIBLE = or_(
    process_instance.c.start_user_id == bindparam("viewer"),
    exists().where(task.c.instance_id == process_instance.c.id, TASK_VISIBLE),
    exists().where(
        history_event.c.instance_id == process_instance.c.id, history_event.c.user_id == bindparam("viewer")
    ),
)
"""SQL condition: the viewer started the instance, acted in it, or has a task in it."""


def visibility_params(principal: Principal) -> dict[str, Any]:
    return {"viewer": principal.user_id, "viewer_groups": sorted(principal.groups)}


class InstanceService:
    def __init__(self, db: Database, store: InstanceStore, serializer: Serializer, clock: Clock) -> None:
        self.db = db
        self.store = store
        self.serializer = serializer
        self.clock = clock

    def start(
        self,
        principal: Principal,
        *,
        key: str | None = None,
        definition_id: str | None = None,
        variables: dict[str, Any] | None = None,
        business_key: str | None = None,
    ) -> dict[str, Any]:
        """Start an instance of the latest version of ``key`` (or of ``definition_id``)."""
        if definition_id:
            definition = definition_by_id(self.db, definition_id)
        elif key:
            definition = latest_definition(self.db, key)
        else:
            raise BadRequest("Give a process definition key or id to start")
        if definition.get("suspended"):
            raise BadRequest(f"Process definition '{definition['id']}' is suspended")
        if not may_start(principal, definition):
            raise Forbidden(f"User '{principal.user_id}' may not start process '{definition['key']}'")
        if business_key is not None and len(business_key) > 255:
            raise BadRequest("businessKey is longer than 255 characters")
        variables = variables or {}
        now = self.clock.now()
        with self.db.transaction() as uow:
            spec, subprocess_specs = self.store.specs.get(uow, definition["id"])
            if not runtime.has_plain_start_event(spec):
                raise BadRequest(
                    f"Process '{definition['key']}' has no plain start event: it starts by its timer or by a "
                    "message (POST /message), not by POST .../start"
                )
            workflow = runtime.new_workflow(spec, subprocess_specs)
            step = runtime.start(workflow, variables, now)
            row = self.store.insert(
                uow,
                workflow,
                step,
                definition_id=definition["id"],
                definition_key=definition["key"],
                business_key=business_key,
                start_user_id=principal.user_id,
                now=now,
                user_id=principal.user_id,
                started=HistoryEntry(
                    "instance_started", data={"variables": self.serializer.data_to_json_compatible(variables)}
                ),
            )
        row.pop("workflow_state", None)
        return row

    def list(
        self,
        principal: Principal,
        *,
        definition_key: str | None = None,
        definition_id: str | None = None,
        business_key: str | None = None,
        instance_ids: list[str] | None = None,
        active: bool | None = None,
        completed: bool | None = None,
        first_result: int = 0,
        max_results: int | None = None,
        count_only: bool = False,
    ) -> list[dict[str, Any]] | int:
        pi = process_instance
        query = select(*_SUMMARY_COLUMNS)
        conditions = []
        if definition_key:
            conditions.append(pi.c.definition_key == definition_key)
        if definition_id:
            conditions.append(pi.c.definition_id == definition_id)
        if business_key:
            conditions.append(pi.c.business_key == business_key)
        if instance_ids:
            conditions.append(pi.c.id.in_(instance_ids))
        if active:
            conditions.append(pi.c.state == ACTIVE)
        if completed:
            conditions.append(pi.c.state != ACTIVE)
        if not principal.is_admin:
            conditions.append(INSTANCE_VISIBLE)
        params = visibility_params(principal)
        if count_only:
            with self.db.transaction(write=False) as uow:
                return uow.execute(select(func.count()).select_from(pi).where(*conditions), params).scalar_one()
        query = query.where(*conditions).order_by(pi.c.start_time, pi.c.id).offset(first_result)
        if max_results is not None:
            query = query.limit(max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query, params)]

    def next_business_key(self, prefix: str) -> str:
        """A request number not yet used, ``<prefix>-0001`` upwards (e.g. ``PIE-2026-0042``): a
        suggestion for the start page; the person starting may change it."""
        with self.db.transaction(write=False) as uow:
            used = set(
                uow.execute(
                    select(process_instance.c.business_key).where(process_instance.c.business_key.like(f"{prefix}-%"))
                ).scalars()
            )
        numbers = [int(key.rsplit("-", 1)[1]) for key in used if key.rsplit("-", 1)[1].isdigit()]
        return f"{prefix}-{max(numbers, default=0) + 1:04d}"

    def get(self, principal: Principal, instance_id: str) -> dict[str, Any]:
        with self.db.transaction(write=False) as uow:
            row = uow.execute(select(*_SUMMARY_COLUMNS).where(process_instance.c.id == instance_id)).first()
            if row is None:
                raise NotFound(f"No process instance with id '{instance_id}'")
            if not principal.is_admin:
                visible = uow.execute(
                    select(process_instance.c.id).where(process_instance.c.id == instance_id, INSTANCE_VISIBLE),
                    visibility_params(principal),
                ).first()
                if visible is None:
                    raise Forbidden(f"User '{principal.user_id}' may not read process instance '{instance_id}'")
        return dict(row._mapping)

    def variables(self, principal: Principal, instance_id: str) -> dict[str, Any]:
        self.get(principal, instance_id)
        with self.db.transaction(write=False) as uow:
            loaded = self.store.load(uow, instance_id)
        return runtime.process_variables(loaded.workflow)

    def set_variables(
        self, principal: Principal, instance_id: str, variables: dict[str, Any], *, deletions: list[str] = ()
    ) -> None:
        """Set and delete variables of a running instance (Camunda's variable modification), e.g. to fix a
        failed job."""
        if not principal.is_admin:
            raise Forbidden(f"User '{principal.user_id}' may not change process variables: that needs 'admin'")
        now = self.clock.now()
        with self.db.transaction() as uow:
            loaded = self.store.load(uow, instance_id)
            if loaded.row["state"] != ACTIVE:
                raise BadRequest(f"Process instance '{instance_id}' has ended ({loaded.row['state']})")
            runtime.set_variables(loaded.workflow, variables, deletions)
            step = runtime.Step(user_tasks=runtime.open_user_tasks(loaded.workflow))
            self.store.save(
                uow,
                loaded,
                step,
                now=now,
                user_id=principal.user_id,
                extra_history=[
                    HistoryEntry(
                        "variables_set",
                        data={
                            "variables": self.serializer.data_to_json_compatible(variables),
                            "deleted": list(deletions),
                        },
                    )
                ],
            )

    def cancel(self, principal: Principal, instance_id: str, reason: str | None = None) -> None:
        """Cancel a running instance (Camunda's DELETE), keeping its history."""
        now = self.clock.now()
        with self.db.transaction() as uow:
            loaded = self.store.load(uow, instance_id)
            if not (principal.is_admin or loaded.row["start_user_id"] == principal.user_id):
                raise Forbidden(f"User '{principal.user_id}' may not cancel process instance '{instance_id}'")
            if loaded.row["state"] != ACTIVE:
                raise BadRequest(f"Process instance '{instance_id}' has already ended ({loaded.row['state']})")
            step = runtime.cancel(loaded.workflow, now)
            step.user_tasks = []
            self.store.save(
                uow,
                loaded,
                step,
                now=now,
                user_id=principal.user_id,
                final_state=EXTERNALLY_TERMINATED,
                delete_reason=reason or "cancelled",
            )
