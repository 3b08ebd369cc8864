"""Staff notices stored as kind and values: worded at delivery in the staff chat's language.

``params`` holds the values a notice's template needs (JSON); ``text`` keeps the English
wording for logs and for rows written before this revision (NULL params: delivered as stored).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("params", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "params")
