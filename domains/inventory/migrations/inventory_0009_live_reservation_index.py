"""Inventory: one index of the reservations by status, stock row and expiry.

It replaces the index of (sku, location_id, status) and the one of (status, expires_at):
a look-up of one stock row's live reservations and the sweep of the expired ones both go
through it, and the planner has no other to choose (``domains/inventory/tables.py``).

Revision ID: inventory_0009
Revises: inventory_0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "inventory_0009"
down_revision = "inventory_0008"
branch_labels = None
depends_on = None

_TABLE = "inventory_reservation"


def upgrade() -> None:
    op.drop_index("ix_inventory_reservation_stock", table_name=_TABLE)
    op.drop_index("ix_inventory_reservation_expiry", table_name=_TABLE)
    op.create_index(
        "ix_inventory_reservation_live", _TABLE, ["status", "sku", "location_id", "expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_inventory_reservation_live", table_name=_TABLE)
    op.create_index("ix_inventory_reservation_expiry", _TABLE, ["status", "expires_at"])
    op.create_index("ix_inventory_reservation_stock", _TABLE, ["sku", "location_id", "status"])
