"""Archive timestamps and renewal, audit anchor on tenants, erasure marks for retention.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("archive_entries", sa.Column("manifest_sha256", sa.String(64), nullable=True))
    op.add_column("archive_entries", sa.Column("timestamp_path", sa.Text(), nullable=True))
    op.add_column("archive_entries", sa.Column("timestamp_sha256", sa.String(64), nullable=True))
    op.add_column(
        "archive_entries", sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "archive_entries", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("contracts", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tenants", sa.Column("audit_head_id", sa.BigInteger(), nullable=True))
    op.add_column("tenants", sa.Column("audit_head_hash", sa.String(64), nullable=True))
    # Existing logs get their anchor now: from here on a deleted last event is noticed.
    op.execute(
        """
        UPDATE tenants t SET audit_head_id = e.id, audit_head_hash = e.hash
        FROM (SELECT DISTINCT ON (tenant_id) tenant_id, id, hash FROM audit_events
              ORDER BY tenant_id, id DESC) e
        WHERE e.tenant_id = t.id
        """
    )


def downgrade() -> None:
    op.drop_column("tenants", "audit_head_hash")
    op.drop_column("tenants", "audit_head_id")
    op.drop_column("contracts", "erased_at")
    for col in ("erased_at", "renewed_at", "timestamp_sha256", "timestamp_path", "manifest_sha256"):
        op.drop_column("archive_entries", col)
