"""waiting: jobs, incidents, external tasks, message subscriptions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

What instances wait for, as rows the scheduler, external task workers and message correlation
read without deserializing any instance.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('incident_type', sa.String(length=64), nullable=False),
    sa.Column('incident_timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('incident_message', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('definition_id', sa.String(length=255), nullable=False),
    sa.Column('definition_key', sa.String(length=255), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=False),
    sa.Column('configuration', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('configuration', name=op.f('uq_incident_configuration'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_instance_id'), ['instance_id'], unique=False)

    op.create_table('event_subscription',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('event_name', sa.String(length=255), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('definition_id', sa.String(length=255), nullable=False),
    sa.Column('definition_key', sa.String(length=255), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('business_key', sa.String(length=255), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], name=op.f('fk_event_subscription_definition_id_process_definition')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_event_subscription_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_subscription'))
    )
    with op.batch_alter_table('event_subscription', schema=None) as batch_op:
        batch_op.create_index('ix_event_subscription_event_type_event_name', ['event_type', 'event_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_subscription_instance_id'), ['instance_id'], unique=False)

    op.create_table('external_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('definition_id', sa.String(length=255), nullable=False),
    sa.Column('definition_key', sa.String(length=255), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=False),
    sa.Column('business_key', sa.String(length=255), nullable=True),
    sa.Column('priority', sa.BigInteger(), nullable=False),
    sa.Column('worker_id', sa.String(length=255), nullable=True),
    sa.Column('lock_expires', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_external_task_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_task'))
    )
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_task_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_external_task_topic_lock_expires', ['topic', 'lock_expires'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('definition_id', sa.String(length=255), nullable=False),
    sa.Column('definition_key', sa.String(length=255), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('lock_owner', sa.String(length=255), nullable=True),
    sa.Column('lock_expires', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exception_message', sa.Text(), nullable=True),
    sa.Column('exception_stacktrace', sa.Text(), nullable=True),
    sa.Column('configuration', sa.JSON(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['process_definition.id'], name=op.f('fk_job_definition_id_process_definition')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_job_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_job_due', ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_instance_id'))
        batch_op.drop_index('ix_job_due')
        batch_op.drop_index(batch_op.f('ix_job_definition_id'))

    op.drop_table('job')
    with op.batch_alter_table('external_task', schema=None) as batch_op:
        batch_op.drop_index('ix_external_task_topic_lock_expires')
        batch_op.drop_index(batch_op.f('ix_external_task_instance_id'))

    op.drop_table('external_task')
    with op.batch_alter_table('event_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_subscription_instance_id'))
        batch_op.drop_index('ix_event_subscription_event_type_event_name')

    op.drop_table('event_subscription')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_instance_id'))

    op.drop_table('incident')
