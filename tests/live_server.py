"""A real ``plusma serve`` process per test database, for end-to-end tests with real HTTP clients.

Load it from a test module with ``pytest_plugins = ["tests.live_server"]``. The ``plusma_server``
fixture uses the ``database_url`` fixture of ``tests/conftest.py`` (SQLite and PostgreSQL), runs the
``plusma`` CLI as an operator would (``db upgrade``, ``user create``, ``serve``), waits until the REST
API answers and stops the server at teardown. Everything the CLI and the server print goes to a log
file in the test's ``tmp_path``; it is shown in start-up failures and, as a report section, whenever
a test that used the server fails.

Test modules also import the constants below, before pytest loads this module as a plugin; it has no
``assert`` statements to rewrite, so it opts out of assertion rewriting: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.config import PROJECT_ROOT

#: The users ``plusma user create`` makes before the server starts: name -> group.
ADMIN, CLERK, EXECUTOR = "admin", "klara", "ilze"
USERS = {ADMIN: "admin", CLERK: "kac", EXECUTOR: "l2"}
PASSWORD = "e2e-correct-horse-battery"

STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0
CLI_SECONDS = 120.0
#: How often to try another port when the one picked was taken meanwhile.
PORT_ATTEMPTS = 3


def plusma_command() -> list[str]:
    """The ``plusma`` console script of the running interpreter's environment, or the module."""
    script = Path(sys.executable).parent / "plusma"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "web.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A running ``plusma serve``; ``url`` is the REST root, ending in ``/engine-rest``."""

    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        return read_log(self.log_path)


def read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no output)"


def _fail(message: str, log_path: Path) -> None:
    pytest.fail(f"{message}\n--- plusma output ({log_path}) ---\n{read_log(log_path)}", pytrace=False)


def _environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PLUSMA_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    # The server deploys the tests' sample process at start-up, as it would an institution's processes/.
    sample = str(Path(__file__).parent / "fixtures" / "sample")
    env["PLUSMA_PROCESSES_DIR"] = env["PLUSMA_FORMS_DIR"] = sample
    for name in ("PLUSMA_HOST", "PLUSMA_PORT"):
        env.pop(name, None)
    return env


def run_cli(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run one ``plusma`` command to completion, its output appended to the log; fail on an error."""
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ plusma {' '.join(args)}\n")
        log.flush()
        try:
            result = subprocess.run(
                [*plusma_command(), *args],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=CLI_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            _fail(f"plusma {' '.join(args)} did not finish within {CLI_SECONDS:.0f} s", log_path)
    if result.returncode != 0:
        _fail(f"plusma {' '.join(args)} exited with {result.returncode}", log_path)


def _engine_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/engine", timeout=2) as response:
            return response.status == 200 and json.loads(response.read()) == [{"name": "default"}]
    except (OSError, ValueError):
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL if it does not end in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


def start_server(env: dict[str, str], log_path: Path) -> LiveServer:
    """``plusma serve`` on a free port; returns once ``GET /engine-rest/engine`` answers."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        url = f"http://127.0.0.1:{port}/engine-rest"
        mark = log_path.stat().st_size if log_path.exists() else 0
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"$ plusma serve --host 127.0.0.1 --port {port}\n")
            log.flush()
            process = subprocess.Popen(
                [*plusma_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if _engine_answers(url):
                return LiveServer(url=url, port=port, process=process, log_path=log_path)
            if process.poll() is not None:
                break
            time.sleep(0.2)
        else:
            stop(process)
            _fail(f"plusma serve did not answer GET {url}/engine within {STARTUP_SECONDS:.0f} s", log_path)
        stop(process)
        with log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(mark)
            port_taken = "Address already in use" in log.read()
        if not (port_taken and attempt < PORT_ATTEMPTS):
            _fail(f"plusma serve exited with {process.returncode} before it answered", log_path)
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.fixture
def plusma_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A real server on ``database_url`` with an admin, a front-office clerk and an executor."""
    log_path = tmp_path / "plusma-serve.log"
    env = _environment(database_url)
    run_cli(["db", "upgrade"], env, log_path)
    for user, group in USERS.items():
        run_cli(["user", "create", user, "--group", group, "--password", PASSWORD], env, log_path)
    server = start_server(env, log_path)
    try:
        yield server
    finally:
        stop(server.process)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """Attach the server's output to the report of a failed test that used ``plusma_server``."""
    report = yield
    server = getattr(item, "funcargs", {}).get("plusma_server")
    if isinstance(server, LiveServer) and report.failed:
        report.sections.append((f"plusma serve output ({server.log_path})", server.output()))
    return report
