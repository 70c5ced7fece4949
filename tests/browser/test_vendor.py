"""The front-end packages served from node_modules (web/vendor.py): only the built files the UI loads."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from engine.config import PROJECT_ROOT, Settings
from web import vendor

PACKAGE_JSON = PROJECT_ROOT / "package.json"
PACKAGE_LOCK = PROJECT_ROOT / "package-lock.json"
#: The packages and the release lines the UI is written for (htmx 4 changed its API).
PINNED_LINES = {"bpmn-js": r"18\.\d+\.\d+", "axe-core": r"4\.\d+\.\d+", "htmx.org": r"2\.0\.\d+"}
ONE_YEAR = 365 * 24 * 3600


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    from web.app import create_app

    application = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'plusma.sqlite'}", database_url_given=True))
    application.config["TESTING"] = True
    # Until web/app.py registers it, the tests do.
    if "vendor" not in application.blueprints:
        application.register_blueprint(vendor.blp)
    yield application
    application.extensions["plusma"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_package_json_pins_exact_versions_of_the_release_lines_the_ui_needs():
    dependencies = json.loads(PACKAGE_JSON.read_text())["dependencies"]
    assert set(dependencies) == set(PINNED_LINES)
    for package, line in PINNED_LINES.items():
        assert re.fullmatch(line, dependencies[package]), f"{package} {dependencies[package]} is not {line}"
    locked = json.loads(PACKAGE_LOCK.read_text())["packages"]
    for package, version in dependencies.items():
        assert locked[""]["dependencies"][package] == version, f"package-lock.json is stale for {package}"
        assert locked[f"node_modules/{package}"]["version"] == version, package


def test_installed_packages_are_the_locked_ones():
    locked = json.loads(PACKAGE_LOCK.read_text())["packages"]
    for package in PINNED_LINES:
        manifest = vendor.NODE_MODULES / package / "package.json"
        assert manifest.is_file(), f"{manifest} is missing: run `npm ci --no-audit --no-fund` in {PROJECT_ROOT}"
        installed = json.loads(manifest.read_text())["version"]
        assert installed == locked[f"node_modules/{package}"]["version"], f"{package}: run `npm ci` again"


@pytest.mark.parametrize("filename", sorted(vendor.SERVED_FILES))
def test_each_served_file_comes_whole_without_authentication_and_is_cached_for_a_year(client, filename):
    response = client.get(f"/vendor/{filename}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data() == (vendor.NODE_MODULES / filename).read_bytes()
    assert response.cache_control.max_age == ONE_YEAR
    assert response.cache_control.public and response.cache_control.immutable
    expected_type = {".js": "text/javascript", ".css": "text/css", ".woff2": "font/woff2", ".svg": "image/svg+xml"}
    suffix = PurePosixPath(filename).suffix
    if suffix in expected_type:
        assert response.mimetype == expected_type[suffix]


def test_a_served_file_answers_304_when_the_browser_has_it(client):
    url = "/vendor/htmx.org/dist/htmx.min.js"
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_the_fonts_bpmn_css_refers_to_are_served(client):
    css_url = "/vendor/bpmn-js/dist/assets/bpmn-font/css/bpmn.css"
    css = client.get(css_url).get_data(as_text=True)
    font_urls = {urlsplit(urljoin(css_url, url)).path for url in re.findall(r"url\('([^']+)'\)", css)}
    assert len(font_urls) == 5, font_urls
    for url in sorted(font_urls):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/bpmn-js/package.json",
        "/vendor/bpmn-js/dist/bpmn-modeler.production.min.js",
        "/vendor/bpmn-js/dist/bpmn-navigated-viewer.development.js",
        "/vendor/axe-core/axe.js",
        "/vendor/htmx.org/dist/htmx.min.js.gz",
        "/vendor/preact/dist/preact.js",
        "/vendor/",
        "/vendor/bpmn-js/dist/assets/",
        "/vendor/../pyproject.toml",
        "/vendor/bpmn-js/dist/../package.json",
        "/vendor/htmx.org/dist/htmx.min.js/../../package.json",
        "/vendor/%2e%2e/%2e%2e/etc/passwd",
        "/vendor//etc/passwd",
        "/vendor/axe-core/../../pyproject.toml",
    ],
)
def test_anything_else_is_404(client, path):
    # Werkzeug redirects "//" to "/" first; where the redirect leads is what counts.
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404, path
    assert b"root:" not in response.get_data() and b"[project]" not in response.get_data()


def test_missing_node_modules_is_404_saying_to_run_npm_ci(app, client, tmp_path):
    app.config["PLUSMA_NODE_MODULES"] = tmp_path / "node_modules"
    response = client.get("/vendor/axe-core/axe.min.js")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "npm ci" in body and str(tmp_path / "node_modules") in body


def test_vendor_url_carries_the_installed_version(app, client):
    version = json.loads((vendor.NODE_MODULES / "htmx.org" / "package.json").read_text())["version"]
    with app.test_request_context():
        url = vendor.vendor_url("htmx.org/dist/htmx.min.js")
    assert url == f"/vendor/htmx.org/dist/htmx.min.js?v={version}"
    assert client.get(url).status_code == 200


def test_vendor_url_without_the_package_installed_has_no_version(app, tmp_path):
    app.config["PLUSMA_NODE_MODULES"] = tmp_path / "node_modules"
    with app.test_request_context():
        assert vendor.vendor_url("axe-core/axe.min.js") == "/vendor/axe-core/axe.min.js"


def test_vendor_url_refuses_a_file_that_is_not_served(app):
    with app.test_request_context(), pytest.raises(ValueError, match="bpmn-modeler"):
        vendor.vendor_url("bpmn-js/dist/bpmn-modeler.production.min.js")


def test_templates_have_vendor_url(app):
    with app.test_request_context():
        rendered = render_template_string("{{ vendor_url('axe-core/axe.min.js') }}")
    assert rendered.startswith("/vendor/axe-core/axe.min.js?v=4.")


def test_the_set_up_commands_install_the_front_end_packages_and_ci_runs_the_second():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quick_start, flags=re.DOTALL)
    assert len(blocks) == 1, "Quick start has exactly one code block"
    serve, test = blocks[0].strip().splitlines()
    assert "npm ci --no-audit --no-fund" in serve and serve.endswith(".venv/bin/plusma serve")
    assert "npm ci --no-audit --no-fund" in test and "apt-get install -y --no-install-recommends chromium" in test
    assert test.endswith(".venv/bin/python -m pytest")
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip("\n").splitlines()[-1] == test
