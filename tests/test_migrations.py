"""The schema comes only from the migrations, and they match what the code expects."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from engine.storage import migrate
from engine.storage.database import connect
from engine.storage.tables import metadata


def test_migrated_schema_matches_the_tables_the_code_uses(database_url):
    engine = connect(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() is not None
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], differences


def test_upgrade_is_idempotent_and_reports_head(database_url):
    migrate.upgrade(database_url)
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()
    assert migrate.current_revision(database_url) == head
