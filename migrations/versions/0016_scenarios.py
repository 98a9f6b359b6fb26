"""scenario tests: a version's scenario suites and their runs (results and coverage)

Revision ID: 0016_scenarios
Revises: 0006_monitoring
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016_scenarios'
down_revision = '0006_monitoring'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('scenario_suites',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('summary', JSON, nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'], name=op.f('fk_scenario_suites_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_suites'))
    )
    op.create_index('ix_scenario_suites_procedure', 'scenario_suites', ['procedure_id', 'created_at'], unique=False)
    op.create_table('scenario_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('suite_id', sa.String(length=36), nullable=False),
    sa.Column('suite_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('totals', JSON, nullable=False),
    sa.Column('report', JSON, nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'], name=op.f('fk_scenario_runs_procedure_id_procedures')),
    sa.ForeignKeyConstraint(['suite_id'], ['scenario_suites.id'], name=op.f('fk_scenario_runs_suite_id_scenario_suites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_runs'))
    )
    op.create_index('ix_scenario_runs_procedure', 'scenario_runs', ['procedure_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scenario_runs_procedure', table_name='scenario_runs')
    op.drop_table('scenario_runs')
    op.drop_index('ix_scenario_suites_procedure', table_name='scenario_suites')
    op.drop_table('scenario_suites')
