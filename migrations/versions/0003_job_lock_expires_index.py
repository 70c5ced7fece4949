"""job lock_expires partial index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

The scheduler asks on every pass when the earliest lease runs out; without an index that reads the
whole job table.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(
            'ix_job_lock_expires',
            ['lock_expires'],
            unique=False,
            postgresql_where=sa.text('lock_expires IS NOT NULL'),
            sqlite_where=sa.text('lock_expires IS NOT NULL'),
        )


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_lock_expires')
