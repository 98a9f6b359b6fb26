"""monitoring: indexes for the windowed metrics queries, and the debriefs snapshot table

Revision ID: 0006_monitoring
Revises: 0003_checks
Create Date: 2026-12-08
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006_monitoring'
down_revision = '0005_governance'
branch_labels = None
depends_on = None

_INDEXES = [
    ('audit', 'ix_audit_procedure_kind_at', ['procedure_key', 'kind', 'at']),
    ('tasks', 'ix_tasks_procedure_created', ['procedure_key', 'created_at']),
    ('tasks', 'ix_tasks_procedure_ended', ['procedure_key', 'ended_at']),
    ('incidents', 'ix_incidents_procedure_ended', ['procedure_key', 'ended_at']),
    ('check_results', 'ix_check_results_procedure_at', ['procedure_key', 'at']),
]


def upgrade() -> None:
    op.create_table('debriefs',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_debriefs'))
    )
    for table, name, columns in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    op.drop_table('debriefs')
