"""User tasks: the task list (from indexed rows, never from workflows), claim, unclaim, complete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update

from engine import runtime
from engine.clock import Clock
from engine.errors import BadRequest, Conflict, Forbidden, NotFound
from engine.identity import Principal
from engine.runtime import HistoryEntry
from engine.serialization import Serializer
from engine.services import history
from engine.services.definitions import DefinitionService
from engine.services.instance_store import InstanceStore
from engine.services.instances import TASK_VISIBLE, visibility_params
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import task, task_candidate

# Built once: these run on every claim and complete.
_SELECT_TASK_WITH_CANDIDATES = (
    select(task, task_candidate.c.kind, task_candidate.c.identity)
    .select_from(task.outerjoin(task_candidate, task_candidate.c.task_id == task.c.id))
    .where(task.c.id == bindparam("task_id"))
)
_CLAIM = (
    update(task)
    .where(task.c.id == bindparam("task_id"), task.c.assignee.is_(None))
    .values(assignee=bindparam("user_id"))
)

SORTABLE = {
    "id": task.c.id,
    "name": task.c.name,
    "assignee": task.c.assignee,
    "created": task.c.created,
    "dueDate": task.c.due,
    "followUpDate": task.c.follow_up,
    "priority": task.c.priority,
    "processInstanceId": task.c.instance_id,
    "processDefinitionKey": task.c.definition_key,
    "taskDefinitionKey": task.c.task_definition_key,
}


@dataclass
class TaskQuery:
    """Filters of Camunda's ``GET /task``."""

    process_instance_id: str | None = None
    process_definition_key: str | None = None
    process_definition_id: str | None = None
    business_key: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    assigned: bool = False
    candidate_group: str | None = None
    candidate_user: str | None = None
    name: str | None = None
    name_like: str | None = None
    task_definition_key: str | None = None
    task_id: str | None = None
    sort_by: str = "created"
    sort_order: str = "asc"
    first_result: int = 0
    max_results: int | None = None


