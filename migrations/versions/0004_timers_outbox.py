"""durable timers, delivery attempts and outbox delivery columns

Revision ID: 0004_timers_outbox
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_timers_outbox'
down_revision = '0002_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('element_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('mode', sa.String(length=20), nullable=False,
                                      server_default='fire_and_forget'))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_task_id', ['task_id'])

    op.create_table(
        'delivery_attempts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('outbox_id', sa.String(length=36), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('http_status', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('worker', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_delivery_attempts_outbox_id_outbox')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts')),
        sa.UniqueConstraint('outbox_id', 'number', name='uq_delivery_attempts_outbox_number'),
    )

    op.create_table(
        'timers',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('incident_id', sa.String(length=36), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('element_id', sa.String(length=255), nullable=False),
        sa.Column('attached_to', sa.String(length=255), nullable=True),
        sa.Column('is_sla', sa.Boolean(), nullable=False),
        sa.Column('interrupting', sa.Boolean(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_timers_incident_id_incidents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_timers')),
        sa.UniqueConstraint('task_id', name='uq_timers_task_id'),
    )
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.create_index('ix_timers_incident', ['incident_id'], unique=False)
        batch_op.create_index('ix_timers_status_due', ['status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_index('ix_timers_status_due')
        batch_op.drop_index('ix_timers_incident')
    op.drop_table('timers')
    op.drop_table('delivery_attempts')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_task_id', type_='unique')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('mode')
        batch_op.drop_column('element_id')
