"""Pricing: SKU facts, base price lists, promotions with their versions, and the outbox.

Revision ID: pricing_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pricing_outbox",
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
    with op.batch_alter_table("pricing_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricing_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "pricing_promotion",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("rolled_back", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pricing_promotion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricing_promotion_lifecycle"), ["lifecycle"], unique=False
        )

    op.create_table(
        "pricing_sku",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("tax_rate", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "pricing_base_price",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["pricing_sku.sku"],
        ),
        sa.PrimaryKeyConstraint("sku", "currency", "channel"),
    )
    op.create_table(
        "pricing_promotion_version",
        sa.Column("promotion_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["pricing_promotion.id"],
        ),
        sa.PrimaryKeyConstraint("promotion_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("pricing_promotion_version")
    op.drop_table("pricing_base_price")
    op.drop_table("pricing_sku")
    with op.batch_alter_table("pricing_promotion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_promotion_lifecycle"))

    op.drop_table("pricing_promotion")
    with op.batch_alter_table("pricing_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_outbox_published_at"))

    op.drop_table("pricing_outbox")
