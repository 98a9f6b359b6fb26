"""sign-in links: each one-time link redeemed, so it cannot be used twice

Revision ID: 0018_sign_in_links
Revises: 0013_deployments
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_sign_in_links'
down_revision = '0013_deployments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('used_sign_in_links',
    sa.Column('link_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('link_id', name=op.f('pk_used_sign_in_links'))
    )
    op.create_index('ix_used_sign_in_links_expires_at', 'used_sign_in_links', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_used_sign_in_links_expires_at', table_name='used_sign_in_links')
    op.drop_table('used_sign_in_links')
