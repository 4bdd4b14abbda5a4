"""Loads the demo retailer's locations, stock and a few live reservations into inventory.

Everything goes through the inventory service layer, as the ERP sync would.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from domains.inventory import service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import InsufficientStock
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from retailgraph.demo.catalog import MARKETPLACE, DemoCatalog, DemoLocation

BATCH = 2000
RESERVATIONS = 12
# Long enough to still be live when someone explores the demo the next day.
RESERVATION_TTL_SECONDS = 3 * 24 * 3600

# Web and app orders may ship once in-transit stock lands; a store pickup cannot wait, and
# the marketplace's delivery promise counts only what is on the shelf.
COUNTS_INCOMING = {"web": True, "app": True, "store": False, MARKETPLACE: False}
# The share of a DC's sellable stock the marketplace may promise.
MARKETPLACE_SHARE = 30


def channel_rules(location: DemoLocation) -> list[ChannelRule]:
    """DCs offer everything to every channel they serve but the marketplace, which gets a
    share; stores keep half back from the web (ship-from-store) and never promise more than
    10 units of one SKU online."""
    if location.kind == "DC":
        return [
            ChannelRule(channel, MARKETPLACE_SHARE)
            if channel == MARKETPLACE
            else ChannelRule(channel)
            for channel in location.channels
        ]
    return [
        ChannelRule(channel) if channel == "store" else ChannelRule(channel, 50, cap=10)
        for channel in location.channels
    ]


async def save_locations(domain: InventoryDomain, locations: Sequence[DemoLocation]) -> None:
    """The demo locations with their channel rules, one transaction each."""
    for location in locations:
        await service.save_location(
            domain.uow(),
            id=location.id,
            name=location.name,
            kind=LocationKind(location.kind),
            region=location.region,
            rules=channel_rules(location),
            sales=domain.sales,
        )


async def load(domain: InventoryDomain, catalog: DemoCatalog) -> None:
    """Locations, stock and reservations; a no-op once the stock is there."""
    async with domain.engine.connect() as conn:
        rows = (await conn.execute(select(func.count()).select_from(tables.stock))).scalar_one()
    if rows >= len(catalog.stock):
        return
    await save_locations(domain, catalog.locations)
    for channel, counts_incoming in COUNTS_INCOMING.items():
        if domain.sales.sells_in(channel):
            await service.set_channel_policy(
                domain.uow(), channel, counts_incoming=counts_incoming, sales=domain.sales
            )
    for start in range(0, len(catalog.stock), BATCH):
        levels = [
            StockLevel(
                sku=row.sku,
                location_id=row.location_id,
                on_hand=row.on_hand,
                safety_stock=row.safety_stock,
                quarantined=row.quarantined,
                incoming=row.incoming,
            )
            for row in catalog.stock[start : start + BATCH]
        ]
        await service.import_stock_levels(domain.uow(), levels)
    await _reserve_some(domain, catalog)


async def _reserve_some(domain: InventoryDomain, catalog: DemoCatalog) -> None:
    dc_stock = [row for row in catalog.stock if row.location_id.startswith("DC-")]
    for number, row in enumerate(dc_stock[:RESERVATIONS], start=1):
        try:
            await service.reserve_stock(
                domain.uow(),
                sku=row.sku,
                location_id=row.location_id,
                quantity=1 + number % 3,
                idempotency_key=f"demo-reservation-{number}",
                order_reference=f"DEMO-ORDER-{number:04d}",
                ttl_seconds=RESERVATION_TTL_SECONDS,
            )
        except InsufficientStock:
            continue  # a demo SKU with nothing sellable simply gets no reservation
