"""Pricing: base prices as effective-dated rows (history kept), and held price changes.

The existing prices become the first row of each price list's history, in effect since
they were last updated and announced then.

Revision ID: pricing_0006
Revises: pricing_0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0006"
down_revision = "pricing_0005"
branch_labels = None
depends_on = None

COLUMNS = "sku, currency, channel, amount, updated_at"


def _price_table(name: str, *, dated: bool) -> None:
    key = ["sku", "currency", "channel", *(["effective_from"] if dated else [])]
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]
    if dated:
        columns[3:3] = [sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False)]
        columns.append(sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        name,
        *columns,
        sa.ForeignKeyConstraint(["sku"], ["pricing_sku.sku"]),
        sa.PrimaryKeyConstraint(*key, name=f"{name}_pkey"),
    )


def upgrade() -> None:
    # A primary key cannot be widened in place on SQLite: the table is rebuilt.
    _price_table("pricing_base_price_dated", dated=True)
    op.execute(
        f"INSERT INTO pricing_base_price_dated ({COLUMNS}, effective_from, announced_at) "
        f"SELECT {COLUMNS}, updated_at, updated_at FROM pricing_base_price"
    )
    op.drop_index("ix_pricing_base_price_channel", table_name="pricing_base_price")
    op.drop_table("pricing_base_price")
    op.rename_table("pricing_base_price_dated", "pricing_base_price")
    op.create_index("ix_pricing_base_price_channel", "pricing_base_price", ["channel"])
    op.create_index(
        "ix_pricing_base_price_announced_effective",
        "pricing_base_price",
        ["announced_at", "effective_from"],
    )
    op.create_table(
        "pricing_held_price_change",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("old_amount", sa.String(length=32), nullable=False),
        sa.Column("new_amount", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["sku"], ["pricing_sku.sku"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pricing_held_price_change_status_key",
        "pricing_held_price_change",
        ["status", "sku", "currency", "channel"],
    )


def downgrade() -> None:
    op.drop_index("ix_pricing_held_price_change_status_key", "pricing_held_price_change")
    op.drop_table("pricing_held_price_change")
    # Back to one price per list: the one in effect last (scheduled ones are dropped).
    _price_table("pricing_base_price_single", dated=False)
    op.execute(
        f"INSERT INTO pricing_base_price_single ({COLUMNS}) "
        f"SELECT {COLUMNS} FROM pricing_base_price AS p WHERE p.announced_at IS NOT NULL "
        "AND p.effective_from = (SELECT max(q.effective_from) FROM pricing_base_price AS q "
        "WHERE q.sku = p.sku AND q.currency = p.currency AND q.channel = p.channel "
        "AND q.announced_at IS NOT NULL)"
    )
    op.drop_index("ix_pricing_base_price_announced_effective", "pricing_base_price")
    op.drop_index("ix_pricing_base_price_channel", "pricing_base_price")
    op.drop_table("pricing_base_price")
    op.rename_table("pricing_base_price_single", "pricing_base_price")
    op.create_index("ix_pricing_base_price_channel", "pricing_base_price", ["channel"])
