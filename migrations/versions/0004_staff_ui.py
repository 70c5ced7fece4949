"""staff UI: task subject and search text, user locale, sign-in failures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

The inbox lists and searches tasks by their request's subject without loading workflows; each user
keeps the UI language they chose; failed sign-ins are counted in the database so that every server
process slows down the same guessing.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.String(length=512), nullable=True))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))
    op.create_table(
        'sign_in_failure',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_failure')),
    )


def downgrade() -> None:
    op.drop_table('sign_in_failure')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('subject')
