"""test incidents: a `test` flag on incidents and on the rows they write (tasks, audit, check results), so
monitoring leaves them out without a join; a partial index for the retention job

Revision ID: 0010_test_incidents
Revises: 0012_events
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_test_incidents'
down_revision = '0012_events'
branch_labels = None
depends_on = None

_TABLES = ('incidents', 'tasks', 'audit', 'check_results')


def upgrade() -> None:
    for table in _TABLES:  # a plain ADD COLUMN on both (SQLite must not rebuild tables that others reference)
        op.add_column(table, sa.Column('test', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_incidents_test_updated', 'incidents', ['updated_at'],
                    postgresql_where=sa.text('test'), sqlite_where=sa.text('test'))


def downgrade() -> None:
    op.drop_index('ix_incidents_test_updated', table_name='incidents')
    for table in reversed(_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('test')
