"""task form pin: the Camunda form version a user task resolved when it was created

Revision ID: 0019_task_form_pin
Revises: 0019_deployment_deletions
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0019_task_form_pin'
down_revision = '0019_deployment_deletions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('camunda_form_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('camunda_form_id')
