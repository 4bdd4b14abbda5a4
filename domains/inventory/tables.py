"""Inventory's tables. ``reserved`` has no column: it is summed from live reservations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    false,
)

from adapters.db.outbox import outbox_table
from adapters.db.postings import posting_state_columns
from kernel.keys import MAX_RESERVATION_KEY

metadata = MetaData()

locations = Table(
    "inventory_location",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("region", String(64), nullable=False),
    CheckConstraint("kind IN ('DC', 'WAREHOUSE', 'STORE')", name="ck_inventory_location_kind"),
)

# A row means "this location serves this channel", with the channel's allocation rule.
location_channels = Table(
    "inventory_location_channel",
    metadata,
    Column("location_id", String(64), ForeignKey(locations.c.id), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("share_percent", Integer, nullable=False, server_default="100"),
    Column("cap", Integer),
    CheckConstraint("share_percent BETWEEN 0 AND 100", name="ck_inventory_location_channel_share"),
    CheckConstraint("cap IS NULL OR cap >= 0", name="ck_inventory_location_channel_cap"),
)

channel_policies = Table(
    "inventory_channel_policy",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("counts_incoming", Boolean, nullable=False, server_default=false()),
)

stock = Table(
    "inventory_stock",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("location_id", String(64), ForeignKey(locations.c.id), primary_key=True),
    Column("on_hand", Integer, nullable=False, server_default="0"),
    Column("committed", Integer, nullable=False, server_default="0"),
    Column("safety_stock", Integer, nullable=False, server_default="0"),
    Column("quarantined", Integer, nullable=False, server_default="0"),
    Column("incoming", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "on_hand >= 0 AND committed >= 0 AND safety_stock >= 0 "
        "AND quarantined >= 0 AND incoming >= 0",
        name="ck_inventory_stock_not_negative",
    ),
    Index("ix_inventory_stock_location", "location_id"),
)

reservations = Table(
    "inventory_reservation",
    metadata,
    Column("id", String(36), primary_key=True),
    # The unique key is what makes a concurrent repeat lose its insert, not double-book.
    Column("idempotency_key", String(MAX_RESERVATION_KEY), nullable=False, unique=True),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), ForeignKey(locations.c.id), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("order_reference", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("quantity > 0", name="ck_inventory_reservation_quantity"),
    CheckConstraint(
        "status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'CONSUMED')",
        name="ck_inventory_reservation_status",
    ),
    # One index for the live reservations of a stock row (the stock reads sum them) and
    # for those past their expiry (the sweep), so the planner has no other to choose.
    # With an index of (sku, location_id, status) beside one of (status, expires_at), or
    # of the ACTIVE rows' expires_at, a look-up of one stock row's live reservations cost
    # the same through either while the table had no statistics, and the planner could
    # pick the second and read every live reservation of every SKU for each stock row
    # (tests/integration/inventory/test_stock_reads.py).
    Index("ix_inventory_reservation_live", "status", "sku", "location_id", "expires_at"),
)

# One row per applied movement line: replaying a source document finds its lines here.
movements = Table(
    "inventory_movement",
    metadata,
    Column("source_document_id", String(200), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    Column("to_location_id", String(64)),
    Column("quantity", Integer, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# Where each inbound feed (e.g. the ERP's stock moves) has read up to, on the feed's clock,
# so a restarted poller carries on from there.
feeds = Table(
    "inventory_feed",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("watermark", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The feed entries handed out inside the overlap window, so re-reading them is a no-op;
# entries older than the window are dropped as the watermark moves on.
feed_entries = Table(
    "inventory_feed_entry",
    metadata,
    Column("feed", String(64), ForeignKey(feeds.c.name), primary_key=True),
    Column("entry_key", String(200), primary_key=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_inventory_feed_entry_changed", "feed", "changed_at"),
)

# Events from other domains whose effect is committed, per consumer: written in the same
# transaction as the effect, so a redelivered event never takes effect twice.
handled_events = Table(
    "inventory_handled_event",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("handled_at", DateTime(timezone=True), nullable=False),
)

# The stored reconciliations of every SKU at every location (the newest few; older ones
# are dropped as new ones come), with their totals per cause for the divergence KPIs.
reconciliations = Table(
    "inventory_reconciliation",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("compared", Integer, nullable=False),
    Column("by_cause", JSON, nullable=False),
    Index("ix_inventory_reconciliation_ran_at", "ran_at"),
)

divergences = Table(
    "inventory_divergence",
    metadata,
    Column(
        "reconciliation_id",
        String(36),
        ForeignKey(reconciliations.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("location_id", String(64), nullable=False),
    # The ERP's figure is not bounded by ours.
    Column("erp", BigInteger, nullable=False),
    Column("ours", Integer, nullable=False),
    Column("pending", Integer, nullable=False),
    Column("held", Integer, nullable=False),
    Column("cause", String(32), nullable=False),
    Column("repaired", Boolean, nullable=False, server_default=false()),
)

# Stock moves owed to the ERP for movements it has not seen (a WMS's), written in the
# movement's transaction (see erp_postings); the ERP package's worker posts them. ``seq``
# orders the postings of one SKU, which the ERP receives in that order.
erp_postings = Table(
    "inventory_erp_posting",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("reference", String(100), nullable=False, unique=True),
    Column("sku", String(64), nullable=False, index=True),
    Column("source_document_id", String(200), nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("payload", JSON, nullable=False),
    *posting_state_columns(document_id_length=200),
    Column("traceparent", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_inventory_erp_posting_due", "status", "next_attempt_at"),
)

outbox = outbox_table(metadata, "inventory")