class TaskService:
    def __init__(
        self, db: Database, store: InstanceStore, definitions: DefinitionService, serializer: Serializer, clock: Clock
    ) -> None:
        self.db = db
        self.store = store
        self.definitions = definitions
        self.serializer = serializer
        self.clock = clock

    # Reading -----------------------------------------------------------------------------------
    def _conditions(self, principal: Principal, q: TaskQuery) -> list:
        t = task
        conditions = []
        if q.task_id:
            conditions.append(t.c.id == q.task_id)
        if q.process_instance_id:
            conditions.append(t.c.instance_id == q.process_instance_id)
        if q.process_definition_key:
            conditions.append(t.c.definition_key == q.process_definition_key)
        if q.process_definition_id:
            conditions.append(t.c.definition_id == q.process_definition_id)
        if q.business_key:
            conditions.append(t.c.business_key == q.business_key)
        if q.assignee:
            conditions.append(t.c.assignee == q.assignee)
        if q.unassigned:
            conditions.append(t.c.assignee.is_(None))
        if q.assigned:
            conditions.append(t.c.assignee.is_not(None))
        if q.name:
            conditions.append(t.c.name == q.name)
        if q.name_like:
            conditions.append(t.c.name.like(q.name_like))
        if q.task_definition_key:
            conditions.append(t.c.task_definition_key == q.task_definition_key)
        if q.candidate_group:
            conditions.append(
                t.c.id.in_(
                    select(task_candidate.c.task_id).where(
                        task_candidate.c.kind == "group", task_candidate.c.identity == q.candidate_group
                    )
                )
            )
        if q.candidate_user:
            # Camunda: tasks the user may claim, directly or through a group; not yet assigned.
            from engine.services.users import groups_of_user_clause

            conditions.append(t.c.assignee.is_(None))
            conditions.append(
                t.c.id.in_(
                    select(task_candidate.c.task_id).where(
                        ((task_candidate.c.kind == "user") & (task_candidate.c.identity == q.candidate_user))
                        | (
                            (task_candidate.c.kind == "group")
                            & task_candidate.c.identity.in_(groups_of_user_clause(q.candidate_user))
                        )
                    )
                )
            )
        if not principal.is_admin:
            conditions.append(TASK_VISIBLE)
        return conditions

    def list(self, principal: Principal, q: TaskQuery) -> list[dict[str, Any]]:
        sort_column = SORTABLE.get(q.sort_by)
        if sort_column is None:
            raise BadRequest(f"Cannot sort by '{q.sort_by}'; use one of: {', '.join(sorted(SORTABLE))}")
        if q.sort_order not in ("asc", "desc"):
            raise BadRequest("sortOrder must be 'asc' or 'desc'")
        order = sort_column.asc() if q.sort_order == "asc" else sort_column.desc()
        query = select(task).where(*self._conditions(principal, q)).order_by(order, task.c.id).offset(q.first_result)
        if q.max_results is not None:
            query = query.limit(q.max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query, visibility_params(principal))]

    def count(self, principal: Principal, q: TaskQuery) -> int:
        with self.db.transaction(write=False) as uow:
            return uow.execute(
                select(func.count()).select_from(task).where(*self._conditions(principal, q)),
                visibility_params(principal),
            ).scalar_one()

    def get(self, principal: Principal, task_id: str) -> dict[str, Any]:
        with self.db.transaction(write=False) as uow:
            return self._visible_row(uow, principal, task_id)

    def candidates(self, task_id: str) -> dict[str, list[str]]:
        with self.db.transaction(write=False) as uow:
            pairs = self._row(uow, task_id)["candidates"]
        return {kind: sorted(i for k, i in pairs if k == kind) for kind in ("group", "user")}

    def _row(self, uow: UnitOfWork, task_id: str) -> dict[str, Any]:
        """The task row with its candidates, read in one statement so both come from one snapshot
        (a concurrent completion removes them together)."""
        rows = uow.execute(_SELECT_TASK_WITH_CANDIDATES, {"task_id": task_id}).all()
        if not rows:
            raise NotFound(f"No open task with id '{task_id}' (it may have been completed)")
        row = {k: v for k, v in rows[0]._mapping.items() if k not in ("kind", "identity")}
        row["candidates"] = {(r.kind, r.identity) for r in rows if r.kind is not None}
        return row

    @staticmethod
    def _is_candidate(principal: Principal, row: dict[str, Any]) -> bool:
        return ("user", principal.user_id) in row["candidates"] or any(
            ("group", group) in row["candidates"] for group in principal.groups
        )

    def _visible_row(self, uow: UnitOfWork, principal: Principal, task_id: str) -> dict[str, Any]:
        row = self._row(uow, task_id)
        if principal.is_admin or row["assignee"] == principal.user_id or self._is_candidate(principal, row):
            return row
        raise Forbidden(f"User '{principal.user_id}' may not see task '{task_id}': it is not for their groups")

    def task_data(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """Everything the task sees: its process data (what its form's conditions and defaults read)."""
        return self.row_and_data(principal, task_id)[1]

    def row_and_data(self, principal: Principal, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The task row and the task's process data, read together (a task page needs both)."""
        with self.db.transaction(write=False) as uow:
            row = self._visible_row(uow, principal, task_id)
            loaded = self.store.load(uow, row["instance_id"])
        data = runtime.find_task(loaded.workflow, task_id).data
        return row, {k: v for k, v in data.items() if not callable(v)}

    def form_variables(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """The task's data for its form: the form's fields, or all variables when it has none."""
        row, data = self.row_and_data(principal, task_id)
        keys = self.form_field_keys(row)
        if keys is None:
            return {k: v for k, v in data.items() if not callable(v)}
        return {k: data.get(k) for k in keys}

    def form_field_keys(self, row: dict[str, Any]) -> list[str] | None:
        form_id = row.get("form_ref") or _form_id_from_key(row.get("form_key"))
        if not form_id:
            return None
        form = self.definitions.form(form_id)
        if form is None:
            return None
        return list(_field_keys(form["schema"].get("components", [])))

    def form(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """Camunda's form reference of a task: ``camunda:formKey`` or ``camunda:formRef``."""
        row = self.get(principal, task_id)
        return form_reference(row.get("form_key"), row.get("form_ref"))

    def deployed_form(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """The form-js schema of the task's form (its latest deployed version)."""
        row = self.get(principal, task_id)
        form_id = row.get("form_ref") or _form_id_from_key(row.get("form_key"))
        form = self.definitions.form(form_id) if form_id else None
        if form is None:
            raise NotFound(f"Task '{task_id}' has no deployed form")
        return form["schema"]

    # Writing -----------------------------------------------------------------------------------
    def claim(self, principal: Principal, task_id: str, user_id: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            if user_id != principal.user_id and not principal.is_admin:
                raise Forbidden(f"User '{principal.user_id}' may claim tasks only for themselves")
            if not (principal.is_admin or self._is_candidate(principal, row) or row["assignee"] == principal.user_id):
                raise Forbidden(
                    f"User '{principal.user_id}' may not claim task '{task_id}': it is not for their groups"
                )
            if row["assignee"] == user_id:
                return
            if row["assignee"] is not None:
                raise Conflict(f"Task '{task_id}' is already claimed by '{row['assignee']}'")
            result = uow.execute(_CLAIM, {"task_id": task_id, "user_id": user_id})
            if result.rowcount != 1:
                raise Conflict(f"Task '{task_id}' was claimed by someone else meanwhile")
            self._task_event(uow, row, "task_claimed", now, user_id)

    def unclaim(self, principal: Principal, task_id: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            if row["assignee"] is None:
                return
            if not (principal.is_admin or row["assignee"] == principal.user_id):
                raise Forbidden(
                    f"Task '{task_id}' is claimed by '{row['assignee']}'; only they or an admin may unclaim"
                )
            uow.execute(update(task).where(task.c.id == task_id).values(assignee=None))
            self._task_event(uow, row, "task_unclaimed", now, principal.user_id, {"previousAssignee": row["assignee"]})

    def complete(
        self, principal: Principal, task_id: str, variables: dict[str, Any], *, with_variables: bool = False
    ) -> dict[str, Any] | None:
        """Complete a task with variables; run the instance on and store it, or change nothing.

        Returns the instance's variables afterwards when ``with_variables`` is set.
        """
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._visible_row(uow, principal, task_id)
            if row["assignee"] not in (None, principal.user_id) and not principal.is_admin:
                raise Forbidden(f"Task '{task_id}' is claimed by '{row['assignee']}'; only they may complete it")
            loaded = self.store.load(uow, row["instance_id"])
            step = runtime.complete_user_task(loaded.workflow, task_id, variables, now)
            completed = HistoryEntry(
                "task_completed",
                activity_id=row["task_definition_key"],
                activity_name=row["name"],
                activity_type="userTask",
                activity_instance_id=task_id,
                data={"variables": self.serializer.data_to_json_compatible(variables)},
            )
            self.store.save(uow, loaded, step, now=now, user_id=principal.user_id, extra_history=[completed])
        return runtime.process_variables(loaded.workflow) if with_variables else None

    def _task_event(
        self,
        uow: UnitOfWork,
        row: dict[str, Any],
        event_type: str,
        now,
        user_id: str,  # noqa: ANN001
        data: dict | None = None,
    ) -> None:
        history.append(
            uow,
            history.InstanceContext(
                row["instance_id"], row["definition_id"], row["definition_key"], row["business_key"]
            ),
            [
                HistoryEntry(
                    event_type,
                    activity_id=row["task_definition_key"],
                    activity_name=row["name"],
                    activity_type="userTask",
                    activity_instance_id=row["id"],
                    data=data,
                )
            ],
            timestamp=now,
            user_id=user_id,
        )


def _form_id_from_key(form_key: str | None) -> str | None:
    if not form_key:
        return None
    if ":" in form_key:
        # camunda-forms:deployment: keys became form_ref at deployment; embedded:/app: forms live elsewhere
        return None
    return form_key


def _field_keys(components: list[dict[str, Any]]):  # noqa: ANN202
    for component in components:
        if isinstance(component, dict):
            if component.get("key"):
                yield component["key"]
            yield from _field_keys(component.get("components", []) or [])


def form_reference(form_key: str | None, form_ref: str | None) -> dict[str, Any]:
    """Camunda's ``{"key", "camundaFormRef", "contextPath"}`` for a form key or a Camunda Forms reference."""
    return {
        "key": form_key,
        "camundaFormRef": {"key": form_ref, "binding": "latest", "version": None} if form_ref else None,
        "contextPath": None,
    }
