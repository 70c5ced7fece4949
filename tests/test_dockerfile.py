"""The container build: the Dockerfile passes hadolint and installs what the app needs."""

from __future__ import annotations

import re
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


def test_dockerfile_installs_the_locked_front_end_packages_into_the_image():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", text, flags=re.MULTILINE)
    node_stages = [name for image, name in stages if image.startswith("node:")]
    assert node_stages, "no node build stage"
    stage = node_stages[0]
    stage_text = text.split(f"AS {stage}", 1)[1].split("\nFROM ", 1)[0]
    assert "COPY package.json package-lock.json ./" in stage_text
    assert re.search(r"^RUN npm ci\b", stage_text, flags=re.MULTILINE), "the stage must install with npm ci (the lock)"
    workdir = re.search(r"^WORKDIR (\S+)$", stage_text, flags=re.MULTILINE).group(1)
    # The whole tree, to PLUSMA_HOME/node_modules, where web/vendor.py reads it.
    assert f"COPY --from={stage} {workdir}/node_modules ./node_modules" in text
    assert (PROJECT_ROOT / "package-lock.json").is_file()
