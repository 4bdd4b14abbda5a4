"""Products: the product master, channel publications and the outbox.

Revision ID: products_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "products_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products_outbox",
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
    op.create_index("ix_products_outbox_published_at", "products_outbox", ["published_at"])

    op.create_table(
        "products_product",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("unit_of_measure", sa.String(length=8), nullable=False),
        sa.Column("style", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("variant_attributes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_index("ix_products_product_brand", "products_product", ["brand"])
    op.create_index("ix_products_product_category", "products_product", ["category"])
    op.create_index("ix_products_product_style", "products_product", ["style"])

    op.create_table(
        "products_publication",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sku"], ["products_product.sku"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sku", "channel"),
    )
    op.create_index(
        "ix_products_publication_channel_published",
        "products_publication",
        ["channel", "published"],
    )


def downgrade() -> None:
    op.drop_table("products_publication")
    op.drop_table("products_product")
    op.drop_table("products_outbox")
