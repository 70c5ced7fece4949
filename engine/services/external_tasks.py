"""External tasks: workers outside Plūsma fetch, lock and complete the work of external service tasks.

Camunda 7's external task pattern. A service task with ``camunda:type="external"`` waits (SpiffWorkflow's
STARTED state) and the instance store keeps one ``external_task`` row per waiting task. A worker calls
``fetch_and_lock``: one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``
locks free rows to it, so workers in several Plūsma processes on one PostgreSQL never get the same task
(SQLite serializes writers anyway). Completing advances the instance in one transaction with its history;
the instance's version check makes a second, concurrent completion fail.

Who may do this: workers authenticate like any user and need the group ``admin`` or ``external-worker``
(:data:`EXTERNAL_WORKER_GROUP`); giving a task retries again (resolving its incident) is for ``admin``.

Long polling (``asyncResponseTimeout``): a fetch that finds nothing waits on a condition, woken by
:meth:`ExternalTaskService.notify_available` after a commit in this process that creates external tasks (the
instance store calls it) or frees a locked one (unlock, a failure to retry at once, new retries), and
re-reads the table every ``poll_interval`` seconds for tasks that other processes create.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update

from engine import runtime
from engine.clock import Clock, stored_utc
from engine.errors import BadRequest, Conflict, Forbidden, NotFound, PlusmaError
from engine.identity import EXTERNAL_WORKER_GROUP, Principal
from engine.runtime import HistoryEntry, Step
from engine.serialization import Serializer
from engine.services import history
from engine.services.incidents import FAILED_EXTERNAL_TASK, MESSAGE_LIMIT, open_incident, resolve_incident
from engine.services.instance_store import InstanceStore
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import external_task
from engine.variables import variables_to_typed

log = logging.getLogger(__name__)

#: Camunda's limit for ``asyncResponseTimeout``: longer requests are refused.
MAX_ASYNC_RESPONSE_TIMEOUT_MS = 1_800_000
#: How long one fetch actually waits at most: a waiting fetch holds a server thread.
DEFAULT_MAX_LONG_POLL = timedelta(seconds=60)
#: How often a waiting fetch re-reads the table for tasks other processes created.
DEFAULT_POLL_INTERVAL = 0.5
MAX_TASKS_PER_FETCH = 1000
_DETAILS_LIMIT = 64_000

SORTABLE = {
    "id": external_task.c.id,
    "lockExpirationTime": external_task.c.lock_expires,
    "processInstanceId": external_task.c.instance_id,
    "processDefinitionId": external_task.c.definition_id,
    "processDefinitionKey": external_task.c.definition_key,
    "taskPriority": external_task.c.priority,
    "createTime": external_task.c.created,
}


@dataclass(frozen=True)
class FetchTopic:
    """One entry of fetchAndLock's ``topics``: which tasks, how long to lock them, which variables to send."""

    topic_name: str
    lock_duration_ms: int
    #: Names of the variables to return; None: all of them.
    variables: Sequence[str] | None = None
    #: Only the task's local variables (its input parameters).
    local_variables: bool = False
    business_key: str | None = None
    process_definition_id: str | None = None
    process_definition_id_in: Sequence[str] = ()
    process_definition_key: str | None = None
    process_definition_key_in: Sequence[str] = ()

    def condition(self) -> ColumnElement[bool]:
        c = external_task.c
        parts = [c.topic == self.topic_name]
        if self.business_key is not None:
            parts.append(c.business_key == self.business_key)
        if self.process_definition_id is not None:
            parts.append(c.definition_id == self.process_definition_id)
        if self.process_definition_id_in:
            parts.append(c.definition_id.in_(list(self.process_definition_id_in)))
        if self.process_definition_key is not None:
            parts.append(c.definition_key == self.process_definition_key)
        if self.process_definition_key_in:
            parts.append(c.definition_key.in_(list(self.process_definition_key_in)))
        return and_(*parts)

    def matches(self, row: Mapping[str, Any]) -> bool:
        """The same test as :meth:`condition`, on a fetched row."""
        return (
            row["topic"] == self.topic_name
            and (self.business_key is None or row["business_key"] == self.business_key)
            and (self.process_definition_id is None or row["definition_id"] == self.process_definition_id)
            and (not self.process_definition_id_in or row["definition_id"] in self.process_definition_id_in)
            and (self.process_definition_key is None or row["definition_key"] == self.process_definition_key)
            and (not self.process_definition_key_in or row["definition_key"] in self.process_definition_key_in)
        )


