"""state lz4: compress incidents.state with lz4 instead of pglz on PostgreSQL 14+ (cheaper on every UPDATE
of a transition; SQLite unchanged). Rows already stored keep pglz until their next transition rewrites them.

Revision ID: 0015_state_lz4
Revises: 0018_sign_in_links
Create Date: 2026-12-01
"""
from alembic import op

revision = '0015_state_lz4'
down_revision = '0018_sign_in_links'
branch_labels = None
depends_on = None


def _compression(method: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # A server built without lz4 (or older than 14) keeps its default: a notice, not a failed upgrade.
    op.execute(f"""
        DO $$ BEGIN
          IF current_setting('server_version_num')::int >= 140000 THEN
            EXECUTE 'ALTER TABLE incidents ALTER COLUMN state SET COMPRESSION {method}';
          END IF;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
          RAISE NOTICE 'incidents.state keeps its compression: %', SQLERRM;
        END $$""")


def upgrade() -> None:
    _compression('lz4')


def downgrade() -> None:
    _compression('pglz')
