"""Pricing: the relay finds its batch through an index of the unpublished outbox rows.

The index of ``published_at`` over every row is replaced by one of ``seq`` over the
rows whose ``published_at`` is NULL (``adapters/db/outbox.py``).

Revision ID: pricing_0007
Revises: pricing_0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0007"
down_revision = "pricing_0006"
branch_labels = None
depends_on = None

_UNPUBLISHED = sa.text("published_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_pricing_outbox_published_at", table_name="pricing_outbox")
    op.create_index(
        "ix_pricing_outbox_unpublished",
        "pricing_outbox",
        ["seq"],
        postgresql_where=_UNPUBLISHED,
        sqlite_where=_UNPUBLISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_pricing_outbox_unpublished", table_name="pricing_outbox")
    op.create_index("ix_pricing_outbox_published_at", "pricing_outbox", ["published_at"])
