"""Staff chat and negotiation: decisions on change requests, amendments per contract version,
delivery attempts of staff notifications.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("change_requests", sa.Column("decided_by", sa.String(200), nullable=True))
    op.add_column(
        "change_requests", sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True)
    )
    # The reason of a rejection, or the wording staff approved (the customer's or their own).
    op.add_column("change_requests", sa.Column("decision_text", sa.Text(), nullable=True))
    op.add_column("change_requests", sa.Column("version", sa.Integer(), nullable=True))
    op.add_column(
        "contract_versions",
        sa.Column("amendments", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("contract_versions", sa.Column("diff", JSONB(), nullable=True))
    op.add_column("notifications", sa.Column("attempts", sa.Integer(), server_default="0"))


def downgrade() -> None:
    op.drop_column("notifications", "attempts")
    op.drop_column("contract_versions", "diff")
    op.drop_column("contract_versions", "amendments")
    for col in ("version", "decision_text", "decided_at", "decided_by"):
        op.drop_column("change_requests", col)
