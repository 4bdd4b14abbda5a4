"""Orders: orders, their lines and the outbox.

Revision ID: orders_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_orders",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("customer_reference", sa.String(length=200), nullable=False),
        sa.Column("fulfilment_type", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("applied_references", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("orders_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_orders_channel_created", ["channel", "created_at"], unique=False
        )
        batch_op.create_index("ix_orders_orders_created", ["created_at", "seq"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_orders_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_orders_orders_status"), ["status"], unique=False)

    op.create_table(
        "orders_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("partition_key", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("causation_id", sa.String(length=100), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("orders_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_orders_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "orders_lines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.String(length=40), nullable=False),
        sa.Column("promotional_unit_price", sa.String(length=40), nullable=False),
        sa.Column("tax_rate", sa.String(length=40), nullable=False),
        sa.Column("quantity_cancelled", sa.Integer(), nullable=False),
        sa.Column("quantity_shipped", sa.Integer(), nullable=False),
        sa.Column("quantity_return_requested", sa.Integer(), nullable=False),
        sa.Column("quantity_returned", sa.Integer(), nullable=False),
        sa.Column("quantity_refunded", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_orders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orders_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_lines_sku"), ["sku"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_lines_sku"))
        batch_op.drop_index(batch_op.f("ix_orders_lines_order_id"))

    op.drop_table("orders_lines")
    with op.batch_alter_table("orders_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_outbox_published_at"))

    op.drop_table("orders_outbox")
    with op.batch_alter_table("orders_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_orders_status"))
        batch_op.drop_index(batch_op.f("ix_orders_orders_location_id"))
        batch_op.drop_index("ix_orders_orders_created")
        batch_op.drop_index("ix_orders_orders_channel_created")

    op.drop_table("orders_orders")
