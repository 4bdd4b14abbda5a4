"""The events every stock change records: what the levels are now, and what each channel sees."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from domains.inventory.model import StockLevel
from domains.inventory.ports import UnitOfWork
from kernel.event_types import AvailabilityChanged, RegionalAvailabilityChanged, StockChanged
from kernel.events import Event

Pair = tuple[str, str]


async def record_stock_changes(
    uow: UnitOfWork,
    pairs: Collection[Pair],
    now: datetime,
    *,
    known: Sequence[StockLevel] | None = None,
) -> list[StockLevel]:
    """StockChanged per (sku, location), AvailabilityChanged per (sku, channel) and
    RegionalAvailabilityChanged per (sku, region) touched.

    ``known`` are the levels after the change when the caller has them already.
    """
    # Every location's level of the touched SKUs: the regional sums need them all.
    everywhere = await uow.stock.load_levels({sku for sku, _ in pairs}, now)
    if known is not None:
        levels = list(known)
    else:
        levels = [level for level in everywhere if (level.sku, level.location_id) in pairs]
    served = await uow.stock.channels_served({loc for _, loc in pairs})
    keys = {(sku, channel) for sku, loc in pairs for channel in served.get(loc, [])}
    availability = await uow.stock.load_availability(keys, now)
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
    for (sku, channel), atp in sorted(availability.items()):
        uow.record(
            Event.of(
                AvailabilityChanged(sku=sku, channel=channel, available=atp.available),
                partition_key=f"{sku}@{channel}",
                occurred_at=now,
            )
        )
    await _record_regional_availability(uow, pairs, everywhere, now)
    return levels


async def _record_regional_availability(
    uow: UnitOfWork, pairs: Collection[Pair], levels: Sequence[StockLevel], now: datetime
) -> None:
    """The sellable units of each touched SKU summed over the locations of each touched
    region: what pricing pauses low-stock promotions on. Keyed by sku and region, so a
    region's changes are consumed in order."""
    regions = await uow.stock.regions_of({level.location_id for level in levels})
    touched = {(sku, regions[loc]) for sku, loc in pairs if loc in regions}
    totals = dict.fromkeys(touched, 0)
    for level in levels:
        key = (level.sku, regions.get(level.location_id, ""))
        if key in totals:
            totals[key] += level.available
    for (sku, region), available in sorted(totals.items()):
        uow.record(
            Event.of(
                RegionalAvailabilityChanged(sku=sku, region=region, available=available),
                partition_key=f"{sku}@{region}",
                occurred_at=now,
            )
        )
