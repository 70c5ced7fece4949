"""Loading an instance's workflow and storing a step's effects, in the caller's transaction.

Every step writes the instance row (checked against the version it was read at), the open task
rows and the history events together, so state and effects never disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import bindparam, delete, select, update

from engine import runtime
from engine.errors import Conflict, NotFound
from engine.runtime import CONNECTOR, EXTERNAL, MESSAGE, TIMER, HistoryEntry, Step, Wait
from engine.serialization import STATE_FORMAT, Serializer
from engine.services import history
from engine.services.definitions import SpecCache
from engine.services.job_signal import JobSignal
from engine.storage.database import UnitOfWork
from engine.storage.tables import (
    event_subscription,
    external_task,
    incident,
    job,
    process_instance,
    task,
    task_candidate,
)

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
_DELETE_JOBS = delete(job).where(job.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_INCIDENTS = delete(incident).where(incident.c.configuration.in_(bindparam("ids", expanding=True)))
_DELETE_EXTERNAL_TASKS = delete(external_task).where(external_task.c.id.in_(bindparam("ids", expanding=True)))
_DELETE_SUBSCRIPTIONS = delete(event_subscription).where(event_subscription.c.id.in_(bindparam("ids", expanding=True)))
_RESCHEDULE_JOB = (
    update(job)
    .where(job.c.id == bindparam("job_id"))
    .values(
        due=bindparam("due"),
        retries=bindparam("retries"),
        lock_owner=None,
        lock_expires=None,
        exception_message=None,
        exception_stacktrace=None,
    )
)
#: Where each kind of wait is kept; its rows' ids are the waiting SpiffWorkflow task's id.
_WAIT_TABLES = {TIMER: job, CONNECTOR: job, EXTERNAL: external_task, MESSAGE: event_subscription}
DEFAULT_JOB_RETRIES = 3

ACTIVE = "ACTIVE"
COMPLETED = "COMPLETED"
EXTERNALLY_TERMINATED = "EXTERNALLY_TERMINATED"


@dataclass
class LoadedInstance:
    row: dict[str, Any]
    workflow: BpmnWorkflow
    #: Ids of the open user tasks when loaded: exactly the instance's task rows.
    task_ids: frozenset[str] = frozenset()
    #: What the instance waited for when loaded: exactly its job, external task and subscription rows.
    waits: dict[str, Wait] = field(default_factory=dict)

    @property
    def context(self) -> history.InstanceContext:
        return history.InstanceContext(
            self.row["id"], self.row["definition_id"], self.row["definition_key"], self.row["business_key"]
        )


class InstanceStore:
    def __init__(
        self,
        serializer: Serializer,
        specs: SpecCache,
        *,
        job_retries: int = DEFAULT_JOB_RETRIES,
        signal: JobSignal | None = None,
    ) -> None:
        self.serializer = serializer
        self.specs = specs
        self.job_retries = job_retries
        #: Hears the earliest due time after a commit that scheduled jobs: wakes the local scheduler.
        self.signal = signal
        #: Called after a commit that created external tasks: wakes this process's waiting fetches.
        self.on_external_tasks: Callable[[], None] | None = None
        #: Delivers the messages a step threw, in the same transaction; returns the sender's history entries.
        self.message_router: Callable[..., list[HistoryEntry]] | None = None

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
        return LoadedInstance(row, runtime.attach(workflow), open_ids, runtime.waits(workflow))

    def insert(
        self,
        uow: UnitOfWork,
        workflow: BpmnWorkflow,
        step: Step,
        *,
        definition_id: str,
        definition_key: str,
        business_key: str | None,
        start_user_id: str | None,
        now: datetime,
        user_id: str | None,
        started: HistoryEntry,
    ) -> dict[str, Any]:
        """Store a new instance after its first step; its row (with a new id)."""
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "definition_id": definition_id,
            "definition_key": definition_key,
            "business_key": business_key,
            "start_user_id": start_user_id,
        }
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
        self._sync_waits(uow, loaded, now)
        entries = [started, *step.history, *self._route(uow, loaded, step, now, user_id)]
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
        self._sync_waits(uow, loaded, now)
        entries = [*extra_history, *step.history, *self._route(uow, loaded, step, now, user_id)]
        if state == COMPLETED:
            entries.append(HistoryEntry("instance_completed"))
        elif state == EXTERNALLY_TERMINATED:
            entries.append(HistoryEntry("instance_cancelled", data={"reason": delete_reason}))
        history.append(uow, loaded.context, entries, timestamp=now, user_id=user_id)

    def _route(
        self, uow: UnitOfWork, loaded: LoadedInstance, step: Step, now: datetime, user_id: str | None
    ) -> list[HistoryEntry]:
        if not step.thrown:
            return []
        if self.message_router is None:
            raise runtime.ProcessError(
                f"message '{step.thrown[0].name}' was thrown but this engine delivers no messages",
                step.thrown[0].activity_id,
            )
        return self.message_router(uow, loaded, step.thrown, now, user_id)

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
            info = runtime.user_task_row(spiff_task, now)
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
                    "subject": info.subject,
                    "search_text": runtime.search_text(loaded.row["business_key"], info.subject),
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

    def _sync_waits(self, uow: UnitOfWork, loaded: LoadedInstance, now: datetime) -> None:
        """Make the job, external task and subscription rows match what the workflow now waits for."""
        before = loaded.waits
        after = runtime.waits(loaded.workflow)
        loaded.waits = after
        if not before and not after:
            return
        removed = [wait for key, wait in before.items() if key not in after]
        if removed:
            ids = {table: [] for table in (job, external_task, event_subscription)}
            for wait in removed:
                ids[_WAIT_TABLES[wait.kind]].append(wait.key)
            for table, statement in ((job, _DELETE_JOBS), (external_task, _DELETE_EXTERNAL_TASKS)):
                if ids[table]:
                    # A wait that ended takes its open incident with it.
                    uow.execute(_DELETE_INCIDENTS, {"ids": ids[table]})
                    uow.execute(statement, {"ids": ids[table]})
            if ids[event_subscription]:
                uow.execute(_DELETE_SUBSCRIPTIONS, {"ids": ids[event_subscription]})
        row = loaded.row
        common = {
            "instance_id": row["id"],
            "definition_id": row["definition_id"],
            "definition_key": row["definition_key"],
            "created": now,
        }
        new_jobs, new_external, new_subscriptions, earliest = [], [], [], None
        # Each row's id is its wait's key: the waiting task's id (one row per task and table), or for the
        # several messages of an event-based gateway, an id per message.
        for key, wait in after.items():
            old = before.get(key)
            if old == wait:
                continue
            if old is not None:
                if wait.kind == TIMER:  # a cycle's next repetition
                    uow.execute(_RESCHEDULE_JOB, {"job_id": key, "due": wait.due, "retries": self.job_retries})
                    earliest = min(earliest or wait.due, wait.due)
                continue
            if wait.kind in (TIMER, CONNECTOR):
                due = wait.due if wait.kind == TIMER else now
                new_jobs.append(
                    {
                        **common,
                        "id": key,
                        "kind": wait.kind,
                        "activity_id": wait.activity_id,
                        "task_id": wait.task_id,
                        "due": due,
                        "retries": self.job_retries,
                        "configuration": None,
                    }
                )
                earliest = min(earliest or due, due)
            elif wait.kind == EXTERNAL:
                new_external.append(
                    {
                        **common,
                        "id": key,
                        "topic": wait.name,
                        "activity_id": wait.activity_id,
                        "business_key": row["business_key"],
                        "priority": wait.priority,
                    }
                )
            elif wait.kind == MESSAGE:
                new_subscriptions.append(
                    {
                        **common,
                        "id": key,
                        "event_type": MESSAGE,
                        "event_name": wait.name,
                        "activity_id": wait.activity_id,
                        "task_id": wait.task_id,
                        "business_key": row["business_key"],
                    }
                )
        if new_jobs:
            uow.execute(job.insert(), new_jobs)
        if new_external:
            uow.execute(external_task.insert(), new_external)
            if self.on_external_tasks is not None:
                uow.after_commit.append(self.on_external_tasks)
        if new_subscriptions:
            uow.execute(event_subscription.insert(), new_subscriptions)
        if earliest is not None and self.signal is not None:
            signal = self.signal
            uow.after_commit.append(lambda: signal.notify(earliest))
