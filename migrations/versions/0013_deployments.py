"""deployments: sets of BPMN, DMN and form files deployed together; versions of decisions and forms

Revision ID: 0013_deployments
Revises: 0017_records
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013_deployments'
down_revision = '0017_records'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('deployments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('source', sa.String(length=255), nullable=True),
    sa.Column('tenant_id', sa.String(length=255), nullable=True),
    sa.Column('resources', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deployments'))
    )
    op.create_index('ix_deployments_name_created', 'deployments', ['name', 'created_at'], unique=False)
    op.create_table('resources',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('version_tag', sa.String(length=255), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('summary', JSON, nullable=False),
    sa.Column('deployment_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployments.id'], name=op.f('fk_resources_deployment_id_deployments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    sa.UniqueConstraint('kind', 'key', 'version', name='uq_resources_kind_key_version'),
    sa.UniqueConstraint('kind', 'key', 'sha256', name='uq_resources_kind_key_sha256')
    )
    with op.batch_alter_table('procedures') as batch:
        batch.add_column(sa.Column('deployment_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('version_tag', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('procedures') as batch:
        batch.drop_column('version_tag')
        batch.drop_column('deployment_id')
    op.drop_table('resources')
    op.drop_index('ix_deployments_name_created', table_name='deployments')
    op.drop_table('deployments')
