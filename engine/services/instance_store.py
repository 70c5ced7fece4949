"""Loading an instance's workflow and storing a step's effects, in the caller's transaction.

Every step writes the instance row (checked against the version it was read at), the open task
rows and the history events together, so state and effects never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import bindparam, delete, select, update

from engine import runtime
from engine.errors import Conflict, NotFound
from engine.runtime import HistoryEntry, Step
from engine.serialization import STATE_FORMAT, Serializer
from engine.services import history
from engine.services.definitions import SpecCache
from engine.storage.database import UnitOfWork
from engine.storage.tables import process_instance, task, task_candidate

# The statements of every step, built once: building and cache-keying them per call is a
# measurable share of a request.
_SELECT_INSTANCE = select(process_instance).where(process_instance.c.id == bindparam("instance_id"))
_UPDATE_INSTANCE = (
    update(process_instance)
    .where(process_instance.c.id == bindparam("instance_id"), process_instance.c.version == bindparam("read_version"))
    .values(
        version=bindparam("version"),
        state=bindparam("state"),
        state_format=bindparam("state_format"),
        workflow_state=bindparam("workflow_state"),
        end_time=bindparam("end_time"),
        delete_reason=bindparam("delete_reason"),
    )
)
_DELETE_TASKS = delete(task).where(task.c.id.in_(bindparam("task_ids", expanding=True)))
_INSERT_TASK = task.insert()
_INSERT_CANDIDATE = task_candidate.insert()

ACTIVE = "ACTIVE"
COMPLETED = "COMPLETED"
EXTERNALLY_TERMINATED = "EXTERNALLY_TERMINATED"


@dataclass
class LoadedInstance:
    row: dict[str, Any]
    workflow: BpmnWorkflow
    #: Ids of the open user tasks when loaded: exactly the instance's task rows.
    task_ids: frozenset[str] = frozenset()

    @property
    def context(self) -> history.InstanceContext:
        return history.InstanceContext(
            self.row["id"], self.row["definition_id"], self.row["definition_key"], self.row["business_key"]
        )


class InstanceStore:
    def __init__(self, serializer: Serializer, specs: SpecCache) -> None:
        self.serializer = serializer
        self.specs = specs

    def row(self, uow: UnitOfWork, instance_id: str) -> dict[str, Any]:
        row = uow.execute(_SELECT_INSTANCE, {"instance_id": instance_id}).first()
        if row is None:
            raise NotFound(f"No process instance with id '{instance_id}'")
        return dict(row._mapping)

    def load(self, uow: UnitOfWork, instance_id: str) -> LoadedInstance:
        row = self.row(uow, instance_id)
        spec, subprocess_specs = self.specs.get(uow, row["definition_id"])
        workflow = self.serializer.state_from_json(row["workflow_state"], row["state_format"], spec, subprocess_specs)
        open_ids = frozenset(str(t.id) for t in runtime.open_user_tasks(workflow))
        return LoadedInstance(row, runtime.attach(workflow), open_ids)

    def insert(
        self,
        uow: UnitOfWork,
        row: dict[str, Any],
        workflow: BpmnWorkflow,
        step: Step,
        *,
        now: datetime,
        user_id: str | None,
        started: HistoryEntry,
    ) -> dict[str, Any]:
        row = dict(row)
        row.update(
            version=1,
            state=COMPLETED if step.completed else ACTIVE,
            state_format=STATE_FORMAT,
            workflow_state=self.serializer.state_to_json(workflow),
            start_time=now,
            end_time=now if step.completed else None,
        )
        uow.execute(process_instance.insert(), row)
        loaded = LoadedInstance(row, workflow)
        self._sync_tasks(uow, loaded, step, now)
        entries = [started, *step.history]
        if step.completed:
            entries.append(HistoryEntry("instance_completed"))
        history.append(uow, loaded.context, entries, timestamp=now, user_id=user_id)
        return row

    def save(
        self,
        uow: UnitOfWork,
        loaded: LoadedInstance,
        step: Step,
        *,
        now: datetime,
        user_id: str | None,
        extra_history: list[HistoryEntry] = (),
        final_state: str | None = None,
        delete_reason: str | None = None,
    ) -> None:
        """Store the workflow after ``step``; raise Conflict if the row changed since it was read."""
        row = loaded.row
        state = final_state or (COMPLETED if step.completed else ACTIVE)
        values: dict[str, Any] = {
            "version": row["version"] + 1,
            "state": state,
            "state_format": STATE_FORMAT,
            "workflow_state": self.serializer.state_to_json(loaded.workflow),
            "end_time": now if state != ACTIVE else row["end_time"],
            "delete_reason": delete_reason if delete_reason is not None else row["delete_reason"],
        }
        result = uow.execute(_UPDATE_INSTANCE, {"instance_id": row["id"], "read_version": row["version"], **values})
        if result.rowcount != 1:
            raise Conflict(
                f"Process instance '{row['id']}' was changed by someone else meanwhile (version {row['version']} "
                "is stale); reload and try again"
            )
        row.update(values)
        self._sync_tasks(uow, loaded, step, now)
        entries = [*extra_history, *step.history]
        if state == COMPLETED:
            entries.append(HistoryEntry("instance_completed"))
        elif state == EXTERNALLY_TERMINATED:
            entries.append(HistoryEntry("instance_cancelled", data={"reason": delete_reason}))
        history.append(uow, loaded.context, entries, timestamp=now, user_id=user_id)

    def _sync_tasks(self, uow: UnitOfWork, loaded: LoadedInstance, step: Step, now: datetime) -> None:
        """Make the task rows match the open user tasks: drop closed ones, add new ones."""
        instance_id = loaded.row["id"]
        existing = loaded.task_ids
        open_rows = {str(t.id): t for t in step.user_tasks}
        closed = existing - open_rows.keys()
        if closed:
            # task_candidate rows go with their task (ON DELETE CASCADE).
            uow.execute(_DELETE_TASKS, {"task_ids": sorted(closed)})
        new_rows, candidates = [], []
        for task_id, spiff_task in open_rows.items():
            if task_id in existing:
                continue
            info = runtime.user_task_row(spiff_task)
            new_rows.append(
                {
                    "id": task_id,
                    "instance_id": instance_id,
                    "definition_id": loaded.row["definition_id"],
                    "definition_key": loaded.row["definition_key"],
                    "business_key": loaded.row["business_key"],
                    "task_definition_key": info.task_definition_key,
                    "name": info.name,
                    "description": info.description,
                    "assignee": info.assignee,
                    "created": now,
                    "due": info.due,
                    "follow_up": None,
                    "priority": info.priority,
                    "form_key": info.form_key,
                    "form_ref": info.form_ref,
                }
            )
            candidates += [{"task_id": task_id, "kind": "group", "identity": g} for g in info.candidate_groups]
            candidates += [{"task_id": task_id, "kind": "user", "identity": u} for u in info.candidate_users]
            step.history.append(
                HistoryEntry(
                    "task_created",
                    activity_id=info.task_definition_key,
                    activity_name=info.name,
                    activity_type="userTask",
                    activity_instance_id=task_id,
                    data={
                        "assignee": info.assignee,
                        "candidateGroups": list(info.candidate_groups),
                        "candidateUsers": list(info.candidate_users),
                    },
                )
            )
        if new_rows:
            uow.execute(_INSERT_TASK, new_rows)
        if candidates:
            uow.execute(_INSERT_CANDIDATE, candidates)
