"""deployment deletions: the append-only record of each deployment removed (issue 14)

Revision ID: 0019_deployment_deletions
Revises: 0012_task_attributes
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019_deployment_deletions'
down_revision = '0012_task_attributes'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('deployment_deletions',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('deployment_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=255), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_by', sa.String(length=255), nullable=True),
    sa.Column('cascaded', sa.Boolean(), nullable=False),
    sa.Column('resources', JSON, nullable=False),
    sa.Column('removed_incidents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_deletions'))
    )
    op.create_index('ix_deployment_deletions_deployment', 'deployment_deletions', ['deployment_id'], unique=False)
    op.create_index('ix_deployment_deletions_deleted_at', 'deployment_deletions', ['deleted_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_deployment_deletions_deleted_at', table_name='deployment_deletions')
    op.drop_index('ix_deployment_deletions_deployment', table_name='deployment_deletions')
    op.drop_table('deployment_deletions')
