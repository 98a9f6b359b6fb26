"""simulations: what-if runs of a procedure version (request, progress, prediction, approval evidence)

Revision ID: 0016_simulations
Revises: 0014_external_tasks
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0016_simulations'
down_revision = '0014_external_tasks'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('simulations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('procedure_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('parameters', JSON, nullable=False),
    sa.Column('progress', JSON, nullable=True),
    sa.Column('report', JSON, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attached', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedures.id'], name=op.f('fk_simulations_procedure_id_procedures')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulations'))
    )
    op.create_index('ix_simulations_procedure', 'simulations', ['procedure_id', 'created_at'], unique=False)
    op.create_index('ix_simulations_status', 'simulations', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_simulations_status', table_name='simulations')
    op.drop_index('ix_simulations_procedure', table_name='simulations')
    op.drop_table('simulations')
