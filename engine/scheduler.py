"""The job scheduler: APScheduler wakes this process when the next job falls due and runs due jobs.

Every ``plusma serve`` worker process and every ``plusma worker`` runs one. They share nothing but the
database: a job is leased by exactly one of them (see ``engine.services.jobs``), so any number may run.
Nothing polls instances; the scheduler reads the job table's earliest due time and sleeps until then,
woken early when this process schedules a sooner job, and checks at least every ``idle_seconds`` for
jobs other processes scheduled.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES
from apscheduler.executors.pool import ThreadPoolExecutor as SchedulerThreadPool
from apscheduler.schedulers.background import BackgroundScheduler

from engine.process_engine import ProcessEngine

log = logging.getLogger(__name__)

_JOB_ID = "plusma-run-due-jobs"


def worker_name() -> str:
    """A lease owner name that is unique per process and says where it runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobScheduler:
    def __init__(
        self,
        engine: ProcessEngine,
        *,
        owner: str | None = None,
        threads: int = 4,
        batch_size: int | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.owner = owner or worker_name()
        self.threads = threads
        self.batch_size = batch_size or threads * 8
        self.idle = timedelta(seconds=idle_seconds)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="plusma-job")
        self._scheduler = BackgroundScheduler(
            executors={"default": SchedulerThreadPool(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._lock = threading.Lock()
        self._schedule_lock = threading.Lock()
        self._running = False
        self._woken = False
        self._stopping = False
        #: Jobs run by this scheduler, by outcome ("done", "retry", ...): for logs and tests.
        self.counts: dict[str, int] = {}

    # --- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> JobScheduler:
        self.engine.job_signal.subscribe(self.wake)
        self._scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self._scheduler.start()
        # First run at once: jobs that fell due while nothing ran fire now, in due order.
        self._schedule(datetime.now(UTC))
        log.info("job scheduler %s started (%d threads)", self.owner, self.threads)
        return self

    def shutdown(self, wait_for_jobs: bool = True) -> None:
        # Stop scheduling first: a pass ending during APScheduler's shutdown would add its next run while
        # shutdown holds the scheduler's locks and waits for that very pass (a deadlock: the worker hung).
        self._stopping = True
        self.engine.job_signal.unsubscribe(self.wake)
        self._scheduler.shutdown(wait=wait_for_jobs)
        self._pool.shutdown(wait=wait_for_jobs)

    @property
    def next_run_time(self) -> datetime | None:
        """When the scheduler looks for due jobs next (None while a pass runs)."""
        job = self._scheduler.get_job(_JOB_ID)
        return job.next_run_time if job is not None else None

    # --- waking ----------------------------------------------------------------------------------------------

    def wake(self, due: datetime) -> None:
        """Run no later than ``due`` (a job this process just scheduled)."""
        with self._lock:
            if self._running:
                self._woken = True  # the running pass looks again before it sleeps
                return
        self._schedule(self._wall_time(due))

    def _wall_time(self, due: datetime) -> datetime:
        # APScheduler counts wall-clock time; the engine's clock may be another (tests): keep the distance.
        return datetime.now(UTC) + max(due - self.engine.clock.now(), timedelta(0))

    def _schedule(self, when: datetime) -> None:
        if self._stopping:
            return
        when = max(when, datetime.now(UTC))
        # Look and change under one lock, so a later time never replaces an earlier one.
        with self._schedule_lock:
            job = self._scheduler.get_job(_JOB_ID)
            if job is None:
                self._scheduler.add_job(self._run_due, "date", run_date=when, id=_JOB_ID)
            elif job.next_run_time is None or when < job.next_run_time:
                job.modify(next_run_time=when)

    def _skipped(self, event) -> None:  # noqa: ANN001 - APScheduler's event
        # The next pass was due while this one still counted as running, so APScheduler dropped it, and a
        # date job is gone once dropped: schedule it again, or this scheduler would never wake.
        if event.job_id == _JOB_ID:
            self._schedule(datetime.now(UTC) + timedelta(milliseconds=10))

    # --- running ---------------------------------------------------------------------------------------------

    def _run_due(self) -> None:
        with self._lock:
            self._running = True
            self._woken = False
        try:
            while True:
                acquired = self.engine.jobs.acquire(self.owner, self.batch_size)
                if acquired:
                    futures = [self._pool.submit(self.engine.jobs.execute, row, self.owner) for row in acquired]
                    wait(futures)
                    for future in futures:
                        result = future.result().result
                        self.counts[result] = self.counts.get(result, 0) + 1
                if len(acquired) < self.batch_size or self._stopping:
                    with self._lock:
                        if not self._woken:
                            break
                        self._woken = False
        except Exception:  # noqa: BLE001 - the scheduler must outlive a database hiccup
            log.exception("job scheduler %s: a pass failed; trying again shortly", self.owner)
        finally:
            with self._lock:
                self._running = False
        self._schedule(self._next_run())

    def _next_run(self) -> datetime:
        """The next due job's time, but at least every ``idle`` for jobs other processes schedule."""
        latest = datetime.now(UTC) + self.idle
        try:
            due = self.engine.jobs.next_due()
        except Exception:  # noqa: BLE001
            log.exception("job scheduler %s: could not read the next due time", self.owner)
            return latest
        if due is None:
            return latest
        return min(latest, self._wall_time(due))
