"""Inventory: the relay finds its batch through an index of the unpublished outbox rows.

The index of ``published_at`` over every row is replaced by one of ``seq`` over the
rows whose ``published_at`` is NULL (``adapters/db/outbox.py``).

Revision ID: inventory_0008
Revises: inventory_0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0008"
down_revision = "inventory_0007"
branch_labels = None
depends_on = None

_UNPUBLISHED = sa.text("published_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_inventory_outbox_published_at", table_name="inventory_outbox")
    op.create_index(
        "ix_inventory_outbox_unpublished",
        "inventory_outbox",
        ["seq"],
        postgresql_where=_UNPUBLISHED,
        sqlite_where=_UNPUBLISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_inventory_outbox_unpublished", table_name="inventory_outbox")
    op.create_index("ix_inventory_outbox_published_at", "inventory_outbox", ["published_at"])
