"""Orders: an index on when each ERP posting was posted.

The console's backlog history reads the postings posted within the last hour, besides
those still waiting; without the index that read would walk every posting ever made.

Revision ID: orders_0005
Revises: orders_0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "orders_0005"
down_revision = "orders_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_erp_postings_posted_at", "orders_erp_postings", ["posted_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_erp_postings_posted_at", table_name="orders_erp_postings")
