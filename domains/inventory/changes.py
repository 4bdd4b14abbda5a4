"""The events every stock change records: what the levels are now, and what each channel sees."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from domains.inventory.model import StockLevel
from domains.inventory.picture import StockPicture
from domains.inventory.ports import UnitOfWork
from kernel.event_types import AvailabilityChanged, RegionalAvailabilityChanged, StockChanged
from kernel.events import Event

Pair = tuple[str, str]


async def record_stock_changes(
    uow: UnitOfWork, pairs: Collection[Pair], now: datetime
) -> list[StockLevel]:
    """Read the touched SKUs' stock as the transaction has written it (one statement) and
    announce it (``announce_stock_changes``); the touched levels, in key order."""
    picture = await uow.stock.load_picture({sku for sku, _ in pairs}, now)
    return announce_stock_changes(uow, picture, pairs, now)


def announce_stock_changes(
    uow: UnitOfWork, picture: StockPicture, pairs: Collection[Pair], now: datetime
) -> list[StockLevel]:
    """StockChanged per (sku, location), AvailabilityChanged per (sku, channel) served at
    a touched location and RegionalAvailabilityChanged per (sku, region) touched, as
    ``picture`` (the stock after the change) has them; the touched levels, in key order."""
    levels = [picture.levels[pair] for pair in sorted(pairs) if pair in picture.levels]
    for level in levels:
        changed = StockChanged(
            sku=level.sku,
            location_id=level.location_id,
            on_hand=level.on_hand,
            committed=level.committed,
            reserved=level.reserved,
            safety_stock=level.safety_stock,
            quarantined=level.quarantined,
            incoming=level.incoming,
            available=level.available,
        )
        uow.record(
            Event.of(changed, partition_key=f"{level.sku}@{level.location_id}", occurred_at=now)
        )
    served = {(sku, channel) for sku, loc in pairs for channel in picture.channels_at(loc)}
    for sku, channel in sorted(served):
        uow.record(
            Event.of(
                AvailabilityChanged(
                    sku=sku, channel=channel, available=picture.availability(sku, channel).available
                ),
                partition_key=f"{sku}@{channel}",
                occurred_at=now,
            )
        )
    # The sellable units of each touched SKU summed over each touched region: what pricing
    # pauses low-stock promotions on. Keyed by sku and region, so a region's changes are
    # consumed in order.
    regions = {(sku, picture.regions[loc]) for sku, loc in pairs if loc in picture.regions}
    for sku, region in sorted(regions):
        available = picture.regional_available(sku, region)
        uow.record(
            Event.of(
                RegionalAvailabilityChanged(sku=sku, region=region, available=available),
                partition_key=f"{sku}@{region}",
                occurred_at=now,
            )
        )
    return levels
