"""A ``plusma worker`` killed while it holds a job: its lease expires and another worker does the job once.

The job is the mail-send connector; the first worker's mail server accepts the connection and never
answers, so the worker is stuck holding the lease when it is killed (SIGKILL: no clean-up at all).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from engine.config import PROJECT_ROOT
from engine.identity import SYSTEM
from engine.process_engine import ProcessEngine
from engine.storage.tables import history_event, incident, job
from tests.conftest import FIXTURES
from tests.test_notifications import Recorder, free_port


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _scalar(engine: ProcessEngine, query):
    with engine.db.transaction(write=False) as uow:
        return uow.execute(query).scalar()


def _worker(settings, smtp_port: int, log) -> subprocess.Popen:
    env = dict(
        os.environ,
        PLUSMA_DATABASE_URL=settings.database_url,
        PLUSMA_SMTP_HOST="127.0.0.1",
        PLUSMA_SMTP_PORT=str(smtp_port),
        PLUSMA_SMTP_TIMEOUT="120",
        PLUSMA_JOB_LEASE_SECONDS="2",
        PYTHONUNBUFFERED="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", "worker", "--threads", "2"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_a_killed_workers_job_is_done_once_by_another_worker(settings, tmp_path):
    mute = socket.socket()  # accepts connections (kernel backlog) and never greets: smtplib waits
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)
    recorder = Recorder()
    smtp_port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    engine = ProcessEngine(settings)
    stuck = other = None
    try:
        engine.deployments.deploy(
            {"mail_connector.bpmn": (FIXTURES / "mail_connector.bpmn").read_bytes()}, principal=SYSTEM, name="mail"
        )
        instance = engine.instances.start(
            SYSTEM,
            key="informet_pieprasitaju",
            business_key="PIE-9",
            variables={"epasts": "janis@example.lv", "valoda": "lv"},
        )
        held = select(job.c.lock_owner).where(job.c.instance_id == instance["id"])
        with open(tmp_path / "stuck.log", "w+") as stuck_log, open(tmp_path / "other.log", "w+") as other_log:
            stuck = _worker(settings, mute.getsockname()[1], stuck_log)
            assert _wait_until(lambda: _scalar(engine, held) is not None, 30), "the first worker never took the job"
            owner = _scalar(engine, held)
            stuck.send_signal(signal.SIGKILL)
            stuck.wait(timeout=10)
            assert _scalar(engine, held) == owner, "a killed worker cannot release anything"

            other = _worker(settings, smtp_port, other_log)
            left = select(func.count()).select_from(job)
            assert _wait_until(lambda: _scalar(engine, left) == 0, 60), other_log.read()
            other.send_signal(signal.SIGTERM)
            assert other.wait(timeout=30) == 0
        assert len(recorder.envelopes) == 1
        completed = select(func.count()).where(
            history_event.c.instance_id == instance["id"], history_event.c.event_type == "connector_completed"
        )
        assert _scalar(engine, completed) == 1
        assert _scalar(engine, select(func.count()).select_from(incident)) == 0
    finally:
        for process in (stuck, other):
            if process is not None and process.poll() is None:
                process.kill()
        controller.stop()
        mute.close()
        engine.close()
