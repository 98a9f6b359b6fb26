"""check results: one row per evaluation or override of a mandatory check gateway

Revision ID: 0003_checks
Revises: 0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003_checks'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('check_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('procedure_key', sa.String(length=255), nullable=False),
    sa.Column('procedure_version', sa.Integer(), nullable=False),
    sa.Column('check_name', sa.String(length=255), nullable=False),
    sa.Column('gateway_id', sa.String(length=255), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('flow_id', sa.String(length=255), nullable=True),
    sa.Column('check_values', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_results'))
    )
    with op.batch_alter_table('check_results', schema=None) as batch_op:
        batch_op.create_index('ix_check_results_incident', ['incident_id', 'id'], unique=False)
        batch_op.create_index('ix_check_results_procedure', ['procedure_key', 'procedure_version', 'check_name'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('check_results', schema=None) as batch_op:
        batch_op.drop_index('ix_check_results_procedure')
        batch_op.drop_index('ix_check_results_incident')

    op.drop_table('check_results')
