"""sign-in failures: the shared back-off on repeated failed HTTP Basic sign-ins

Revision ID: 0014_sign_in_failures
Revises: 0015_state_lz4
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_sign_in_failures'
down_revision = '0015_state_lz4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_sign_in_failures_last_failed_at', 'sign_in_failures', ['last_failed_at'])


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_last_failed_at', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
