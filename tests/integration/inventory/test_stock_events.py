"""Whatever changes the stock, the newest stock events say what a fresh read finds after it:
each change computes them from the stock it read under its locks, without reading again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.handlers import (
    CancelledLine,
    ReturnedUnits,
    commit_order_stock,
    release_order_stock,
    return_order_stock,
)
from domains.inventory.model import Movement, MovementType
from domains.inventory.service import ReservationRequest
from tests.integration.inventory.conftest import new_sku, stock

CHANNELS = ("app", "store", "web")
REGIONS = {"DC": "north", "ST": "south"}


async def _newest_events(domain: InventoryDomain, sku: str) -> dict[tuple[str, str], Any]:
    """The payload of the newest event of each type and partition of ``sku``."""
    outbox = tables.outbox
    query = (
        select(outbox.c.type, outbox.c.partition_key, outbox.c.payload)
        .where(outbox.c.partition_key.like(f"{sku}@%"))
        .order_by(outbox.c.seq)
    )
    async with domain.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {(type, key): payload for type, key, payload in rows}


async def _what_a_fresh_read_finds(domain: InventoryDomain, sku: str) -> dict[tuple[str, str], Any]:
    now = domain.clock.now()
    async with domain.engine.connect() as conn:
        levels = await repository.load_levels(conn, [sku], now)
        availability = await repository.load_availability(
            conn, {(sku, channel) for channel in CHANNELS}, now
        )
    found: dict[tuple[str, str], Any] = {}
    for level in levels:
        found[("StockChanged", f"{sku}@{level.location_id}")] = {
            "sku": sku,
            "locationId": level.location_id,
            **level.quantities(),
        }
    for channel in CHANNELS:
        available = availability[(sku, channel)].available
        found[("AvailabilityChanged", f"{sku}@{channel}")] = {
            "sku": sku,
            "channel": channel,
            "available": available,
        }
    for region in REGIONS.values():
        available = sum(lvl.available for lvl in levels if REGIONS[lvl.location_id] == region)
        found[("RegionalAvailabilityChanged", f"{sku}@{region}")] = {
            "sku": sku,
            "region": region,
            "available": available,
        }
    return found


async def _assert_announced_as_stored(domain: InventoryDomain, sku: str) -> None:
    stored = await _what_a_fresh_read_finds(domain, sku)
    announced = await _newest_events(domain, sku)
    assert {key: announced.get(key) for key in stored} == stored


async def test_every_stock_change_announces_the_stock_a_fresh_read_finds(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=12, incoming=4)
    await stock(domain, sku, "ST", on_hand=5)
    await _assert_announced_as_stored(domain, sku)

    order = [
        ReservationRequest(sku, "DC", 3, f"{sku}:1", "O-1", channel="web"),
        ReservationRequest(sku, "DC", 2, f"{sku}:2", "O-1", channel="app"),
        ReservationRequest(sku, "ST", 1, f"{sku}:3", "O-1", channel="store"),
    ]
    await service.reserve_stock_lines(domain.uow(), order)
    await _assert_announced_as_stored(domain, sku)

    async with domain.uow() as uow:
        await commit_order_stock(uow, [f"{sku}:1", f"{sku}:2"])
    await _assert_announced_as_stored(domain, sku)

    async with domain.uow() as uow:
        cancelled = [CancelledLine(f"{sku}:1", sku, 1), CancelledLine(f"{sku}:3", sku, 1)]
        await release_order_stock(uow, "DC", cancelled)
    await _assert_announced_as_stored(domain, sku)

    async with domain.uow() as uow:
        await return_order_stock(uow, "ST", [ReturnedUnits(sku, 2, damaged=True)])
    await _assert_announced_as_stored(domain, sku)

    receipt = Movement(MovementType.RECEIPT, sku, "DC", 6, f"GRN-{sku}", 1)
    transfer = Movement(MovementType.TRANSFER, sku, "DC", 2, f"TR-{sku}", 1, to_location_id="ST")
    await service.apply_stock_movements(domain.uow(), [receipt, transfer])
    await _assert_announced_as_stored(domain, sku)

    held = await service.reserve_stock(
        domain.uow(), sku=sku, location_id="ST", quantity=2, idempotency_key=f"{sku}:held"
    )
    await service.consume_reservation(domain.uow(), id=held.id)
    await _assert_announced_as_stored(domain, sku)

    await service.reserve_stock(
        domain.uow(), sku=sku, location_id="DC", quantity=4, idempotency_key=f"{sku}:given"
    )
    await service.release_reservation(domain.uow(), idempotency_key=f"{sku}:given")
    await _assert_announced_as_stored(domain, sku)
