"""The mail-send connector in a running process: a real local SMTP server receives the mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.identity import SYSTEM
from engine.notifications import EmailNotifier, SmtpSettings
from engine.process_engine import ProcessEngine
from engine.services.tasks import TaskQuery
from engine.storage.tables import history_event
from tests.conftest import FIXTURES
from tests.test_notifications import free_port, recording_smtp_server

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def mail_server():
    with recording_smtp_server() as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _notifier(port: int) -> EmailNotifier:
    return EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, timeout=5, sender="kac@iestade.example.lv"))


def _engine(settings, clock, port: int, notifier: EmailNotifier | None = None) -> ProcessEngine:
    engine = ProcessEngine(settings, clock=clock, notifier=notifier or _notifier(port))
    engine.deployments.deploy(
        {"mail_connector.bpmn": (FIXTURES / "mail_connector.bpmn").read_bytes()}, principal=SYSTEM, name="mail"
    )
    return engine


def _start(engine: ProcessEngine, **variables) -> dict:
    return engine.instances.start(
        SYSTEM, key="informet_pieprasitaju", business_key="PIE-2026-0042", variables=variables
    )


def _event_types(engine: ProcessEngine, instance_id: str) -> list[str]:
    with engine.db.transaction(write=False) as uow:
        return list(
            uow.execute(
                select(history_event.c.event_type)
                .where(history_event.c.instance_id == instance_id)
                .order_by(history_event.c.id)
            ).scalars()
        )


def test_the_service_task_sends_the_templated_mail_then_the_process_goes_on(settings, clock, mail_server):
    handler, port = mail_server
    engine = _engine(settings, clock, port)
    try:
        instance = _start(engine, epasts="janis.berzins@example.lv", valoda="lv", temats="Piekļuve VIS")
        # The mail is a job: nothing is sent inside the start request.
        assert handler.envelopes == []
        assert [j["kind"] for j in engine.jobs.list(instance_id=instance["id"])] == ["connector"]
        assert [o.result for o in engine.jobs.run_due("worker-a")] == ["done"]

        envelope, message = handler.only()
        assert envelope.rcpt_tos == ["janis.berzins@example.lv"]
        assert message["Subject"] == "Pieteikums Nr. PIE-2026-0042 reģistrēts"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "Jūsu pieteikums Nr. PIE-2026-0042 ir reģistrēts" in text and "Piekļuve VIS" in text

        tasks = engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance["id"]))
        assert [t["task_definition_key"] for t in tasks] == ["Task_sekot"]
        variables = engine.instances.variables(SYSTEM, instance["id"])
        assert variables["pazinojumaId"] == message["Message-ID"]
        assert "connector_completed" in _event_types(engine, instance["id"])
        assert engine.jobs.list() == []
    finally:
        engine.close()


def test_the_english_template_when_the_process_says_so(settings, clock, mail_server):
    handler, port = mail_server
    engine = _engine(settings, clock, port)
    try:
        _start(engine, epasts="john@example.com", valoda="en")
        engine.jobs.run_due("worker-a")
        _, message = handler.only()
        assert "PIE-2026-0042" in message["Subject"] and "reģistrēts" not in message["Subject"]
    finally:
        engine.close()


def test_mail_server_down_is_retried_then_an_incident_and_a_retry_after_it_is_back(settings, clock, mail_server):
    handler, port = mail_server
    down = free_port()  # nothing listens here
    notifier = _notifier(down)
    engine = _engine(settings, clock, down, notifier)
    try:
        instance = _start(engine, epasts="janis@example.lv", valoda="lv")
        results = []
        for _ in range(3):
            results += [o.result for o in engine.jobs.run_due("worker-a")]
            clock.advance(timedelta(minutes=5))
        assert results == ["retry", "retry", "incident"]
        (incident,) = engine.incidents.list(instance_id=instance["id"])
        assert incident["activity_id"] == "Pazinot" and f"127.0.0.1:{down}" in incident["incident_message"]
        assert engine.tasks.list(SYSTEM, TaskQuery(process_instance_id=instance["id"])) == []

        # The mail server is back (here: the notifier is pointed at the running one): retry, sent once.
        notifier.settings = SmtpSettings(host="127.0.0.1", port=port, timeout=5)
        (job,) = engine.jobs.list(instance_id=instance["id"])
        engine.jobs.set_retries(SYSTEM, job["id"], 1)
        assert [o.result for o in engine.jobs.run_due("worker-a")] == ["done"]
        handler.only()
        assert engine.incidents.list() == []
    finally:
        engine.close()


def test_a_template_error_is_an_incident_at_once(settings, clock, mail_server):
    _, port = mail_server
    engine = _engine(settings, clock, port)
    try:
        instance = _start(engine, epasts="nav-adrese", valoda="lv")
        assert [o.result for o in engine.jobs.run_due("worker-a")] == ["incident"]
        (incident,) = engine.incidents.list(instance_id=instance["id"])
        assert "nav-adrese" in incident["incident_message"]
    finally:
        engine.close()


def test_parameters_may_name_the_business_key(settings, clock, mail_server):
    handler, port = mail_server
    engine = _engine(settings, clock, port)
    try:
        model = (
            (FIXTURES / "mail_connector.bpmn")
            .read_bytes()
            .replace(
                b'<camunda:inputParameter name="template">request_registered</camunda:inputParameter>',
                b'<camunda:inputParameter name="subject">Pieteikums ${businessKey}</camunda:inputParameter>'
                b'<camunda:inputParameter name="text">Nr. ${businessKey}: ${temats}</camunda:inputParameter>',
            )
        )
        engine.deployments.deploy({"mail_connector.bpmn": model}, principal=SYSTEM, name="mail")
        _start(engine, epasts="janis@example.lv", valoda="lv", temats="Parole")
        assert [o.result for o in engine.jobs.run_due("worker-a")] == ["done"]
        _, message = handler.only()
        assert message["Subject"] == "Pieteikums PIE-2026-0042"
        assert "Nr. PIE-2026-0042: Parole" in message.get_body(preferencelist=("plain",)).get_content()
    finally:
        engine.close()
