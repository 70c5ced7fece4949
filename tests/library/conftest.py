"""Scenario tests of the shipped process library (``processes/``, ``forms/``): shared fixtures and the
sequence-flow coverage check.

Each scenario drives a shipped process through the public REST API as its users would: the right role
claims and completes each task with realistic data; timers fire by moving the engine's clock and running
due jobs; e-mails go to a real local SMTP server.

Flow coverage: every ``activity_started`` history event names the element the token came from, so the
(source, target) pairs the scenarios took are recorded. When the whole library suite runs, every sequence
flow of every shipped process must have been taken by some test; the report is written to
``test-artifacts/flow-coverage.txt`` and an untaken flow fails the run.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy import select

from engine.clock import ManualClock
from engine.config import PROJECT_ROOT
from engine.identity import SYSTEM
from engine.notifications import EmailNotifier, SmtpSettings
from engine.process_engine import ProcessEngine
from engine.services import history
from engine.storage.tables import history_event
from engine.variables import parse_date, variables_from_typed, variables_to_typed
from tests.conftest import PASSWORD, ApiClient
from tests.test_notifications import Recorder, recording_smtp_server
from web.app import create_app
from web.cli import collect_files

PROCESSES = PROJECT_ROOT / "processes"
FORMS = PROJECT_ROOT / "forms"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
RIGA = ZoneInfo("Europe/Riga")
#: Monday 23 November 2026, 09:00 in Riga: a working day, with Proclamation Day (18 Nov) just behind.
START = datetime(2026, 11, 23, 9, 0, tzinfo=RIGA)

#: One user per role (group id -> user name); every one has the password of tests.conftest.
USERS = {
    "kac": "klara",
    "l2": "ilze",
    "l3": "lauris",
    "pakalpojuma-turetajs": "tenis",
    "procesa-vaditajs": "vita",
    "konsultativa-padome": "kaspars",
    "portfela-vaditajs": "pauls",
    "admin": "admin",
}

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

#: Camunda's user task priority (higher is more urgent, 50 the default) for the methodology's priority (1 critical
#: … 4 low), as ``prioritate.dmn`` decides it in ``uzdevuma_prioritate``.
TASK_PRIORITY = {1: 90, 2: 70, 3: 50, 4: 30}


# --- flow coverage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    file: str
    process: str
    id: str
    source: str
    target: str
    name: str | None


def shipped_flows() -> list[Flow]:
    """Every sequence flow of every shipped process (and of the subprocesses embedded in it)."""
    flows = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
                flows.append(
                    Flow(
                        path.name,
                        process.get("id"),
                        flow.get("id"),
                        flow.get("sourceRef"),
                        flow.get("targetRef"),
                        flow.get("name"),
                    )
                )
    return flows


#: (process key, source element, target element) taken by some scenario in this session.
TAKEN: set[tuple[str, str, str]] = set()


@pytest.fixture(scope="session", autouse=True)
def _record_taken_flows() -> Iterator[None]:
    original = history.append

    def recording(uow, context, entries, *, timestamp, user_id) -> None:  # noqa: ANN001
        entries = list(entries)
        for entry in entries:
            started = entry.event_type in ("activity_started", "activity_completed")
            source = (entry.data or {}).get("from") if started else None
            if source and context.definition_key:
                TAKEN.add((context.definition_key, source, entry.activity_id))
        original(uow, context, entries, timestamp=timestamp, user_id=user_id)

    history.append = recording
    yield
    history.append = original


def flow_coverage() -> tuple[list[Flow], list[Flow]]:
    """(taken, untaken) shipped flows."""
    taken, untaken = [], []
    for flow in shipped_flows():
        (taken if (flow.process, flow.source, flow.target) in TAKEN else untaken).append(flow)
    return taken, untaken


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not getattr(session.config, "_plusma_whole_library", False) or session.testsfailed:
        return
    taken, untaken = flow_coverage()
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        f"Sequence flows of the shipped processes taken by the scenario tests: {len(taken)} of "
        f"{len(taken) + len(untaken)}",
        "",
    ]
    for flow in sorted(taken + untaken, key=lambda f: (f.file, f.process, f.id)):
        mark = "taken  " if flow in taken else "UNTAKEN"
        label = f" ({flow.name})" if flow.name else ""
        lines.append(f"{mark} {flow.file} {flow.process} {flow.id}: {flow.source} -> {flow.target}{label}")
    (ARTIFACTS / "flow-coverage.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if untaken:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_line(f"Sequence flows no scenario test takes ({len(untaken)}):", red=True)
            for flow in untaken:
                reporter.write_line(f"  {flow.file} {flow.id}: {flow.source} -> {flow.target}", red=True)
            reporter.write_line(f"Report: {ARTIFACTS / 'flow-coverage.txt'}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    # The coverage check applies when every library scenario file runs whole (not with -k, -m, a test id or
    # a single file), so a partial run is not failed for flows that other tests take.
    library = Path(__file__).parent
    files = {p.name for p in library.glob("test_*.py")}
    selected = {Path(str(item.fspath)).name for item in items if Path(str(item.fspath)).parent == library}
    partial = bool(config.option.keyword or config.option.markexpr) or any("::" in str(a) for a in config.args)
    config._plusma_whole_library = bool(files) and files <= selected and not partial


# --- the library under test ------------------------------------------------------------------------------


@dataclass
class Library:
    """The shipped processes deployed on a fresh database, with a user per role and a clock to move."""

    engine: ProcessEngine
    clock: ManualClock
    client: Any
    mail: Recorder
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def api(self, role: str = "admin") -> ApiClient:
        return ApiClient(self.client, USERS[role])

    # time and jobs
    def now(self) -> datetime:
        return self.clock.now().astimezone(RIGA)

    def run_jobs(self) -> list[str]:
        """Run every job due now (timers, e-mails), as the scheduler would; their results."""
        results = []
        while True:
            outcomes = self.engine.jobs.run_due("scenario-worker")
            if not outcomes:
                return results
            results += [o.result for o in outcomes]

    def advance(self, delta: timedelta | None = None, *, to: datetime | None = None) -> list[str]:
        """Move the clock (by ``delta`` or to ``to``) and run what fell due."""
        self.clock.set(to if to is not None else self.clock.now() + delta)
        return self.run_jobs()

    # instances
    def start(self, key: str, *, role: str = "kac", business_key: str | None = None, **variables: Any) -> dict:
        business_key = business_key or f"PIE-2026-{next(self._counter):04d}"
        response = self.api(role).post(
            f"/engine-rest/process-definition/key/{key}/start",
            json={"businessKey": business_key, "variables": variables_to_typed(variables)},
        )
        assert response.status_code == 200, response.get_json()
        self.run_jobs()
        return response.get_json()

    def instances(self, key: str) -> list[dict]:
        response = self.api().get("/engine-rest/process-instance", query_string={"processDefinitionKey": key})
        return response.get_json()

    def state(self, instance_id: str) -> str:
        """ACTIVE, COMPLETED or EXTERNALLY_TERMINATED."""
        return self.api().get(f"/engine-rest/history/process-instance/{instance_id}").get_json()["state"]

    def variables(self, instance_id: str) -> dict[str, Any]:
        typed = self.api().get(f"/engine-rest/process-instance/{instance_id}/variables").get_json()
        return variables_from_typed(typed)

    def tasks(self, instance_id: str) -> list[dict]:
        return self.api().get("/engine-rest/task", query_string={"processInstanceId": instance_id}).get_json()

    def task(self, instance_id: str, key: str) -> dict:
        """The one open task with this id in the model."""
        found = [t for t in self.tasks(instance_id) if t["taskDefinitionKey"] == key]
        open_now = [t["taskDefinitionKey"] for t in self.tasks(instance_id)]
        assert len(found) == 1, f"expected one open task {key!r}, open: {open_now}"
        return found[0]

    def complete(self, instance_id: str, key: str, role: str, **variables: Any) -> None:
        """The role's user claims the task, sees it in their list, and completes it with ``variables``."""
        task = self.task(instance_id, key)
        api = self.api(role)
        listed = api.get("/engine-rest/task", query_string={"processInstanceId": instance_id}).get_json()
        assert task["id"] in [t["id"] for t in listed], f"{USERS[role]} ({role}) does not see task {key}"
        claimed = api.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": USERS[role]})
        assert claimed.status_code == 204, claimed.get_json()
        done = api.post(f"/engine-rest/task/{task['id']}/complete", json={"variables": variables_to_typed(variables)})
        assert done.status_code == 204, done.get_json()
        self.run_jobs()

    def message(self, name: str, *, business_key: str | None = None, role: str = "admin", **variables: Any) -> list:
        response = self.api(role).post(
            "/engine-rest/message",
            json={
                "messageName": name,
                "businessKey": business_key,
                "processVariables": variables_to_typed(variables),
                "resultEnabled": True,
            },
        )
        assert response.status_code == 200, response.get_json()
        self.run_jobs()
        return response.get_json()

    # records
    def history(self, instance_id: str) -> list[dict]:
        with self.engine.db.transaction(write=False) as uow:
            rows = uow.execute(
                select(history_event).where(history_event.c.instance_id == instance_id).order_by(history_event.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def activities(self, instance_id: str) -> list[str]:
        """Ids of the elements the instance completed, in order."""
        return [e["activity_id"] for e in self.history(instance_id) if e["event_type"] == "activity_completed"]

    def mails(self, to: str | None = None) -> list[EmailMessage]:
        messages = [message_from_bytes(e.content, policy=policy.default) for e in self.mail.envelopes]
        return [m for m in messages if to is None or to in str(m["To"])]

    def incidents(self) -> list[dict]:
        return self.api().get("/engine-rest/incident").get_json()


@pytest.fixture
def library(settings, tmp_path) -> Iterator[Library]:
    with recording_smtp_server() as (recorder, port):
        clock = ManualClock(START)
        notifier = EmailNotifier(SmtpSettings(host="127.0.0.1", port=port, timeout=5, sender="kac@iestade.example.lv"))
        engine = ProcessEngine(settings, clock=clock, notifier=notifier)
        try:
            for group, user in USERS.items():
                engine.users.create_user(user, PASSWORD, groups=[group])
            files = collect_files([p for p in (PROCESSES, FORMS) if p.is_dir()])
            if files:
                engine.deployments.deploy(files, principal=SYSTEM, name="process-library")
            app = create_app(engine=engine)
            app.config["TESTING"] = True
            yield Library(engine, clock, app.test_client(), recorder)
        finally:
            engine.close()


# --- small helpers the scenario tests share --------------------------------------------------------------


def due(row: dict) -> datetime:
    """A job row's due time, aware in UTC (SQLite hands back naive UTC)."""
    value = row["due"]
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timer_due(library: Library, instance_id: str, activity_id: str) -> datetime:
    """When the instance's timer on ``activity_id`` falls due."""
    (row,) = [j for j in library.engine.jobs.list(instance_id=instance_id) if j["activity_id"] == activity_id]
    return due(row)


def events(library: Library, instance_id: str, event_type: str) -> list[dict]:
    """The instance's history events of one type, in order."""
    return [e for e in library.history(instance_id) if e["event_type"] == event_type]


def body(message: EmailMessage) -> str:
    """A received mail's plain-text body."""
    return message.get_body(preferencelist=("plain",)).get_content()


def task_due(task: dict) -> datetime | None:
    """A REST task row's ``due`` (Camunda's date format) as an aware datetime; None for a task without one."""
    return parse_date(task["due"]) if task["due"] else None


def assert_due_at_termins(library: Library, instance_id: str, key: str) -> dict:
    """The open task ``key``, as the inbox reads its row (``GET /engine-rest/task``), is due at the instance's
    deadline ``termins`` and carries the Camunda priority of the instance's ``prioritate`` (Camunda's default, 50,
    in a process without the priority decision); the row."""
    task = library.task(instance_id, key)
    data = library.variables(instance_id)
    assert task_due(task) == datetime.fromisoformat(data["termins"]), (
        f"{key} is due {task['due']}, not {data['termins']}"
    )
    expected = TASK_PRIORITY[data["prioritate"]] if "prioritate" in data else 50
    assert task["priority"] == expected, (
        f"{key} has priority {task['priority']}, not {expected} (prioritate {data['prioritate']})"
    )
    return task


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()}
