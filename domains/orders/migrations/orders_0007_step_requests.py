"""Orders: the idempotency key of each lifecycle step a client asked for, with the
fingerprint of what it asked, so a retried step is answered without being made twice
and a key reused for another request is refused.

Revision ID: orders_0007
Revises: orders_0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0007"
down_revision = "orders_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_step_requests",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders_orders.id"]),
        sa.PrimaryKeyConstraint("idempotency_key"),
    )
    with op.batch_alter_table("orders_step_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_step_requests_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("orders_step_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_step_requests_order_id"))
    op.drop_table("orders_step_requests")
