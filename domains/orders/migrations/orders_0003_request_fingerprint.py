"""Orders: the fingerprint of the request that placed each order.

Revision ID: orders_0003
Revises: orders_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0003"
down_revision = "orders_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders_orders") as batch:
        batch.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders_orders") as batch:
        batch.drop_column("request_fingerprint")
