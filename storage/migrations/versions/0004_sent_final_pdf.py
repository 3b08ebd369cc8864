"""The exact PDF mailed for signature, per contract version.

A customer who signs with their own tool returns that PDF plus a signature: the check
compares against these bytes (and, signing customer first, the processor countersigns them).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contract_versions", sa.Column("sent_pdf_path", sa.Text(), nullable=True))
    op.add_column("contract_versions", sa.Column("sent_pdf_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("contract_versions", "sent_pdf_sha256")
    op.drop_column("contract_versions", "sent_pdf_path")
