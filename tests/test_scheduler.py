"""The job scheduler: APScheduler in this process, and ``plusma worker`` processes racing on one database.

Timers here are already due when the scheduler looks (the engine's clock is moved, or the due dates lie
in the past), so nothing waits for a timer's duration; the tests only wait for threads and processes
to do their work, with generous limits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.config import PROJECT_ROOT
from engine.identity import SYSTEM
from engine.process_engine import ProcessEngine
from engine.scheduler import JobScheduler
from engine.storage.tables import history_event, job
from tests.conftest import FIXTURES, PASSWORD

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _fired(engine: ProcessEngine) -> dict[str, int]:
    """timer_fired events per instance."""
    with engine.db.transaction(write=False) as uow:
        rows = uow.execute(
            select(history_event.c.instance_id, func.count())
            .where(history_event.c.event_type == "timer_fired")
            .group_by(history_event.c.instance_id)
        )
        return {instance_id: count for instance_id, count in rows}


def _jobs_left(engine: ProcessEngine) -> int:
    with engine.db.transaction(write=False) as uow:
        return uow.execute(select(func.count()).select_from(job)).scalar_one()


def _start_waiting(engine: ProcessEngine, due: datetime, count: int) -> list[str]:
    engine.deployments.deploy(
        {"timer_catch.bpmn": (FIXTURES / "timer_catch.bpmn").read_bytes()}, principal=SYSTEM, name="timers"
    )
    return [
        engine.instances.start(
            SYSTEM, key="gaidit_un_aprekinat", variables={"termins": due.isoformat(), "dalitajs": 2}
        )["id"]
        for _ in range(count)
    ]


def test_the_scheduler_fires_jobs_that_fell_due_while_it_was_down_when_it_starts(settings):
    clock = ManualClock(START)
    engine = ProcessEngine(settings, clock=clock)
    try:
        instances = _start_waiting(engine, START + timedelta(minutes=5), 5)
        clock.set(START + timedelta(hours=1))
        scheduler = JobScheduler(engine, threads=2, idle_seconds=60).start()
        try:
            assert _wait_until(lambda: _jobs_left(engine) == 0)
        finally:
            scheduler.shutdown()
        assert _fired(engine) == {i: 1 for i in instances}
        assert scheduler.counts == {"done": 5}
    finally:
        engine.close()


def test_a_job_scheduled_in_this_process_wakes_the_scheduler_when_it_falls_due(settings):
    engine = ProcessEngine(settings)  # the wall clock: this timer is due in 0.3 s of real time
    try:
        # Checks for other processes' jobs only every 10 minutes: only the wake-up can fire the timer.
        scheduler = JobScheduler(engine, threads=2, idle_seconds=600).start()
        try:
            later = datetime.now(UTC) + timedelta(minutes=5)
            assert _wait_until(lambda: (scheduler.next_run_time or START) > later), "the first pass did not end"
            instances = _start_waiting(engine, datetime.now(UTC) + timedelta(seconds=0.3), 1)
            assert _jobs_left(engine) == 1
            assert _wait_until(lambda: _jobs_left(engine) == 0, timeout=20)
        finally:
            scheduler.shutdown()
        assert _fired(engine) == {instances[0]: 1}
    finally:
        engine.close()


def test_two_plusma_worker_processes_fire_every_timer_exactly_once(settings, tmp_path):
    # The instances are made an hour "earlier", so however slow the machine, none of their timers is due
    # while they are made; the workers (on the wall clock) find all of them due at once and race.
    engine = ProcessEngine(settings, clock=ManualClock(datetime.now(UTC) - timedelta(hours=1)))
    engine.users.create_user("admin", PASSWORD, groups=["admin"])
    try:
        instances = _start_waiting(engine, datetime.now(UTC) + timedelta(seconds=2), 40)
        assert _jobs_left(engine) == 40
        env = dict(os.environ, PLUSMA_DATABASE_URL=settings.database_url, PYTHONUNBUFFERED="1")
        logs = [open(tmp_path / f"worker{i}.log", "w+") for i in range(2)]  # noqa: SIM115
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "web.cli", "worker", "--threads", "3"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for log in logs
        ]
        try:
            assert _wait_until(lambda: _jobs_left(engine) == 0, timeout=60), "the workers did not fire every timer"
            # On a loaded machine one worker may fire everything before the other has started; a SIGTERM
            # before a worker sets its handler would kill it instead of stopping it.
            assert _wait_until(
                lambda: all("is running due jobs" in (tmp_path / f"worker{i}.log").read_text() for i in range(2)),
                timeout=60,
            ), "a worker did not start"
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            codes = [worker.wait(timeout=30) for worker in workers]
        outputs = []
        for log in logs:
            log.seek(0)
            outputs.append(log.read())
            log.close()
        assert codes == [0, 0], outputs
        assert all("stopped; jobs run" in text for text in outputs), outputs
        assert _fired(engine) == {i: 1 for i in instances}
    finally:
        engine.close()


def test_worker_command_exists_in_the_help():
    result = subprocess.run(
        [sys.executable, "-m", "web.cli", "worker", "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and "--threads" in result.stdout


class _AlwaysDueJobs:
    """Something is always due (e.g. another worker holds it): the scheduler passes back to back."""

    def __init__(self) -> None:
        self.passes = 0

    def acquire(self, owner: str, limit: int) -> list:
        self.passes += 1
        return []

    def next_due(self) -> datetime:
        return datetime.now(UTC) - timedelta(seconds=1)


class _StubEngine:
    def __init__(self) -> None:
        from engine.clock import Clock
        from engine.services.job_signal import JobSignal

        self.jobs = _AlwaysDueJobs()
        self.clock = Clock()
        self.job_signal = JobSignal()


def test_the_scheduler_survives_a_pass_that_apscheduler_dropped_as_still_running():
    """A pass scheduled while the last one still counts as running is dropped by APScheduler; the scheduler
    must schedule again instead of never waking. Tiny thread switch intervals make that race frequent."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    engine = _StubEngine()
    scheduler = JobScheduler(engine, threads=1, idle_seconds=1.0).start()  # type: ignore[arg-type]
    try:
        last, still = -1, 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if engine.jobs.passes == last:
                still += 1
                assert still < 10, f"the scheduler stalled after {last} passes"
            else:
                last, still = engine.jobs.passes, 0
        assert engine.jobs.passes > 100
    finally:
        sys.setswitchinterval(previous)
        scheduler.shutdown(wait_for_jobs=False)
