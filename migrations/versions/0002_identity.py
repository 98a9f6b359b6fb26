"""identity: task candidates side table, indexes for queues and incident visibility

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_identity'
down_revision = '0003_checks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'task_candidates',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_candidates_task_id_tasks')),
        sa.PrimaryKeyConstraint('task_id', 'kind', 'value', name=op.f('pk_task_candidates')),
    )
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.create_index('ix_task_candidates_kind_value', ['kind', 'value', 'task_id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_state', ['assignee', 'state'], unique=False)
        batch_op.create_index('ix_tasks_ended_by', ['ended_by'], unique=False)
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_created_by', ['created_by'], unique=False)
    _backfill()


def _backfill() -> None:
    """Offer the tasks that already exist to the candidates stored in their JSON columns."""
    conn = op.get_bind()
    tasks = sa.table('tasks', sa.column('id', sa.String), sa.column('candidate_groups', sa.JSON),
                     sa.column('candidate_users', sa.JSON))
    candidates = sa.table('task_candidates', sa.column('task_id', sa.String), sa.column('kind', sa.String),
                          sa.column('value', sa.String))
    rows = []
    for task_id, groups, users in conn.execute(sa.select(tasks.c.id, tasks.c.candidate_groups,
                                                         tasks.c.candidate_users)):
        for kind, values in (('group', groups or []), ('user', users or [])):
            rows.extend({'task_id': task_id, 'kind': kind, 'value': str(v)} for v in dict.fromkeys(values))
    if rows:
        op.bulk_insert(candidates, rows)


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_created_by')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_ended_by')
        batch_op.drop_index('ix_tasks_assignee_state')
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_kind_value')
    op.drop_table('task_candidates')
