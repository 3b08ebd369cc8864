"""Outgoing mails stored without PostgreSQL trying to compress them.

A stored mail is mostly a base64 PDF, itself compressed: pglz never gets the quarter it needs
to keep its result, but tries the whole value first. That try cost about 1.5 ms of the
server's CPU per invitation, four times the rest of storing it (bench/bulk_send.py). EXTERNAL
keeps the value out of line, as before, uncompressed; rows stored earlier stay as they are.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE messages ALTER COLUMN raw SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE messages ALTER COLUMN raw SET STORAGE EXTENDED")
