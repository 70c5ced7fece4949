"""The container build: the Dockerfile passes hadolint and installs what the app needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.config import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def test_hadolint_passes():
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_copies_what_the_app_reads_at_run_time():
    text = DOCKERFILE.read_text()
    for folder in ("engine", "web", "migrations", "processes", "forms"):
        assert f"COPY {folder} ./{folder}" in text, folder
    assert "requirements.lock" in text
    assert "gunicorn" in text and "web.wsgi:app" in text
    assert "PLUSMA_HOME=/app" in text
