"""Row-level security: the second wall behind the repositories' tenant filters.

The service runs as ``dpabot_app`` (no superuser, no BYPASSRLS), which sees and writes only
rows of the tenants named in the transaction's ``dpabot.tenants`` setting (storage.scope). The
owner (the URL's own user) migrates and owns the tables, so migrations are unaffected.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APP_ROLE = "dpabot_app"
# Every table with a tenant_id column (tests/integration/test_row_level_security.py checks that
# no tenant table is missing here). ``tenants`` itself holds only slugs and names, which the
# configuration names anyway, and is read to map slugs to ids.
TENANT_TABLES = (
    "staff",
    "customers",
    "contracts",
    "contract_versions",
    "messages",
    "change_requests",
    "signatures",
    "archive_entries",
    "audit_events",
    "notifications",
    "chat_bindings",
    "chat_outbox",
)
SCOPE = "string_to_array(current_setting('dpabot.tenants', true), ',')::int[]"


def upgrade() -> None:
    # Roles belong to the cluster: another database of the same server may have made it.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
            -- The owner's connections act as the app role (libpq options=-c role=...).
            EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not grant {APP_ROLE} to %; log in as {APP_ROLE} instead',
                current_user;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    # The audit log is append-only for the service as well as by its trigger.
    op.execute(f"REVOKE UPDATE, DELETE ON audit_events FROM {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    # Tables and sequences of later migrations are usable too (their policies come with them).
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE}"
    )
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_scope ON {table} "
            f"USING (tenant_id = ANY ({SCOPE})) WITH CHECK (tenant_id = ANY ({SCOPE}))"
        )


def downgrade() -> None:
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_scope ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
