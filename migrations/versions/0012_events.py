"""events: awaited messages and signals with their correlation keys, event declarations, timer start firings,
signal broadcasts

Revision ID: 0012_events
Revises: 0016_simulations
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.db.tables import UTCDateTime

revision = '0012_events'
down_revision = '0016_simulations'
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('event_waits',
    sa.Column('id', _BIG, autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_event_waits_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_waits')),
    sa.UniqueConstraint('task_id', 'kind', 'name', name='uq_event_waits_task_kind_name')
    )
    op.create_index('ix_event_waits_incident', 'event_waits', ['incident_id'], unique=False)
    op.create_index('ix_event_waits_kind_name_reference', 'event_waits', ['kind', 'name', 'reference'], unique=False)
    op.create_index('ix_event_waits_kind_name_id', 'event_waits', ['kind', 'name', 'id'], unique=False)
    op.create_table('event_wait_keys',
    sa.Column('wait_id', _BIG, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['wait_id'], ['event_waits.id'], name=op.f('fk_event_wait_keys_wait_id_event_waits')),
    sa.PrimaryKeyConstraint('wait_id', 'name', name=op.f('pk_event_wait_keys'))
    )
    op.create_index('ix_event_wait_keys_name_value', 'event_wait_keys', ['name', 'value', 'wait_id'], unique=False)
    op.create_table('event_declarations',
    sa.Column('id', _BIG, autoincrement=True, nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('timer_kind', sa.String(length=10), nullable=True),
    sa.Column('timer_expression', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_event_declarations_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_declarations'))
    )
    op.create_index('ix_event_declarations_kind_name', 'event_declarations', ['kind', 'name'], unique=False)
    op.create_index('ix_event_declarations_kind_role', 'event_declarations', ['kind', 'role'], unique=False)
    op.create_index('ix_event_declarations_procedure', 'event_declarations', ['procedure_id'], unique=False)
    op.create_table('start_timer_firings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=False),
    sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('fired_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('incident_id', sa.String(length=36), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_start_timer_firings_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_start_timer_firings')),
    sa.UniqueConstraint('procedure_id', 'element_id', 'due_at', name='uq_start_timer_firings_firing')
    )
    op.create_index('ix_start_timer_firings_status_due', 'start_timer_firings', ['status', 'due_at'], unique=False)
    op.create_table('signal_broadcasts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('variables', _JSON, nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('origin_incident_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_wait_id', sa.BigInteger(), nullable=False),
    sa.Column('until_wait_id', sa.BigInteger(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('batches', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_broadcasts'))
    )
    op.create_index('ix_signal_broadcasts_status_created', 'signal_broadcasts', ['status', 'created_at'],
                    unique=False)
    _declare_existing_versions()


def _declare_existing_versions() -> None:
    """Versions uploaded before this migration may throw and catch signals: record what they declare."""
    from engine.bpmn.parser import load_procedure
    from engine.db import event_rows
    from engine.errors import EngineError
    from engine.events.declarations import declarations

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, key, bpmn FROM procedures")).mappings().all()
    for row in rows:
        try:
            definition = load_procedure(bytes(row["bpmn"]), process=row["key"], max_bytes=len(row["bpmn"]) + 1)
        except EngineError:
            continue  # a version the current rules refuse declares nothing new
        event_rows.declare(conn, {"id": row["id"], "key": row["key"]}, declarations(definition))


def downgrade() -> None:
    op.drop_table('signal_broadcasts')
    op.drop_table('start_timer_firings')
    op.drop_table('event_declarations')
    op.drop_table('event_wait_keys')
    op.drop_table('event_waits')
