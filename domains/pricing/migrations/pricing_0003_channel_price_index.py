"""Pricing: an index on the base prices' channel, to find the channel overrides.

Revision ID: pricing_0003
Revises: pricing_0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "pricing_0003"
down_revision = "pricing_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pricing_base_price", schema=None) as batch_op:
        batch_op.create_index("ix_pricing_base_price_channel", ["channel"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pricing_base_price", schema=None) as batch_op:
        batch_op.drop_index("ix_pricing_base_price_channel")
