"""personal data: the personal-data store, data-subject links, legal holds and subject requests

Revision ID: 0017_personal_data
Revises: 0013_call_activities
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017_personal_data'
down_revision = '0013_call_activities'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
NULLABLE_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), 'postgresql')
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('personal_data',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('value', NULLABLE_JSON, nullable=True),
    sa.Column('recorded_at', TS, nullable=False),
    sa.Column('retain_until', TS, nullable=True),
    sa.Column('erased_at', TS, nullable=True),
    sa.Column('erased_reason', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data')),
    sa.UniqueConstraint('incident_id', 'name', name='uq_personal_data_incident_name')
    )
    op.create_index('ix_personal_data_due', 'personal_data', ['retain_until'], unique=False)
    op.create_table('data_subjects',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('linked_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('incident_id', 'subject_key', name=op.f('pk_data_subjects'))
    )
    op.create_index('ix_data_subjects_subject', 'data_subjects', ['subject_key'], unique=False)
    op.create_table('legal_holds',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sa.String(length=255), nullable=True),
    sa.Column('set_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_legal_holds'))
    )
    op.create_table('subject_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=255), nullable=True),
    sa.Column('requested_at', TS, nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.Column('result', JSON, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_requests'))
    )
    op.create_index('ix_subject_requests_subject', 'subject_requests', ['subject_key', 'requested_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_subject_requests_subject', table_name='subject_requests')
    op.drop_table('subject_requests')
    op.drop_table('legal_holds')
    op.drop_index('ix_data_subjects_subject', table_name='data_subjects')
    op.drop_table('data_subjects')
    op.drop_index('ix_personal_data_due', table_name='personal_data')
    op.drop_table('personal_data')
