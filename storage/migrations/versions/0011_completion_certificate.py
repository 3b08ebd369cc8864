"""Certificate of completion: where each archive entry's certificate is and its hashes.

Not in the manifest: the certificate quotes the manifest's hash, so it comes after it.
``certificate_pdf_sha256`` is the archived PDF the certificate describes (a renewal reissues).

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("archive_entries", sa.Column("certificate_path", sa.Text(), nullable=True))
    op.add_column("archive_entries", sa.Column("certificate_sha256", sa.String(64), nullable=True))
    op.add_column(
        "archive_entries", sa.Column("certificate_pdf_sha256", sa.String(64), nullable=True)
    )


def downgrade() -> None:
    for column in ("certificate_pdf_sha256", "certificate_sha256", "certificate_path"):
        op.drop_column("archive_entries", column)
