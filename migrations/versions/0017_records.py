"""records: the audit hash chain (seq, hash, personal payload and its MAC, chain heads); on PostgreSQL a
trigger that refuses UPDATE and DELETE of audit rows (except erasing a personal payload, and removing a
test incident's rows) and the service role `incident_engine_service`, which may not update or delete them.

Rows written before this revision keep a NULL hash: verification counts them as unchained.

Revision ID: 0017_records
Revises: 0010_test_incidents
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017_records'
down_revision = '0010_test_incidents'
branch_labels = None
depends_on = None

SERVICE_ROLE = 'incident_engine_service'
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True, astext_type=sa.Text()),
                                               'postgresql')

PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.test THEN
            RETURN OLD;  -- a test incident's rows go with it; the trail of a live incident stays
        END IF;
        RAISE EXCEPTION 'the audit trail is append-only: row % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.personal IS NOT NULL OR (to_jsonb(NEW) - 'personal') IS DISTINCT FROM (to_jsonb(OLD) - 'personal') THEN
        RAISE EXCEPTION 'the audit trail is append-only: row % may only have its personal payload erased', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_guard();
CREATE OR REPLACE FUNCTION purge_test_audit(ids text[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH gone AS (DELETE FROM audit WHERE incident_id = ANY(ids) AND test RETURNING 1) SELECT count(*)::int FROM gone
$$;
"""

PG_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
        BEGIN
            CREATE ROLE {SERVICE_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database of this cluster created it a moment ago
        END;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {SERVICE_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {SERVICE_ROLE};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {SERVICE_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {SERVICE_ROLE};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {SERVICE_ROLE};
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {SERVICE_ROLE};
GRANT UPDATE (personal) ON audit TO {SERVICE_ROLE};
REVOKE ALL ON FUNCTION purge_test_audit(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_test_audit(text[]) TO {SERVICE_ROLE};
"""

SQLITE_GUARD = [
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN NOT OLD.test
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: rows cannot be deleted'); END""",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       WHEN NEW.personal IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.incident_id IS NOT OLD.incident_id
         OR NEW.procedure_key IS NOT OLD.procedure_key OR NEW.procedure_version IS NOT OLD.procedure_version
         OR NEW.kind IS NOT OLD.kind OR NEW.task_id IS NOT OLD.task_id OR NEW.element_id IS NOT OLD.element_id
         OR NEW.element_name IS NOT OLD.element_name OR NEW.element_type IS NOT OLD.element_type
         OR NEW.from_state IS NOT OLD.from_state OR NEW.to_state IS NOT OLD.to_state OR NEW.actor IS NOT OLD.actor
         OR NEW.at IS NOT OLD.at OR NEW.data IS NOT OLD.data OR NEW.test IS NOT OLD.test OR NEW.seq IS NOT OLD.seq
         OR NEW.hash IS NOT OLD.hash OR NEW.personal_mac IS NOT OLD.personal_mac
       BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: only a personal payload may be erased'); END""",
]


def upgrade() -> None:
    with op.batch_alter_table('audit') as batch:
        batch.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('personal', JSON, nullable=True))
        batch.add_column(sa.Column('personal_mac', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_incident_seq', 'audit', ['incident_id', 'seq'], unique=True)
    op.create_table('audit_chain_heads',
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_audit_chain_heads'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_GUARD)
        op.execute(PG_ROLE)
    else:
        for statement in SQLITE_GUARD:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_append_only ON audit')
        op.execute('DROP FUNCTION IF EXISTS audit_guard()')
        op.execute('DROP FUNCTION IF EXISTS purge_test_audit(text[])')
        # the role is shared by every database of the cluster: its rights here go, the role stays
        op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {SERVICE_ROLE}')
        op.execute(f'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {SERVICE_ROLE}')
        op.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {SERVICE_ROLE}')
        op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {SERVICE_ROLE}')
        op.execute(f'REVOKE ALL ON SCHEMA public FROM {SERVICE_ROLE}')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_no_delete')
        op.execute('DROP TRIGGER IF EXISTS audit_no_update')
    op.drop_table('audit_chain_heads')
    op.drop_index('uq_audit_incident_seq', table_name='audit')
    with op.batch_alter_table('audit') as batch:
        batch.drop_column('personal_mac')
        batch.drop_column('personal')
        batch.drop_column('hash')
        batch.drop_column('seq')
