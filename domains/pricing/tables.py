"""Pricing's tables. Amounts and rates are stored as decimal text: exact on both backends
(SQLite has no exact decimal type), and compared only after parsing into ``Decimal``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from adapters.db.outbox import outbox_table

metadata = MetaData()

# Pricing's own copy of what it needs from the item master: category for eligibility and
# the tax rate. Fed by imports (later by product events), never read from products' tables.
skus = Table(
    "pricing_sku",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("category", String(200)),
    Column("tax_rate", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# channel "*" is the price list's price on every channel; a named channel overrides it.
# Each row is one price from its ``effective_from`` on, until the next row of the same
# (sku, currency, channel): the history is kept, and a price asked for at any moment is
# the row in effect then. ``announced_at`` is when its ``PriceChanged`` was recorded: at
# the import for a price in effect at once, when its moment comes for a scheduled one
# (claimed once across replicas, as promotion windows are).
base_prices = Table(
    "pricing_base_price",
    metadata,
    Column("sku", String(64), ForeignKey("pricing_sku.sku"), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("effective_from", DateTime(timezone=True), primary_key=True),
    Column("amount", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("announced_at", DateTime(timezone=True)),
    # The channel overrides, found without reading every price (the price-parity KPI).
    Index("ix_pricing_base_price_channel", "channel"),
    # The scheduled prices whose moment has come and that are not announced yet.
    Index("ix_pricing_base_price_announced_effective", "announced_at", "effective_from"),
)

# A price change an import held back because it moves the price by more than the guard
# allows ([pricing] max_price_change_percent): applied only when an operator approves it.
held_price_changes = Table(
    "pricing_held_price_change",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sku", String(64), ForeignKey("pricing_sku.sku"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("old_amount", String(32), nullable=False),
    Column("new_amount", String(32), nullable=False),
    # None: in effect when approved; else the moment the import asked for.
    Column("effective_from", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Index("ix_pricing_held_price_change_status_key", "status", "sku", "currency", "channel"),
)

promotions = Table(
    "pricing_promotion",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("lifecycle", String(16), nullable=False, index=True),
    Column("current_version", Integer, nullable=False),
    Column("rolled_back", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

promotion_versions = Table(
    "pricing_promotion_version",
    metadata,
    Column("promotion_id", String(64), ForeignKey("pricing_promotion.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("terms", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# A promotion paused for one SKU in one region because stock there ran low; the row goes
# when the pause lifts. The region comes from inventory's events, never its tables.
stock_pauses = Table(
    "pricing_promotion_stock_pause",
    metadata,
    Column("promotion_id", String(64), ForeignKey("pricing_promotion.id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("available", Integer, nullable=False),
    Column("paused_at", DateTime(timezone=True), nullable=False),
    Index("ix_pricing_promotion_stock_pause_sku_region", "sku", "region"),
)

# Each promotion window's opening and closing announced so far, per version: claimed in
# the transaction that records the announcement, so across restarts and replicas each
# is announced once (the key refuses a second claim).
window_transitions = Table(
    "pricing_promotion_window_transition",
    metadata,
    Column("promotion_id", String(64), ForeignKey("pricing_promotion.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("transition", String(16), primary_key=True),
    Column("announced_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata, "pricing")

ALL_CHANNELS = "*"
