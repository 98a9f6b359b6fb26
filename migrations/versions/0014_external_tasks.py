"""external tasks: pull-based service tasks with their lock, retries and failure

Revision ID: 0014_external_tasks
Revises: 0016_scenarios
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0014_external_tasks'
down_revision = '0016_scenarios'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('external_tasks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=True),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('element_name', sa.String(length=500), nullable=True),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.String(length=255), nullable=True),
    sa.Column('lock_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retries', sa.Integer(), nullable=True),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_details', sa.Text(), nullable=True),
    sa.Column('variables', JSON, nullable=False),
    sa.Column('properties', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_external_tasks_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_tasks'))
    )
    op.create_index('ix_external_tasks_topic_state', 'external_tasks', ['topic', 'state', 'created_at'], unique=False)
    op.create_index('ix_external_tasks_incident', 'external_tasks', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_external_tasks_incident', table_name='external_tasks')
    op.drop_index('ix_external_tasks_topic_state', table_name='external_tasks')
    op.drop_table('external_tasks')
