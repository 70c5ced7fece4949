"""Database connections and the unit of work.

One ``UnitOfWork`` is one transaction: a service method opens it, reads and writes through its
connection, and it commits only if the block ends without an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from engine.errors import Conflict

SQLITE_BUSY_TIMEOUT_MS = 10_000


def connect(url: str, *, pool_size: int = 10) -> Engine:
    """Create the SQLAlchemy engine for a database URL (SQLite file or PostgreSQL)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # No pre-ping: it costs a round trip per transaction. Connections are recycled instead, and one
    # broken by a database restart is discarded when its error surfaces.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        # Take transaction control from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes SQLite's write lock up front, so writers queue on the busy
        # timeout and then read fresh data, instead of failing later on a stale snapshot.
        if conn.get_execution_options().get("plusma_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class UnitOfWork:
    """A transaction over one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.after_commit: list = []

    def execute(self, statement, parameters=None):  # noqa: ANN001, ANN201
        return self.connection.execute(statement, parameters)


class Database:
    """Hands out units of work over one SQLAlchemy engine."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = connect(url, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = self.engine.execution_options(plusma_write=True)
        # Reads need no BEGIN/COMMIT round trips on PostgreSQL; SQLite's BEGIN is in-process and cheap.
        self._read_engine = (
            self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[UnitOfWork]:
        """Run a block in one transaction; commit at its end, roll back on any exception."""
        engine = self._write_engine if write else self._read_engine
        try:
            with engine.begin() as connection:
                uow = UnitOfWork(connection)
                yield uow
        except OperationalError as error:
            if _is_lock_conflict(error):
                raise Conflict("The database was busy with a concurrent change; try again") from error
            raise
        for callback in uow.after_commit:
            callback()

    def dispose(self) -> None:
        self.engine.dispose()


def _is_lock_conflict(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "database is locked" in text or "could not serialize" in text or "deadlock detected" in text
