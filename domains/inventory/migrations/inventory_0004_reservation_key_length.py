"""Inventory: a reservation key holds a 200-character checkout key and its line number.

Revision ID: inventory_0004
Revises: inventory_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0004"
down_revision = "inventory_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_reservation") as batch:
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=200),
            type_=sa.String(length=204),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("inventory_reservation") as batch:
        batch.alter_column(
            "idempotency_key",
            existing_type=sa.String(length=204),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
