"""Test fixtures: every engine and API test runs on SQLite and on PostgreSQL.

Each test gets a fresh database copied from a migrated template (a file copy on SQLite,
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests are isolated and still fast.
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.config import Settings
from engine.process_engine import ProcessEngine
from engine.storage import migrate

POSTGRES_ADMIN_URL = os.environ.get("PLUSMA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct-horse-battery"
FIXTURES = Path(__file__).parent / "fixtures"


def _pg_admin():
    url = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template():
    name = f"plusma_tpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    migrate.upgrade(_pg_url(name))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "plusma.sqlite"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"plusma_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        database_url_given=True,
        processes_dir=SAMPLE_DIR,
        forms_dir=SAMPLE_DIR,
        data_dir=tmp_path,
        secret_key="test-session-key",
    )


@pytest.fixture
def engine(settings):
    process_engine = ProcessEngine(settings)
    users = process_engine.users
    users.create_user("admin", PASSWORD, groups=["admin"])
    users.create_user("klara", PASSWORD, groups=["kac"])
    users.create_user("karlis", PASSWORD, groups=["kac"])
    users.create_user("ilze", PASSWORD, groups=["l2"])
    users.create_user("outsider", PASSWORD, groups=["l3"])
    yield process_engine
    process_engine.close()


@pytest.fixture
def app(engine):
    from web.app import create_app

    application = create_app(engine=engine)
    application.config["TESTING"] = True
    return application


class ApiClient:
    """A Flask test client that signs requests with HTTP Basic as a given user."""

    def __init__(self, client, user: str | None) -> None:
        self.client = client
        self.user = user

    def as_user(self, user: str | None) -> ApiClient:
        return ApiClient(self.client, user)

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.user:
            token = base64.b64encode(f"{self.user}:{PASSWORD}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return headers

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def deploy(self, *paths: Path | tuple[str, bytes], name: str = "test", **form):
        data = {"deployment-name": name, **form}
        files = []
        for item in paths:
            if isinstance(item, tuple):
                filename, content = item
            else:
                filename, content = item.name, item.read_bytes()
            files.append((filename, content))
        import io

        for i, (filename, content) in enumerate(files):
            data[f"file{i}"] = (io.BytesIO(content), filename)
        return self.post("/engine-rest/deployment/create", data=data, content_type="multipart/form-data")


@pytest.fixture
def api(app) -> ApiClient:
    return ApiClient(app.test_client(), "admin")


#: A small request-handling process with three forms: what engine and API tests run (the shipped library
#: in processes/ has its own tests).
SAMPLE_DIR = FIXTURES / "sample"
SAMPLE_PROCESS = SAMPLE_DIR / "pieteikuma_apstrade.bpmn"
SAMPLE_FORMS = sorted(SAMPLE_DIR.glob("pieteikuma-*.form")) + [SAMPLE_DIR / "pieprasijuma-izpilde.form"]


@pytest.fixture
def deployed(api):
    """The sample process and its forms, deployed."""
    response = api.deploy(SAMPLE_PROCESS, *SAMPLE_FORMS, name="sample")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def typed(**values):
    """Camunda typed variables from Python values."""
    from engine.variables import to_typed

    return {name: to_typed(value) for name, value in values.items()}
