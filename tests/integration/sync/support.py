"""Inventory and orders on one private database, stocked like the demo retailer's first
few SKUs, for the inbound sync tests (simulator and Tryton alike)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import update

from domains.inventory import ledger, service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import StockLevel
from domains.orders import commands
from domains.orders import service as orders
from domains.orders import tables as order_tables
from domains.orders.bootstrap import OrdersDomain
from domains.orders.model import NewLine, Order
from retailgraph.demo.catalog import demo_catalog
from retailgraph.demo.inventory import save_locations


async def seed_locations(domain: InventoryDomain) -> None:
    await save_locations(domain, demo_catalog().locations)


async def set_on_hand(domain: InventoryDomain, levels: dict[tuple[str, str], int]) -> None:
    await service.import_stock_levels(
        domain.uow(), [StockLevel(sku, loc, on_hand=qty) for (sku, loc), qty in levels.items()]
    )


async def levels(domain: InventoryDomain, sku: str) -> dict[str, StockLevel]:
    """``sku``'s stock per location, leaving out locations that never stocked it."""
    everywhere = await ledger.all_location_ids(domain.uow())
    found = await ledger.stock_at(domain.uow(), everywhere)
    return {level.location_id: level for level in found if level.sku == sku}


async def on_hand(domain: InventoryDomain, sku: str) -> dict[str, int]:
    return {location: level.on_hand for location, level in (await levels(domain, sku)).items()}


async def released_order(
    domain: OrdersDomain,
    lines: Sequence[tuple[str, int]],
    location: str = "DC-NORTH",
    *,
    release: bool = True,
    renumber: bool = True,
) -> Order:
    """An order that is paid and released to fulfilment, ready to ship (or only paid);
    under a random number, unless the test posts it through the ERP worker (whose
    postings keep the number it was created with) under a prefix of its own."""
    created = await orders.create_order(
        domain.uow(),
        idempotency_key=f"inbound-{uuid.uuid4()}",
        channel="web",
        fulfilment_type="SHIP_FROM_DC",
        location_id=location,
        customer_reference="RetailGraph Web Shop",
        currency="EUR",
        lines=[NewLine(sku, qty, Decimal("19.99"), None, Decimal("0.19")) for sku, qty in lines],
    )
    order = created.order
    steps: list[commands.OrderCommand] = [commands.Confirm(), commands.AuthorizePayment()]
    for step in [*steps, commands.ReleaseToFulfilment()] if release else steps:
        order = await orders.change_order(domain.uow(), order.id, step)
    return await _renumbered(domain, order) if renumber else order


async def _renumbered(domain: OrdersDomain, order: Order) -> Order:
    """The order under a random number: every test's database starts counting at 1, and
    the Tryton server the tests share must never see one number for two orders."""
    async with domain.engine.begin() as conn:
        await conn.execute(
            update(order_tables.orders)
            .where(order_tables.orders.c.id == order.id)
            .values(seq=secrets.randbelow(9_000_000) + 1_000_000)
        )
    return await orders.get_order(domain.uow(), order.id)
