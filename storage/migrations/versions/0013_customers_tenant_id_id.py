"""An index on customers by tenant and id: a send's pages of customers not invited yet.

A bulk send reads its tenant's customers in id order, a page at a time, and leaves out those
with a contract. With only the tenant's index, PostgreSQL could read every customer of the
tenant for each page; this index reads the page alone.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_tenant_id_id", "customers", ["tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tenant_id_id", table_name="customers")
