"""Pricing: promotions paused per SKU and region when stock there runs low.

Revision ID: pricing_0002
Revises: pricing_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0002"
down_revision = "pricing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pricing_promotion_stock_pause",
        sa.Column("promotion_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["promotion_id"], ["pricing_promotion.id"]),
        sa.PrimaryKeyConstraint("promotion_id", "sku", "region"),
    )
    with op.batch_alter_table("pricing_promotion_stock_pause", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pricing_promotion_stock_pause_sku_region", ["sku", "region"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pricing_promotion_stock_pause", schema=None) as batch_op:
        batch_op.drop_index("ix_pricing_promotion_stock_pause_sku_region")
    op.drop_table("pricing_promotion_stock_pause")
