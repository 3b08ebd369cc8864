"""Grouped staff notices: a flood of mail from strangers makes one notice per sender (or one
for the tenant) and window, counting the mails, instead of one notice per mail.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("dedupe_key", sa.String(400), nullable=True))
    op.add_column(
        "notifications", sa.Column("window_start", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("notifications", sa.Column("part", sa.Integer(), nullable=True))
    op.add_column(
        "notifications", sa.Column("count", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("notifications", sa.Column("senders", JSONB(), nullable=True))
    # A held notice (the rest of a window) is delivered only after this time.
    op.add_column(
        "notifications", sa.Column("deliver_after", sa.DateTime(timezone=True), nullable=True)
    )
    # One row per group, window and part, whichever worker gets there first; rows of single
    # notices (dedupe_key NULL) are not constrained.
    op.create_unique_constraint(
        "uq_notifications_group",
        "notifications",
        ["tenant_id", "dedupe_key", "window_start", "part"],
    )


def downgrade() -> None:
    op.drop_constraint("uq_notifications_group", "notifications")
    for col in ("deliver_after", "senders", "count", "part", "window_start", "dedupe_key"):
        op.drop_column("notifications", col)
