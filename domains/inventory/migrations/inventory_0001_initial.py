"""Inventory: locations and their channel rules, stock, reservations, movements, outbox.

Revision ID: inventory_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_channel_policy",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("counts_incoming", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    op.create_table(
        "inventory_location",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('DC', 'WAREHOUSE', 'STORE')", name="ck_inventory_location_kind"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "inventory_movement",
        sa.Column("source_document_id", sa.String(length=200), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("to_location_id", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_document_id", "line_number"),
    )
    op.create_table(
        "inventory_outbox",
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
    with op.batch_alter_table("inventory_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inventory_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "inventory_location_channel",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("share_percent", sa.Integer(), server_default="100", nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        sa.CheckConstraint("cap IS NULL OR cap >= 0", name="ck_inventory_location_channel_cap"),
        sa.CheckConstraint(
            "share_percent BETWEEN 0 AND 100", name="ck_inventory_location_channel_share"
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
        ),
        sa.PrimaryKeyConstraint("location_id", "channel"),
    )
    op.create_table(
        "inventory_reservation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_reference", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'CONSUMED')",
            name="ck_inventory_reservation_status",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_inventory_reservation_quantity"),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("inventory_reservation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_reservation_expiry", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_inventory_reservation_stock", ["sku", "location_id", "status"], unique=False
        )

    op.create_table(
        "inventory_stock",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), server_default="0", nullable=False),
        sa.Column("committed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("safety_stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quarantined", sa.Integer(), server_default="0", nullable=False),
        sa.Column("incoming", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "on_hand >= 0 AND committed >= 0 AND safety_stock >= 0 "
            "AND quarantined >= 0 AND incoming >= 0",
            name="ck_inventory_stock_not_negative",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["inventory_location.id"],
        ),
        sa.PrimaryKeyConstraint("sku", "location_id"),
    )
    with op.batch_alter_table("inventory_stock", schema=None) as batch_op:
        batch_op.create_index("ix_inventory_stock_location", ["location_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inventory_stock", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_stock_location")

    op.drop_table("inventory_stock")
    with op.batch_alter_table("inventory_reservation", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_reservation_stock")
        batch_op.drop_index("ix_inventory_reservation_expiry")

    op.drop_table("inventory_reservation")
    op.drop_table("inventory_location_channel")
    with op.batch_alter_table("inventory_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_outbox_published_at"))

    op.drop_table("inventory_outbox")
    op.drop_table("inventory_movement")
    op.drop_table("inventory_location")
    op.drop_table("inventory_channel_policy")