@dataclass
class ExternalTaskQuery:
    """Filters of Camunda's ``GET /external-task``."""

    external_task_id: str | None = None
    topic_name: str | None = None
    worker_id: str | None = None
    locked: bool = False
    not_locked: bool = False
    with_retries_left: bool = False
    no_retries_left: bool = False
    process_instance_id: str | None = None
    process_definition_id: str | None = None
    process_definition_key: str | None = None
    activity_id: str | None = None
    priority_higher_than_or_equals: int | None = None
    priority_lower_than_or_equals: int | None = None
    sort_by: str = "createTime"
    sort_order: str = "asc"
    first_result: int = 0
    max_results: int | None = None


def may_work(principal: Principal) -> bool:
    return principal.is_admin or EXTERNAL_WORKER_GROUP in principal.groups


def _require_worker(principal: Principal, action: str) -> None:
    if not may_work(principal):
        raise Forbidden(
            f"User '{principal.user_id}' may not {action} external tasks: that needs the "
            f"'{EXTERNAL_WORKER_GROUP}' or 'admin' group"
        )


class _Wakeup:
    """Wakes long-polling fetches of this process; a generation counter means no wake-up is lost
    between a fetch that found nothing and its wait."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._condition:
            return self._generation

    def notify(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._generation != seen, timeout)


class ExternalTaskService:
    def __init__(
        self,
        db: Database,
        store: InstanceStore,
        serializer: Serializer,
        clock: Clock,
        *,
        max_long_poll: timedelta = DEFAULT_MAX_LONG_POLL,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.db = db
        self.store = store
        self.serializer = serializer
        self.clock = clock
        self.max_long_poll = max_long_poll
        self.poll_interval = poll_interval
        self._wakeup = _Wakeup()

    def notify_available(self) -> None:
        """Wake this process's waiting fetches: call it after a commit that created or freed external task
        rows. Fetches waiting in other processes find such rows by re-reading every ``poll_interval``."""
        self._wakeup.notify()

    # --- fetch and lock ----------------------------------------------------------------------------------

    def fetch_and_lock(
        self,
        principal: Principal,
        worker_id: str,
        max_tasks: int,
        topics: Sequence[FetchTopic],
        *,
        use_priority: bool = False,
        async_response_timeout_ms: int | None = None,
        created_order: str | None = None,
    ) -> list[dict[str, Any]]:
        """Lock up to ``max_tasks`` free tasks of the given topics to ``worker_id``; each row comes with its
        ``variables`` (Camunda-typed). With ``async_response_timeout_ms``, wait that long (at most
        ``max_long_poll``) for a task when none is free. ``created_order`` ("asc"/"desc") sorts by creation
        time after the priority (Camunda's ``sorting``); the default is oldest first."""
        _require_worker(principal, "fetch")
        if not worker_id:
            raise BadRequest("workerId is required")
        if not 0 <= max_tasks <= MAX_TASKS_PER_FETCH:
            raise BadRequest(f"maxTasks must be between 0 and {MAX_TASKS_PER_FETCH}, not {max_tasks}")
        timeout_ms = async_response_timeout_ms or 0
        if not 0 <= timeout_ms <= MAX_ASYNC_RESPONSE_TIMEOUT_MS:
            raise BadRequest(
                f"asyncResponseTimeout must be between 0 and {MAX_ASYNC_RESPONSE_TIMEOUT_MS} ms, not {timeout_ms}"
            )
        for topic in topics:
            if not topic.topic_name:
                raise BadRequest("Every topic needs a topicName")
            if topic.lock_duration_ms <= 0:
                raise BadRequest(
                    f"lockDuration of topic '{topic.topic_name}' must be a positive number of milliseconds, "
                    f"not {topic.lock_duration_ms}"
                )
        if created_order not in (None, "asc", "desc"):
            raise BadRequest(f"sortOrder must be 'asc' or 'desc', not {created_order!r}")
        if max_tasks == 0 or not topics:
            return []
        wait_seconds = min(timeout_ms / 1000, self.max_long_poll.total_seconds())
        deadline = time.monotonic() + wait_seconds
        while True:
            seen = self._wakeup.generation
            tasks = self._fetch_once(worker_id, max_tasks, topics, use_priority, created_order or "asc")
            remaining = deadline - time.monotonic()
            if tasks or remaining <= 0:
                return tasks
            self._wakeup.wait(seen, min(remaining, self.poll_interval))

    def _fetch_once(
        self, worker_id: str, max_tasks: int, topics: Sequence[FetchTopic], use_priority: bool, created_order: str
    ) -> list[dict[str, Any]]:
        now = self.clock.now()
        c = external_task.c
        order = [c.priority.desc()] if use_priority else []
        order += [c.created.desc() if created_order == "desc" else c.created, c.id]
        free = and_(
            or_(c.lock_expires.is_(None), c.lock_expires <= now),
            or_(c.retries.is_(None), c.retries > 0),
            or_(*(topic.condition() for topic in topics)),
        )
        # Each topic has its own lock duration: the row's topic picks it.
        expires = case(
            *((topic.condition(), now + timedelta(milliseconds=topic.lock_duration_ms)) for topic in topics),
            else_=now + timedelta(milliseconds=topics[0].lock_duration_ms),
        )
        statement = (
            update(external_task)
            .where(
                c.id.in_(
                    select(c.id)
                    .where(free)
                    .order_by(*order)
                    .limit(max_tasks)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
            )
            .values(worker_id=worker_id, lock_expires=expires)
            .returning(*external_task.c)
        )
        # Look before locking: most polls find nothing, and a read takes no write lock (SQLite has only one).
        with self.db.transaction(write=False) as uow:
            if uow.execute(select(exists().where(free))).scalar() is not True:
                return []
        with self.db.transaction() as uow:
            rows = [dict(r._mapping) for r in uow.execute(statement)]
        if not rows:
            return []

        # RETURNING gives no order: sort as the selection did.
        def sort_key(row: dict[str, Any]) -> tuple:
            created = stored_utc(row["created"]).timestamp()
            return (
                -row["priority"] if use_priority else 0,
                -created if created_order == "desc" else created,
                row["id"],
            )

        rows.sort(key=sort_key)
        return self._with_variables(rows, topics, worker_id)

    def _with_variables(
        self, rows: list[dict[str, Any]], topics: Sequence[FetchTopic], worker_id: str
    ) -> list[dict[str, Any]]:
        """Add each locked task's variables: the data its service task sees plus its input parameters (its
        local variables, Camunda-style), filtered as its topic asks. Read after the lock committed, so the
        lock is not held while instances load."""
        by_instance: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_instance.setdefault(row["instance_id"], []).append(row)
        variables: dict[str, dict[str, Any]] = {}
        failed: list[tuple[dict[str, Any], PlusmaError]] = []
        with self.db.transaction(write=False) as uow:
            for instance_id, its_rows in by_instance.items():
                try:
                    loaded = self.store.load(uow, instance_id)
                except NotFound:
                    continue  # cancelled meanwhile: its rows are gone
                for row in its_rows:
                    if row["id"] not in loaded.waits:
                        continue  # the instance moved on since the lock (e.g. a boundary timer)
                    spiff_task = runtime.find_task(loaded.workflow, row["id"])
                    try:
                        local = runtime.input_parameters(spiff_task)
                    except PlusmaError as error:
                        failed.append((row, error))
                        continue
                    topic = next((t for t in topics if t.matches(row)), topics[0])
                    data = dict(local) if topic.local_variables else {**spiff_task.data, **local}
                    if topic.variables is not None:
                        data = {name: data[name] for name in topic.variables if name in data}
                    variables[row["id"]] = variables_to_typed(data)
        for row, error in failed:
            self._input_parameters_failed(row, worker_id, error)
        return [{**row, "variables": variables[row["id"]]} for row in rows if row["id"] in variables]

    def _input_parameters_failed(self, row: dict[str, Any], worker_id: str, error: PlusmaError) -> None:
        # A worker cannot do the work without its inputs, and retrying cannot fix a model or data error:
        # the task gets an incident at once, like a failure with no retries left.
        message = f"Input parameters of '{row['activity_id']}' could not be evaluated: {error.message}"
        log.warning("external task %s: %s", row["id"], message)
        now = self.clock.now()
        with self.db.transaction() as uow:
            held = uow.execute(
                update(external_task)
                .where(external_task.c.id == row["id"], external_task.c.worker_id == worker_id)
                .values(retries=0, error_message=message[:MESSAGE_LIMIT], worker_id=None, lock_expires=None)
                .returning(*external_task.c)
            ).first()
            if held is None:
                return
            held_row = dict(held._mapping)
            entries = [self._incident(uow, held_row, message, now)]
            history.append(uow, _context(held_row), [e for e in entries if e], timestamp=now, user_id=None)

    # --- a worker's results ------------------------------------------------------------------------------

    def complete(
        self,
        principal: Principal,
        task_id: str,
        worker_id: str,
        variables: Mapping[str, Any] | None = None,
        local_variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Complete a task locked to ``worker_id``: ``variables`` become process variables,
        ``local_variables`` are seen only by the task's output parameters; the instance runs on."""
        _require_worker(principal, "complete")
        variables = dict(variables or {})
        local_variables = dict(local_variables or {})
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            _check_owner(row, worker_id, "completed")
            loaded = self.store.load(uow, row["instance_id"])
            spiff_task = runtime.find_task(loaded.workflow, task_id)
            outputs = _output_parameters(spiff_task, variables, local_variables)
            step = runtime.complete_service_task(loaded.workflow, task_id, {**variables, **outputs}, now)
            self.store.save(
                uow,
                loaded,
                step,
                now=now,
                user_id=principal.user_id,
                extra_history=[
                    _entry(
                        "external_task_completed",
                        row,
                        {
                            "workerId": worker_id,
                            "topic": row["topic"],
                            "variables": self.serializer.data_to_json_compatible({**variables, **outputs}),
                        },
                    )
                ],
            )

    def failure(
        self,
        principal: Principal,
        task_id: str,
        worker_id: str,
        *,
        error_message: str | None,
        error_details: str | None = None,
        retries: int,
        retry_timeout_ms: int = 0,
    ) -> None:
        """Record a failed attempt: with retries left the task is free again after ``retry_timeout_ms``;
        with none it gets an incident (``failedExternalTask``) and waits for ``set_retries``."""
        _require_worker(principal, "fail")
        if retries < 0:
            raise BadRequest(f"retries must be 0 or more, not {retries}")
        if retry_timeout_ms < 0:
            raise BadRequest(f"retryTimeout must be 0 or more milliseconds, not {retry_timeout_ms}")
        now = self.clock.now()
        message = (error_message or "")[:MESSAGE_LIMIT] or None
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            _check_owner(row, worker_id, "failed")
            # Camunda's semantics: the failing worker keeps the lock until the retry timeout is over.
            values = {
                "retries": retries,
                "error_message": message,
                "error_details": error_details[:_DETAILS_LIMIT] if error_details else None,
                "lock_expires": now + timedelta(milliseconds=retry_timeout_ms),
            }
            uow.execute(update(external_task).where(external_task.c.id == task_id).values(**values))
            row.update(values)
            entries = [
                _entry(
                    "external_task_failed",
                    row,
                    {"workerId": worker_id, "topic": row["topic"], "retries": retries, "message": message},
                )
            ]
            if retries == 0:
                entries.append(self._incident(uow, row, message or "External task failed", now))
            elif retry_timeout_ms == 0:
                uow.after_commit.append(self.notify_available)
            history.append(uow, _context(row), [e for e in entries if e], timestamp=now, user_id=principal.user_id)

    def handle_bpmn_error(
        self,
        principal: Principal,
        task_id: str,
        worker_id: str,
        error_code: str,
        error_message: str | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        """Camunda's bpmnError: the work ended in a business error that the model handles. A boundary error
        event of the task (or of an enclosing subprocess) whose error code matches — or that names no error —
        catches it with ``variables``; the task is cancelled and the instance follows the event's flow.
        An error nothing catches is refused (400) and changes nothing."""
        _require_worker(principal, "report errors of")
        if not error_code:
            raise BadRequest("errorCode is required")
        variables = dict(variables or {})
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            _check_owner(row, worker_id, "reported as a BPMN error")
            loaded = self.store.load(uow, row["instance_id"])
            step = throw_bpmn_error(loaded.workflow, task_id, error_code, variables, now)
            self.store.save(
                uow,
                loaded,
                step,
                now=now,
                user_id=principal.user_id,
                extra_history=[
                    _entry(
                        "external_task_bpmn_error",
                        row,
                        {
                            "workerId": worker_id,
                            "topic": row["topic"],
                            "errorCode": error_code,
                            "errorMessage": error_message,
                            "variables": self.serializer.data_to_json_compatible(variables),
                        },
                    )
                ],
            )

    def extend_lock(self, principal: Principal, task_id: str, worker_id: str, new_duration_ms: int) -> None:
        """Keep the lock ``new_duration_ms`` from now; only its holder may, and only before it expired."""
        _require_worker(principal, "lock")
        if new_duration_ms <= 0:
            raise BadRequest(f"newDuration must be a positive number of milliseconds, not {new_duration_ms}")
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            _check_owner(row, worker_id, "locked longer")
            if row["lock_expires"] is None or stored_utc(row["lock_expires"]) <= now:
                raise BadRequest(f"The lock of external task {task_id} has expired: fetch it again")
            uow.execute(
                update(external_task)
                .where(external_task.c.id == task_id)
                .values(lock_expires=now + timedelta(milliseconds=new_duration_ms))
            )

    def unlock(self, principal: Principal, task_id: str) -> None:
        """Free a task at once, whoever holds it (Camunda's unlock)."""
        _require_worker(principal, "unlock")
        with self.db.transaction() as uow:
            self._row(uow, task_id)
            uow.execute(
                update(external_task).where(external_task.c.id == task_id).values(worker_id=None, lock_expires=None)
            )
            uow.after_commit.append(self.notify_available)

    def set_retries(self, principal: Principal, task_id: str, retries: int) -> None:
        """Give a task retries again (after its cause was fixed): its incident is resolved and workers may
        fetch it once its lock has expired. Setting 0 raises an incident, as in Camunda."""
        if not principal.is_admin:
            raise Forbidden(f"User '{principal.user_id}' may not change external tasks: that needs the 'admin' group")
        if retries < 0:
            raise BadRequest(f"retries must be 0 or more, not {retries}")
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = self._row(uow, task_id)
            uow.execute(update(external_task).where(external_task.c.id == task_id).values(retries=retries))
            if retries == 0:
                entry = self._incident(uow, row, row["error_message"] or "Retries set to 0", now)
                if entry is not None:
                    history.append(uow, _context(row), [entry], timestamp=now, user_id=principal.user_id)
                return
            resolved = resolve_incident(
                uow,
                incident_type=FAILED_EXTERNAL_TASK,
                configuration=task_id,
                source=row,
                activity_instance_id=task_id,
                reference={"externalTaskId": task_id, "retries": retries},
            )
            if resolved is not None:
                history.append(uow, _context(row), [resolved], timestamp=now, user_id=principal.user_id)
            uow.after_commit.append(self.notify_available)

    @staticmethod
    def _incident(uow: UnitOfWork, row: dict[str, Any], message: str, now: datetime) -> HistoryEntry | None:
        """Open the task's incident unless it has one; the history entry to record, if one was opened."""
        return open_incident(
            uow,
            incident_type=FAILED_EXTERNAL_TASK,
            configuration=row["id"],
            message=message,
            source=row,
            activity_instance_id=row["id"],
            reference={"externalTaskId": row["id"]},
            now=now,
        )

    def _row(self, uow: UnitOfWork, task_id: str) -> dict[str, Any]:
        # FOR UPDATE: a worker's result and a concurrent fetch of an expired lock take turns on the row.
        found = uow.execute(select(external_task).where(external_task.c.id == task_id).with_for_update()).first()
        if found is None:
            raise NotFound(f"No external task with id '{task_id}' (it may have completed or been cancelled)")
        return dict(found._mapping)

    # --- reading -----------------------------------------------------------------------------------------

    def list(self, principal: Principal, query: ExternalTaskQuery | None = None) -> list[dict[str, Any]]:
        _require_worker(principal, "read")
        query = query or ExternalTaskQuery()
        if query.sort_by not in SORTABLE:
            raise BadRequest(f"Cannot sort by '{query.sort_by}' (one of: {', '.join(SORTABLE)})")
        column = SORTABLE[query.sort_by]
        statement = (
            select(external_task)
            .where(*self._filters(query))
            .order_by(column.desc() if query.sort_order == "desc" else column, external_task.c.id)
            .offset(query.first_result)
        )
        if query.max_results is not None:
            statement = statement.limit(query.max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(statement)]

    def count(self, principal: Principal, query: ExternalTaskQuery | None = None) -> int:
        _require_worker(principal, "read")
        statement = select(func.count()).select_from(external_task).where(*self._filters(query or ExternalTaskQuery()))
        with self.db.transaction(write=False) as uow:
            return uow.execute(statement).scalar_one()

    def get(self, principal: Principal, task_id: str) -> dict[str, Any]:
        _require_worker(principal, "read")
        with self.db.transaction(write=False) as uow:
            found = uow.execute(select(external_task).where(external_task.c.id == task_id)).first()
        if found is None:
            raise NotFound(f"No external task with id '{task_id}'")
        return dict(found._mapping)

    def topic_names(
        self,
        principal: Principal,
        *,
        with_locked_tasks: bool = False,
        with_unlocked_tasks: bool = False,
        with_retries_left: bool = False,
    ) -> list[str]:
        query = ExternalTaskQuery(
            locked=with_locked_tasks, not_locked=with_unlocked_tasks, with_retries_left=with_retries_left
        )
        _require_worker(principal, "read")
        statement = (
            select(external_task.c.topic).distinct().where(*self._filters(query)).order_by(external_task.c.topic)
        )
        with self.db.transaction(write=False) as uow:
            return list(uow.execute(statement).scalars())

    def _filters(self, query: ExternalTaskQuery) -> list[ColumnElement[bool]]:
        c = external_task.c
        now = self.clock.now()
        filters: list[ColumnElement[bool]] = []
        equal = (
            (c.id, query.external_task_id),
            (c.topic, query.topic_name),
            (c.worker_id, query.worker_id),
            (c.instance_id, query.process_instance_id),
            (c.definition_id, query.process_definition_id),
            (c.definition_key, query.process_definition_key),
            (c.activity_id, query.activity_id),
        )
        filters += [column == value for column, value in equal if value is not None]
        if query.locked:
            filters.append(c.lock_expires > now)
        if query.not_locked:
            filters.append(or_(c.lock_expires.is_(None), c.lock_expires <= now))
        if query.with_retries_left:
            filters.append(or_(c.retries.is_(None), c.retries > 0))
        if query.no_retries_left:
            filters.append(c.retries == 0)
        if query.priority_higher_than_or_equals is not None:
            filters.append(c.priority >= query.priority_higher_than_or_equals)
        if query.priority_lower_than_or_equals is not None:
            filters.append(c.priority <= query.priority_lower_than_or_equals)
        return filters


def _check_owner(row: dict[str, Any], worker_id: str, done: str) -> None:
    # Camunda checks only who locked the task last: an expired lock nobody took since still counts.
    if not worker_id:
        raise BadRequest("workerId is required")
    if row["worker_id"] != worker_id:
        holder = f"worker '{row['worker_id']}'" if row["worker_id"] else "no worker"
        raise BadRequest(
            f"External task {row['id']} cannot be {done} by worker '{worker_id}': it is locked by {holder}"
        )


def _entry(event_type: str, row: Mapping[str, Any], data: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(event_type, activity_id=row["activity_id"], activity_instance_id=row["id"], data=data)


def _context(row: Mapping[str, Any]) -> history.InstanceContext:
    return history.InstanceContext(row["instance_id"], row["definition_id"], row["definition_key"], row["business_key"])


# --- SpiffWorkflow: output parameters and BPMN errors ----------------------------------------------------
# throw_bpmn_error belongs next to runtime.complete_service_task; it uses runtime's private _run (the
# step's history diff and error mapping) until runtime offers it.


def _output_parameters(task: Task, variables: Mapping[str, Any], local_variables: Mapping[str, Any]) -> dict[str, Any]:
    """A completed external task's ``camunda:outputParameter`` values. As in Camunda they are evaluated in
    the task's local scope: its data, its input parameters and what the worker sent."""
    if not getattr(task.task_spec, "output_parameters", None):
        return {}
    return runtime.output_parameters(task, {**runtime.input_parameters(task), **variables, **local_variables})


def _error_catchers(task: Task) -> Iterable[list[Task]]:
    """The waiting boundary error events of ``task``, then of each subprocess or call activity around it:
    one list per level, from the task outwards."""
    current: Task | None = task
    while current is not None:
        split = current.parent
        if split is not None and isinstance(split.task_spec, BoundaryEventSplit):
            yield [
                sibling
                for sibling in split.children
                if isinstance(sibling.task_spec, BoundaryEvent)
                and isinstance(sibling.task_spec.event_definition, ErrorEventDefinition)
                and sibling.state == TaskState.WAITING
            ]
        workflow = current.workflow
        parent_id = getattr(workflow, "parent_task_id", None)
        current = workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None


def throw_bpmn_error(
    workflow: BpmnWorkflow, task_id: str, error_code: str, variables: dict[str, Any], now: datetime
) -> Step:
    """Let the nearest boundary error event of a waiting service task that catches ``error_code`` catch it
    with ``variables`` as its payload, and run on: the task is cancelled and the event's flow taken."""
    task = runtime.find_task(workflow, task_id)
    if task.state != TaskState.STARTED:
        raise Conflict(f"Task {task_id} no longer waits for its service ({TaskState.get_name(task.state)})")
    thrown = BpmnEvent(ErrorEventDefinition(error_code, code=error_code), payload=dict(variables))
    catcher = None
    for level in _error_catchers(task):
        # Camunda's order: the nearest scope that catches; in it, an event naming the code before a catch-all.
        specific = [c for c in level if c.task_spec.event_definition.code == error_code]
        catch_all = [c for c in level if c.task_spec.event_definition.code is None]
        if specific or catch_all:
            catcher = (specific or catch_all)[0]
            break
    if catcher is None:
        raise BadRequest(
            f"No boundary error event of '{task.task_spec.bpmn_id}' (or of a subprocess around it) catches "
            f"error code '{error_code}'"
        )

    def catch() -> None:
        catcher.task_spec.catch(catcher, thrown)
        catcher.task_spec._update(catcher)

    return runtime._run(workflow, catch, now)
