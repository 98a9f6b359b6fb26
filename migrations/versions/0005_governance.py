"""procedure governance: strategy, objectives, criteria, declarations, lifecycle events, review comments,
fitness tests; one active version per procedure key; a wider outbox.incident_id for procedure briefings

Revision ID: 0005_governance
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005_governance'
down_revision = '0004_timers_outbox'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_index('uq_procedures_one_active', 'procedures', ['key'], unique=True,
                    postgresql_where=sa.text("status = 'active'"), sqlite_where=sa.text("status = 'active'"))
    op.create_table('strategies',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('aim', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategies'))
    )
    op.create_table('objectives',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('strategy_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], name=op.f('fk_objectives_strategy_id_strategies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objectives'))
    )
    op.create_index('ix_objectives_strategy', 'objectives', ['strategy_id', 'created_at'])
    op.create_table('criteria',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('objective_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('metric', sa.String(length=60), nullable=False),
    sa.Column('statistic', sa.String(length=20), nullable=False),
    sa.Column('comparator', sa.String(length=20), nullable=False),
    sa.Column('target', JSON, nullable=False),
    sa.Column('params', JSON, nullable=False),
    sa.Column('filter', JSON, nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['objectives.id'], name=op.f('fk_criteria_objective_id_objectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria'))
    )
    op.create_index('ix_criteria_objective', 'criteria', ['objective_id', 'created_at'])
    op.create_table('procedure_declarations',
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('peak_incidents_per_hour', sa.Integer(), nullable=True),
    sa.Column('peak_agents', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=255), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_procedure_declarations_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('procedure_id', name=op.f('pk_procedure_declarations'))
    )
    op.create_table('procedure_objectives',
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('objective_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['objective_id'], ['objectives.id'],
                            name=op.f('fk_procedure_objectives_objective_id_objectives')),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_procedure_objectives_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('procedure_id', 'objective_id', name=op.f('pk_procedure_objectives'))
    )
    op.create_table('procedure_events',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', JSON, nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_procedure_events_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_events'))
    )
    op.create_index('ix_procedure_events_procedure', 'procedure_events', ['procedure_id', 'id'])
    op.create_index('ix_procedure_events_key', 'procedure_events', ['procedure_key', 'id'])
    op.create_table('review_comments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.String(length=255), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'],
                            name=op.f('fk_review_comments_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comments'))
    )
    op.create_index('ix_review_comments_procedure', 'review_comments', ['procedure_id', 'created_at'])
    op.create_table('fitness_tests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('incidents_per_hour', sa.Integer(), nullable=False),
    sa.Column('agents', sa.Integer(), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('progress', JSON, nullable=True),
    sa.Column('report', JSON, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('stats_csv', sa.Text(), nullable=True),
    sa.Column('failures_csv', sa.Text(), nullable=True),
    sa.Column('history_csv', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'], name=op.f('fk_fitness_tests_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fitness_tests'))
    )
    op.create_index('ix_fitness_tests_procedure', 'fitness_tests', ['procedure_id', 'created_at'])
    # Briefings go through the outbox with incident_id = 'procedure:<key>'; SQLite does not enforce lengths.
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('outbox', 'incident_id', type_=sa.String(length=300), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DELETE FROM outbox WHERE incident_id LIKE 'procedure:%'")
        op.alter_column('outbox', 'incident_id', type_=sa.String(length=36), existing_nullable=False)
    for table in ('fitness_tests', 'review_comments', 'procedure_events', 'procedure_objectives',
                  'procedure_declarations', 'criteria', 'objectives', 'strategies'):
        op.drop_table(table)
    op.drop_index('uq_procedures_one_active', table_name='procedures')
