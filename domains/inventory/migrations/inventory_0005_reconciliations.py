"""Inventory: the stored reconciliations and their divergences.

Revision ID: inventory_0005
Revises: inventory_0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0005"
down_revision = "inventory_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_reconciliation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("by_cause", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inventory_reconciliation", schema=None) as batch_op:
        batch_op.create_index("ix_inventory_reconciliation_ran_at", ["ran_at"], unique=False)
    op.create_table(
        "inventory_divergence",
        sa.Column("reconciliation_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("erp", sa.BigInteger(), nullable=False),
        sa.Column("ours", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("repaired", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"], ["inventory_reconciliation.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("reconciliation_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("inventory_divergence")
    with op.batch_alter_table("inventory_reconciliation", schema=None) as batch_op:
        batch_op.drop_index("ix_inventory_reconciliation_ran_at")
    op.drop_table("inventory_reconciliation")
