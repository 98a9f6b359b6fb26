"""task attributes: camunda:followUpDate, camunda:priority and camunda:formKey on the tasks table

Revision ID: 0012_task_attributes
Revises: 0017_personal_data
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from engine.db.tables import UTCDateTime

revision = '0012_task_attributes'
down_revision = '0017_personal_data'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.add_column(sa.Column('follow_up_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='50'))
        batch.add_column(sa.Column('form_key', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tasks') as batch:
        batch.drop_column('form_key')
        batch.drop_column('priority')
        batch.drop_column('follow_up_at')
