"""Which contract version an outgoing final-version mail carries.

An acceptance counts only for the version the customer saw: its reply must thread under a
final mail of the current version (or quote that version's fingerprint), so each final mail
records its version.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "version")
