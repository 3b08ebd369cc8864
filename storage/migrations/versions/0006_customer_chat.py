"""Customer chat: a single-use chat token per contract, chat bindings (code, tries, the
conversation's step) and the queue of messages to customers' chats.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contracts", sa.Column("chat_token", sa.String(64), nullable=True))
    op.create_unique_constraint("uq_contracts_chat_token", "contracts", ["chat_token"])
    op.create_table(
        "chat_bindings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "contract_id", sa.Integer(), sa.ForeignKey("contracts.id"), nullable=False, index=True
        ),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # pending | bound | locked
        sa.Column("code_hash", sa.String(200), nullable=True),  # salt$sha256, never the code
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("step", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("contract_id", "telegram_user_id", name="uq_chat_bindings_user"),
    )
    op.create_table(
        "chat_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column("contract_id", sa.Integer(), sa.ForeignKey("contracts.id"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("document_path", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(200), nullable=True),
        sa.Column("buttons", JSONB(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("chat_outbox")
    op.drop_table("chat_bindings")
    op.drop_constraint("uq_contracts_chat_token", "contracts")
    op.drop_column("contracts", "chat_token")
