"""call activities across files: a child incident knows its parent incident and the call activity's task

Revision ID: 0013_call_activities
Revises: 0014_sign_in_failures
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_call_activities'
down_revision = '0014_sign_in_failures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('parent_incident_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('parent_task_id', sa.String(length=36), nullable=True))
        batch.create_index('ix_incidents_parent', ['parent_incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_index('ix_incidents_parent')
        batch.drop_column('parent_task_id')
        batch.drop_column('parent_incident_id')
