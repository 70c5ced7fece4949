"""Settings, read from the environment (``PLUSMA_*``) with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The checkout (or image) root: ``processes/``, ``forms/`` and ``migrations/`` live here.
PROJECT_ROOT = Path(os.environ.get("PLUSMA_HOME", Path(__file__).resolve().parent.parent))


def default_data_dir() -> Path:
    return Path(os.environ.get("PLUSMA_DATA_DIR", "instance")).resolve()


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'plusma.sqlite'}"


#: Numeric settings: (environment variable, field, type).
_NUMBERS = (
    ("PLUSMA_AUTH_CACHE_SECONDS", "auth_cache_seconds", float),
    ("PLUSMA_POOL_SIZE", "pool_size", int),
    ("PLUSMA_JOB_RETRIES", "job_retries", int),
    ("PLUSMA_JOB_LEASE_SECONDS", "job_lease_seconds", float),
    ("PLUSMA_JOB_RETRY_DELAY_SECONDS", "job_retry_delay_seconds", float),
    ("PLUSMA_SCHEDULER_THREADS", "scheduler_threads", int),
)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    #: True when the database was named explicitly (PLUSMA_DATABASE_URL): no demo users then.
    database_url_given: bool = False
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    #: How long a successful password check is remembered, so Basic auth stays cheap per call.
    auth_cache_seconds: float = 60.0
    #: How many parsed process specs stay in memory.
    spec_cache_size: int = 256
    pool_size: int = 10
    #: Tries of a failing job before it becomes an incident (Camunda's default: 3).
    job_retries: int = 3
    #: How long a worker holds an acquired job; a crashed worker's jobs are free again after it.
    job_lease_seconds: float = 300.0
    #: Wait before retrying a failed job; doubles with each further failure.
    job_retry_delay_seconds: float = 10.0
    #: Run the job scheduler inside each server process (``plusma worker`` runs it on its own).
    scheduler_in_server: bool = True
    #: Jobs one scheduler runs at once.
    scheduler_threads: int = 4
    #: The institution's business calendar (TOML); None: the shipped one (Latvian holidays, Mon-Fri 8:30-17:00).
    calendar_file: Path | None = None
    #: Where the embedded database and the web UI's generated session key live.
    data_dir: Path = field(default_factory=default_data_dir)
    #: Signs the web UI's session cookies; None: a random key kept in ``data_dir/secret_key``.
    secret_key: str | None = None
    #: Send the session cookie over HTTPS only (set when served behind TLS).
    secure_cookies: bool = False

    @classmethod
    def from_env(cls, **overrides) -> Settings:  # noqa: ANN003
        url = os.environ.get("PLUSMA_DATABASE_URL")
        values: dict = {}
        if url:
            values.update(database_url=url, database_url_given=True)
        for name, field_name, kind in _NUMBERS:
            if name in os.environ:
                try:
                    values[field_name] = kind(os.environ[name])
                except ValueError:
                    raise ValueError(f"{name}={os.environ[name]!r} is not a {kind.__name__}") from None
        if "PLUSMA_SCHEDULER_IN_SERVER" in os.environ:
            values["scheduler_in_server"] = _flag("PLUSMA_SCHEDULER_IN_SERVER")
        for name, field_name in (("PLUSMA_PROCESSES_DIR", "processes_dir"), ("PLUSMA_FORMS_DIR", "forms_dir")):
            if os.environ.get(name):
                values[field_name] = Path(os.environ[name])
        if os.environ.get("PLUSMA_SECRET_KEY"):
            values["secret_key"] = os.environ["PLUSMA_SECRET_KEY"]
        if "PLUSMA_SECURE_COOKIES" in os.environ:
            values["secure_cookies"] = _flag("PLUSMA_SECURE_COOKIES")
        if os.environ.get("PLUSMA_CALENDAR"):
            values["calendar_file"] = Path(os.environ["PLUSMA_CALENDAR"])
        values.update(overrides)
        return cls(**values)


def _flag(name: str) -> bool:
    flag = os.environ[name].strip().lower()
    if flag not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError(f"{name}={flag!r} is not on or off")
    return flag in ("1", "true", "yes", "on")
