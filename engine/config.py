"""Settings, read from the environment (``PLUSMA_*``) with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The checkout (or image) root: ``processes/``, ``forms/`` and ``migrations/`` live here.
PROJECT_ROOT = Path(os.environ.get("PLUSMA_HOME", Path(__file__).resolve().parent.parent))


def default_database_url() -> str:
    data_dir = Path(os.environ.get("PLUSMA_DATA_DIR", "instance")).resolve()
    return f"sqlite:///{data_dir / 'plusma.sqlite'}"


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

    @classmethod
    def from_env(cls, **overrides) -> Settings:  # noqa: ANN003
        url = os.environ.get("PLUSMA_DATABASE_URL")
        values: dict = {}
        if url:
            values.update(database_url=url, database_url_given=True)
        if "PLUSMA_AUTH_CACHE_SECONDS" in os.environ:
            values["auth_cache_seconds"] = float(os.environ["PLUSMA_AUTH_CACHE_SECONDS"])
        if "PLUSMA_POOL_SIZE" in os.environ:
            values["pool_size"] = int(os.environ["PLUSMA_POOL_SIZE"])
        values.update(overrides)
        return cls(**values)
