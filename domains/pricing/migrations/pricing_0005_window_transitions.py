"""Pricing: each promotion window's opening and closing, claimed once when announced.

Revision ID: pricing_0005
Revises: pricing_0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0005"
down_revision = "pricing_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pricing_promotion_window_transition",
        sa.Column("promotion_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(length=16), nullable=False),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["promotion_id"], ["pricing_promotion.id"]),
        sa.PrimaryKeyConstraint("promotion_id", "version", "transition"),
    )


def downgrade() -> None:
    op.drop_table("pricing_promotion_window_transition")
