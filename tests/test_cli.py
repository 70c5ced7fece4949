"""The ``plusma`` command line."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from engine.config import Settings
from engine.process_engine import ProcessEngine
from engine.roles import ROLES
from tests.conftest import SAMPLE_DIR
from web import cli

DEMO_LINE = re.compile(r"^\s+(demo-\S+)\s+(\S+)\s+", re.MULTILINE)


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """The embedded default: no PLUSMA_DATABASE_URL, data in a temporary folder."""
    monkeypatch.delenv("PLUSMA_DATABASE_URL", raising=False)
    monkeypatch.setenv("PLUSMA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PLUSMA_PROCESSES_DIR", str(SAMPLE_DIR))
    monkeypatch.setenv("PLUSMA_FORMS_DIR", str(SAMPLE_DIR))
    return Settings.from_env()


def test_prepare_on_a_new_embedded_database_creates_demo_users_once(embedded):
    out = io.StringIO()
    cli.prepare(embedded, out=out)
    text = out.getvalue()
    demo = dict(DEMO_LINE.findall(text))
    assert set(demo) == {f"demo-{group}" for group in ROLES}
    assert "Deployed pieteikuma_apstrade version 1" in text
    engine = ProcessEngine(embedded)
    try:
        principal = engine.users.authenticate("demo-kac", demo["demo-kac"])
        assert principal.groups == frozenset({"kac"})
        assert engine.users.authenticate("demo-admin", demo["demo-admin"]).is_admin
        assert len({*demo.values()}) == len(demo), "every demo user gets its own random password"
    finally:
        engine.close()

    again = io.StringIO()
    cli.prepare(embedded, out=again)
    assert "demo-" not in again.getvalue() and "Deployed" not in again.getvalue()


def test_prepare_never_creates_demo_users_on_a_named_database(database_url, monkeypatch):
    monkeypatch.setenv("PLUSMA_DATABASE_URL", database_url)
    monkeypatch.setenv("PLUSMA_PROCESSES_DIR", str(SAMPLE_DIR))
    monkeypatch.setenv("PLUSMA_FORMS_DIR", str(SAMPLE_DIR))
    out = io.StringIO()
    cli.prepare(Settings.from_env(), out=out)
    assert "demo-" not in out.getvalue()
    engine = ProcessEngine(Settings.from_env())
    try:
        assert engine.users.user_count() == 0
        assert engine.definitions.latest("pieteikuma_apstrade")["version"] == 1
    finally:
        engine.close()


def test_deploy_and_user_create(database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PLUSMA_DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert cli.main(["user", "create", "anna", "--group", "kac", "--group", "l2"]) == 0
    assert "Created user anna" in capsys.readouterr().out
    assert cli.main(["user", "create", "anna", "--password", "another-password"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["user", "create", "bob", "--password", "short"]) == 1
    assert "at least 8" in capsys.readouterr().err

    assert cli.main(["deploy", str(SAMPLE_DIR)]) == 0
    assert "Deployed pieteikuma_apstrade version 1" in capsys.readouterr().out
    assert cli.main(["deploy", str(SAMPLE_DIR)]) == 0
    assert "Nothing changed" in capsys.readouterr().out

    bad = tmp_path / "bad.bpmn"
    bad.write_text((SAMPLE_DIR / "pieteikuma_apstrade.bpmn").read_text().replace("eskalet == True", "import os"))
    assert cli.main(["deploy", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing was stored" in err and "bad.bpmn" in err and "Flow_eskalet" in err
    assert cli.main(["deploy", str(tmp_path / "missing.bpmn")]) == 1
    assert "no such file" in capsys.readouterr().err

    engine = ProcessEngine(Settings.from_env())
    try:
        assert engine.users.get("anna")["groups"] == ["kac", "l2"]
        assert engine.users.authenticate("anna", "a-long-password").user_id == "anna"
        assert [d["version"] for d in engine.definitions.list(key="pieteikuma_apstrade")] == [1]
    finally:
        engine.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_on_the_embedded_default(tmp_path):
    """What the README's first Quick start command does: serve, print demo users, answer with them."""
    env = {k: v for k, v in os.environ.items() if k != "PLUSMA_DATABASE_URL"}
    env["PLUSMA_DATA_DIR"] = str(tmp_path / "data")
    env["PLUSMA_PROCESSES_DIR"] = env["PLUSMA_FORMS_DIR"] = str(SAMPLE_DIR)
    port = _free_port()
    log = tmp_path / "serve.log"
    plusma = Path(sys.executable).with_name("plusma")
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(plusma), "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        base = f"http://127.0.0.1:{port}/engine-rest"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/engine", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        demo = dict(DEMO_LINE.findall(log.read_text()))
        response = requests.get(f"{base}/task", auth=("demo-kac", demo["demo-kac"]), timeout=5)
        assert response.status_code == 200 and response.json() == []
        assert requests.get(f"{base}/task", auth=("demo-kac", "wrong"), timeout=5).status_code == 401
        definitions = requests.get(f"{base}/process-definition", auth=("demo-admin", demo["demo-admin"]), timeout=5)
        assert [d["key"] for d in definitions.json()] == ["pieteikuma_apstrade"]
        assert (tmp_path / "data" / "plusma.sqlite").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
