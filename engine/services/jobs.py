"""Jobs: timers and connector work that fall due, run exactly once, retry, and become incidents.

A worker *acquires* due jobs by taking a lease on their rows (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite serializes writers anyway). Running a job advances its instance in one transaction
that also deletes or reschedules the job row, and the instance's version check makes a second run of the
same firing fail: if a lease expires while its worker is still busy, at most one of the two commits.
A worker that dies holding a lease simply loses it when it expires.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from engine import runtime
from engine.clock import Clock, stored_utc
from engine.errors import BadRequest, Conflict, Forbidden, NotFound, PlusmaError
from engine.identity import Principal
from engine.runtime import CONNECTOR, TIMER, HistoryEntry
from engine.serialization import Serializer
from engine.services import history, start_events
from engine.services.incidents import FAILED_JOB, MESSAGE_LIMIT, open_incident, resolve_incident
from engine.services.instance_store import InstanceStore
from engine.storage.database import Database, UnitOfWork
from engine.storage.tables import job, process_instance

log = logging.getLogger(__name__)

#: How long a worker holds a job it acquired before another may take it.
DEFAULT_LEASE = timedelta(minutes=5)
#: Wait before the first retry of a failed job; it doubles with each further failure.
DEFAULT_RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(hours=1)

_DUE = and_(
    job.c.due <= bindparam("now"),
    job.c.retries > 0,
    or_(job.c.lock_expires.is_(None), job.c.lock_expires < bindparam("now")),
)
_ACQUIRE = (
    update(job)
    .where(
        job.c.id.in_(
            select(job.c.id)
            .where(_DUE)
            .order_by(job.c.due)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(lock_owner=bindparam("owner"), lock_expires=bindparam("expires"))
    .returning(*job.c)
)
_HELD = select(job).where(job.c.id == bindparam("job_id"), job.c.lock_owner == bindparam("owner"))
_RELEASE = (
    update(job)
    .where(job.c.id == bindparam("job_id"), job.c.lock_owner == bindparam("owner"))
    .values(lock_owner=None, lock_expires=None)
)


class PermanentFailure(PlusmaError):
    """A job failure that retrying cannot fix (bad parameters, a template error): an incident at once."""


@dataclass(frozen=True)
class JobOutcome:
    job_id: str
    #: "done", "gone" (nothing left to do: the instance moved on or another worker ran it), "retry",
    #: "deferred" (an earlier timer of the same instance fires first),
    #: "incident" (no retries left), "conflict" (the instance changed meanwhile: runs again soon).
    result: str
    error: str | None = None


#: A connector: (input parameters, the instance's variables) -> output variables. Raising fails the job.
Connector = Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any] | None]


class JobService:
    def __init__(
        self,
        db: Database,
        store: InstanceStore,
        serializer: Serializer,
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        retry_delay: timedelta = DEFAULT_RETRY_DELAY,
        connectors: Mapping[str, Connector] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.serializer = serializer
        self.clock = clock
        self.lease = lease
        self.retry_delay = retry_delay
        self.connectors: dict[str, Connector] = dict(connectors or {})

    # --- acquiring and running ---------------------------------------------------------------------------

    def acquire(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """Lease up to ``limit`` due jobs to ``owner``, earliest due first."""
        now = self.clock.now()
        with self.db.transaction() as uow:
            rows = uow.execute(_ACQUIRE, {"now": now, "limit": limit, "owner": owner, "expires": now + self.lease})
            jobs = [dict(r._mapping) for r in rows]
        return sorted(jobs, key=lambda j: (j["due"], j["id"]))

    def next_due(self) -> datetime | None:
        """When the next job could run: the earliest due time, or lease expiry of a leased one."""
        now = self.clock.now()
        free = (
            select(func.min(job.c.due))
            .where(job.c.retries > 0, or_(job.c.lock_expires.is_(None), job.c.lock_expires < now))
            .scalar_subquery()
        )
        # Reads the partial index on lock_expires: only leased rows are in it.
        leased = (
            select(func.min(job.c.lock_expires))
            .where(job.c.lock_expires.is_not(None), job.c.lock_expires >= now, job.c.retries > 0)
            .scalar_subquery()
        )
        with self.db.transaction(write=False) as uow:
            row = uow.execute(select(free, leased)).one()
        candidates = [stored_utc(v) for v in row if v is not None]
        return min(candidates) if candidates else None

    def run_due(self, owner: str, limit: int = 50) -> list[JobOutcome]:
        """Acquire due jobs and run them one after the other (the scheduler runs them in parallel)."""
        return [self.execute(row, owner) for row in self.acquire(owner, limit)]

    def execute(self, row: dict[str, Any], owner: str) -> JobOutcome:
        """Run one acquired job; on failure, count a retry or raise an incident. Never raises."""
        try:
            if row["kind"] == TIMER:
                result = self._fire_timer(row, owner)
            elif row["kind"] == start_events.TIMER_START:
                result = self._fire_start_timer(row, owner)
            elif row["kind"] == CONNECTOR:
                result = self._run_connector(row, owner)
            else:
                raise PlusmaError(f"unknown job kind {row['kind']!r}")
            return JobOutcome(row["id"], result)
        except Conflict as error:
            # Someone changed the instance first: not a failure, the job runs again at once.
            self._release(row, owner)
            return JobOutcome(row["id"], "conflict", str(error))
        except Exception as error:  # noqa: BLE001 - any failure of process code becomes a retry or an incident
            log.warning("job %s (%s at %s) failed: %s", row["id"], row["kind"], row["activity_id"], error)
            return self._failed(row, owner, error)

    def _held(self, uow: UnitOfWork, row: dict[str, Any], owner: str) -> dict[str, Any] | None:
        held = uow.execute(_HELD, {"job_id": row["id"], "owner": owner}).first()
        return dict(held._mapping) if held is not None else None

    def _fire_timer(self, row: dict[str, Any], owner: str) -> str:
        with self.db.transaction() as uow:
            held = self._held(uow, row, owner)
            if held is None:
                return "gone"
            loaded = self.store.load(uow, held["instance_id"])
            waiting = loaded.waits.get(held["id"])
            if waiting is None or waiting.kind != TIMER:
                uow.execute(delete(job).where(job.c.id == held["id"]))
                return "gone"
            due = stored_utc(held["due"])
            earlier = [
                w.task_id
                for w in loaded.waits.values()
                if w.kind == TIMER and w.due is not None and w.due < due and w.task_id != held["task_id"]
            ]
            if (
                earlier
                and uow.execute(
                    # Only a timer that can still run goes first: one with an incident must not hold the rest up.
                    select(job.c.id).where(job.c.id.in_(earlier), job.c.retries > 0).limit(1)
                ).first()
            ):
                # An earlier timer of this instance is due too (its job may be in this very batch, acquired
                # before a cycle moved it): it fires first; this job runs again at once afterwards.
                uow.execute(_RELEASE, {"job_id": held["id"], "owner": owner})
                return "deferred"
            # The step runs as of the timer's due time (SpiffWorkflow fires strictly after it): when several
            # timers of an instance are overdue (after downtime), each fires in its turn, earliest first, and
            # a reminder is not swallowed by a later deadline that interrupts its task.
            step = runtime.fire_timers(loaded.workflow, due + timedelta(microseconds=1))
            self.store.save(uow, loaded, step, now=self.clock.now(), user_id=None)
            if loaded.waits.get(held["id"]) == waiting:
                uow.execute(_RELEASE, {"job_id": held["id"], "owner": owner})
        return "done"

    def _fire_start_timer(self, row: dict[str, Any], owner: str) -> str:
        with self.db.transaction() as uow:
            held = self._held(uow, row, owner)
            if held is None:
                return "gone"
            due = stored_utc(held["due"])
            now = max(self.clock.now(), due + timedelta(microseconds=1))
            spec, subprocess_specs = self.store.specs.get(uow, held["definition_id"])
            workflow = runtime.new_workflow(spec, subprocess_specs)
            step = runtime.start_by_timer(workflow, due, now, via=held["activity_id"])
            self.store.insert(
                uow,
                workflow,
                step,
                definition_id=held["definition_id"],
                definition_key=held["definition_key"],
                business_key=None,
                start_user_id=None,
                now=now,
                user_id=None,
                started=HistoryEntry(
                    "instance_started", activity_id=held["activity_id"], data={"trigger": "timer", "due": _iso(due)}
                ),
            )
            following = start_events.next_due(held["configuration"] or {}, due)
            if following is None:
                uow.execute(delete(job).where(job.c.id == held["id"]))
            else:
                next_due, configuration = following
                uow.execute(
                    update(job)
                    .where(job.c.id == held["id"])
                    .values(
                        due=next_due,
                        configuration=configuration,
                        retries=self.store.job_retries,
                        lock_owner=None,
                        lock_expires=None,
                        exception_message=None,
                        exception_stacktrace=None,
                    )
                )
                if self.store.signal is not None:
                    signal = self.store.signal
                    uow.after_commit.append(lambda: signal.notify(next_due))
        return "done"

    def _run_connector(self, row: dict[str, Any], owner: str) -> str:
        # Read the parameters, do the outside work with no transaction open (an e-mail may take seconds
        # and must not hold the database), then complete the task if it still waits.
        with self.db.transaction(write=False) as uow:
            if self._held(uow, row, owner) is None:
                return "gone"
            loaded = self.store.load(uow, row["instance_id"])
            waiting = loaded.waits.get(row["id"])
            if waiting is None or waiting.kind != CONNECTOR:
                gone = True
            else:
                gone = False
                spiff_task = runtime.find_task(loaded.workflow, row["task_id"])
                connector = self.connectors.get(waiting.name)
                if connector is None:
                    raise PlusmaError(f"no connector '{waiting.name}' is configured in this Plūsma")
                instance = {"businessKey": loaded.row["business_key"]}
                parameters = runtime.input_parameters(spiff_task, instance)
                variables = {**spiff_task.data, **instance}
        if gone:
            with self.db.transaction() as uow:
                uow.execute(delete(job).where(job.c.id == row["id"], job.c.lock_owner == owner))
            return "gone"
        outputs = connector(parameters, variables) or {}
        with self.db.transaction() as uow:
            if self._held(uow, row, owner) is None:
                return "gone"
            loaded = self.store.load(uow, row["instance_id"])
            if row["id"] not in loaded.waits:
                return "gone"
            now = self.clock.now()
            spiff_task = runtime.find_task(loaded.workflow, row["task_id"])
            results = runtime.output_parameters(spiff_task, outputs)
            step = runtime.complete_service_task(loaded.workflow, row["task_id"], results, now)
            self.store.save(
                uow,
                loaded,
                step,
                now=now,
                user_id=None,
                extra_history=[
                    HistoryEntry(
                        "connector_completed",
                        activity_id=row["activity_id"],
                        activity_instance_id=row["task_id"],
                        data={"connectorId": waiting.name, "outputs": self.serializer.data_to_json_compatible(outputs)},
                    )
                ],
            )
        return "done"

    def _release(self, row: dict[str, Any], owner: str) -> None:
        with self.db.transaction() as uow:
            uow.execute(_RELEASE, {"job_id": row["id"], "owner": owner})

    def _failed(self, row: dict[str, Any], owner: str, error: Exception) -> JobOutcome:
        message = str(error) or type(error).__name__
        stacktrace = "".join(traceback.format_exception(error))[-8000:]
        now = self.clock.now()
        with self.db.transaction() as uow:
            held = self._held(uow, row, owner)
            if held is None:
                return JobOutcome(row["id"], "gone", message)
            retries = 0 if isinstance(error, PermanentFailure) else max(0, held["retries"] - 1)
            failures = max(1, self.store.job_retries - retries)
            delay = min(self.retry_delay * (2 ** (failures - 1)), MAX_RETRY_DELAY)
            uow.execute(
                update(job)
                .where(job.c.id == held["id"])
                .values(
                    retries=retries,
                    due=now + delay if retries else held["due"],
                    lock_owner=None,
                    lock_expires=None,
                    exception_message=message[:MESSAGE_LIMIT],
                    exception_stacktrace=stacktrace,
                )
            )
            context = _context(uow, held)
            entries = [
                HistoryEntry(
                    "job_failed",
                    activity_id=held["activity_id"],
                    activity_instance_id=held["task_id"],
                    data={"jobId": held["id"], "retries": retries, "message": message[:MESSAGE_LIMIT]},
                )
            ]
            if retries == 0:
                opened = open_incident(
                    uow,
                    incident_type=FAILED_JOB,
                    configuration=held["id"],
                    message=message,
                    source=held,
                    activity_instance_id=held["task_id"],
                    reference={"jobId": held["id"]},
                    now=now,
                )
                entries += [opened] if opened is not None else []
            history.append(uow, context, entries, timestamp=now, user_id=None)
        return JobOutcome(row["id"], "retry" if retries else "incident", message)

    # --- reading and repairing ---------------------------------------------------------------------------

    def list(
        self,
        *,
        instance_id: str | None = None,
        definition_key: str | None = None,
        with_exception: bool | None = None,
        no_retries_left: bool | None = None,
        first_result: int = 0,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        query = select(job).order_by(job.c.due, job.c.id)
        if instance_id:
            query = query.where(job.c.instance_id == instance_id)
        if definition_key:
            query = query.where(job.c.definition_key == definition_key)
        if with_exception:
            query = query.where(job.c.exception_message.is_not(None))
        if no_retries_left:
            query = query.where(job.c.retries == 0)
        query = query.offset(first_result)
        if max_results is not None:
            query = query.limit(max_results)
        with self.db.transaction(write=False) as uow:
            return [dict(r._mapping) for r in uow.execute(query)]

    def get(self, job_id: str) -> dict[str, Any]:
        with self.db.transaction(write=False) as uow:
            row = uow.execute(select(job).where(job.c.id == job_id)).first()
        if row is None:
            raise NotFound(f"No job with id '{job_id}'")
        return dict(row._mapping)

    def set_retries(self, principal: Principal, job_id: str, retries: int) -> None:
        """Give a job retries again (after the cause was fixed): it runs at once and its incident closes."""
        if not principal.is_admin:
            raise Forbidden(f"User '{principal.user_id}' may not change jobs: that needs the 'admin' group")
        if retries < 0:
            raise BadRequest(f"retries must be 0 or more, not {retries}")
        now = self.clock.now()
        with self.db.transaction() as uow:
            row = uow.execute(select(job).where(job.c.id == job_id)).first()
            if row is None:
                raise NotFound(f"No job with id '{job_id}'")
            held = dict(row._mapping)
            due = min(stored_utc(held["due"]), now)
            uow.execute(update(job).where(job.c.id == job_id).values(retries=retries, due=due))
            if retries == 0:
                return
            resolved = resolve_incident(
                uow,
                incident_type=FAILED_JOB,
                configuration=job_id,
                source=held,
                activity_instance_id=held["task_id"],
                reference={"jobId": job_id, "retries": retries},
            )
            if resolved is not None:
                history.append(uow, _context(uow, held), [resolved], timestamp=now, user_id=principal.user_id)
            if self.store.signal is not None:
                signal = self.store.signal
                uow.after_commit.append(lambda: signal.notify(due))


def _context(uow: UnitOfWork, row: dict[str, Any]) -> history.InstanceContext:
    business_key = None
    if row.get("instance_id"):
        business_key = uow.execute(
            select(process_instance.c.business_key).where(process_instance.c.id == row["instance_id"])
        ).scalar()
    return history.InstanceContext(row.get("instance_id"), row["definition_id"], row["definition_key"], business_key)


def _iso(value: datetime) -> str:
    return value.isoformat()
