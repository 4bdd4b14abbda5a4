"""Inventory: where each inbound feed (the ERP's stock moves) has read up to.

Revision ID: inventory_0002
Revises: inventory_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0002"
down_revision = "inventory_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_feed",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "inventory_feed_entry",
        sa.Column("feed", sa.String(length=64), nullable=False),
        sa.Column("entry_key", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["feed"], ["inventory_feed.name"]),
        sa.PrimaryKeyConstraint("feed", "entry_key"),
    )
    with op.batch_alter_table("inventory_feed_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_feed_entry_changed", ["feed", "changed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_feed_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_feed_entry_changed")
    op.drop_table("inventory_feed_entry")
    op.drop_table("inventory_feed")
