"""Inbound sync against a real Tryton: stock moves, shipments, imports, reconciliation.

Each test works on demo SKUs no other test touches, and starts its poller at Tryton's
current position, so the moves other tests made on the shared server are history.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.handlers import ORDER_EVENTS, OrderStockHandler
from domains.inventory.model import (
    DivergenceCause,
    Movement,
    MovementOrigin,
    MovementType,
    StockLevel,
)
from domains.inventory.service import apply_stock_movements, import_stock_levels
from domains.orders import commands
from domains.orders.bootstrap import OrdersDomain
from domains.orders.model import OrderStatus, ReturnDisposition
from domains.orders.service import change_order, get_order
from domains.pricing import bootstrap as pricing_bootstrap
from domains.pricing import imports as price_imports
from domains.pricing.bootstrap import PricingDomain
from domains.products import bootstrap as products_bootstrap
from domains.products import repository as product_store
from domains.products import service as product_service
from domains.products.bootstrap import ProductsDomain
from erp.port import ErpSale, OrderLine, SalesOrder
from erp.sync.catalog import sync_prices, sync_products
from erp.sync.reconcile import reconcile_inventory
from erp.sync.shipments import CONFIRMED, PARKED
from erp.sync.stock import StockPoller
from erp.tryton.erp import TrytonErp
from kernel.events import Event
from retailgraph.demo.catalog import demo_catalog
from retailgraph.demo.products import item_record
from tests.integration.erp.tryton_ops import (
    fixed_price,
    receive,
    rename_and_reprice,
    ship,
    transfer,
)
from tests.integration.orders.erp_support import FAST, drain, fast_worker
from tests.integration.sync.fixtures import inventory, orders
from tests.integration.sync.support import levels, on_hand, released_order, set_on_hand
from tests.support import local_runtime

pytestmark = pytest.mark.tryton

__all__ = ["inventory", "orders"]

LOCATIONS = [location.id for location in demo_catalog().locations]
CUSTOMER = "RetailGraph Web Shop"


@pytest.fixture
def backend() -> str:
    """SQLite only: the feed's storage runs on both backends in tests/integration/sync."""
    return "sqlite"


def sku(number: int) -> str:
    """A demo SKU of this module's own (the early ones belong to the adapter tests)."""
    return demo_catalog().items[100 + number].sku


async def mirror(erp: TrytonErp, domain: InventoryDomain, *skus: str) -> dict[tuple[str, str], int]:
    """Our stock of ``skus`` set to Tryton's: what the initial load does."""
    found = {
        (level.sku, level.location): int(level.quantity)
        for level in await erp.stock_levels(skus=list(skus), locations=LOCATIONS)
    }
    await set_on_hand(domain, found)
    return found


async def test_receipt_and_transfer_done_in_tryton_reach_our_stock_after_one_poll(
    tryton: TrytonErp, inventory: InventoryDomain
) -> None:
    item = sku(1)
    before = await mirror(tryton, inventory, item)
    poller = StockPoller(tryton, inventory)
    assert (await poller.poll_once()).baseline
    await receive(tryton, item, "DC-NORTH", 7)
    await transfer(tryton, item, "DC-NORTH", "STORE-BERLIN", 2)

    report = await poller.poll_once()
    assert sorted((m.type.value, m.location_id, m.quantity) for m in report.applied) == [
        ("RECEIPT", "DC-NORTH", 7),
        ("RECEIPT", "STORE-BERLIN", 2),
        ("TRANSFER", "DC-NORTH", 2),
    ]
    stock = await on_hand(inventory, item)
    assert stock["DC-NORTH"] == before[(item, "DC-NORTH")] + 5
    assert stock["STORE-BERLIN"] == before.get((item, "STORE-BERLIN"), 0) + 2
    assert (await levels(inventory, item))["STORE-BERLIN"].incoming == 0

    again = await poller.poll_once()
    assert again.applied == []
    assert again.duplicates == []
    assert await on_hand(inventory, item) == stock
    assert {(k, v) for k, v in stock.items()} == {
        (level.location, int(level.quantity))
        for level in await tryton.stock_levels(skus=[item], locations=list(stock))
    }


async def test_a_restarted_poller_misses_nothing_and_repeats_nothing(
    tryton: TrytonErp, inventory: InventoryDomain
) -> None:
    item = sku(2)
    before = await mirror(tryton, inventory, item)
    await StockPoller(tryton, inventory).poll_once()
    await receive(tryton, item, "DC-SOUTH", 3)
    assert len((await StockPoller(tryton, inventory).poll_once()).applied) == 1
    # The poller is down while the warehouse keeps working.
    await receive(tryton, item, "DC-SOUTH", 4)
    await receive(tryton, item, "DC-SOUTH", 5)
    restarted = await StockPoller(tryton, inventory).poll_once()
    assert [m.quantity for m in restarted.applied] == [4, 5]
    assert (await on_hand(inventory, item))["DC-SOUTH"] == before[(item, "DC-SOUTH")] + 12


async def test_partial_then_full_shipment_in_tryton_ships_the_order_once(
    tryton: TrytonErp, inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    item = sku(3)
    before = await mirror(tryton, inventory, item)
    poller = StockPoller(tryton, inventory, orders)
    await poller.poll_once()
    order = await released_order(orders, [(item, 5)])
    # What checkout leaves behind (ADR 0007): the order's 5 units committed at DC-NORTH.
    await import_stock_levels(
        inventory.uow(),
        [StockLevel(item, "DC-NORTH", on_hand=before[(item, "DC-NORTH")], committed=5)],
    )
    sellable = (await levels(inventory, item))["DC-NORTH"].available
    await tryton.post_sales_order(
        SalesOrder(
            reference=order.number,
            customer_ref="RetailGraph Web Shop",
            currency="EUR",
            lines=(OrderLine(item, Decimal(5), Decimal("19.99")),),
            location="DC-NORTH",
        )
    )

    await ship(tryton, order.number, {item: 2})
    first = await poller.poll_once()
    assert [(s.outcome, s.status, dict(s.quantities)) for s in first.shipments] == [
        (CONFIRMED, "PARTIALLY_SHIPPED", {item: 2})
    ]
    partly = (await levels(inventory, item))["DC-NORTH"]
    assert (partly.on_hand, partly.committed) == (before[(item, "DC-NORTH")] - 2, 3)
    assert partly.available == sellable, "a shipped unit leaves on hand and committed once"
    assert (await poller.poll_once()).shipments == []

    await ship(tryton, order.number)
    second = await poller.poll_once()
    assert [(s.outcome, s.status) for s in second.shipments] == [(CONFIRMED, "SHIPPED")]
    shipped = await get_order(orders.uow(), order.id)
    assert shipped.status is OrderStatus.SHIPPED
    assert [h.to_status for h in shipped.history].count(OrderStatus.PARTIALLY_SHIPPED) == 1
    assert [h.to_status for h in shipped.history].count(OrderStatus.SHIPPED) == 1
    assert shipped.lines[0].quantity_shipped == 5
    done = (await levels(inventory, item))["DC-NORTH"]
    assert (done.on_hand, done.committed) == (before[(item, "DC-NORTH")] - 5, 0)
    assert done.available == sellable


async def test_reconcile_reports_a_divergence_and_repair_fixes_it_once(
    tryton: TrytonErp, inventory: InventoryDomain
) -> None:
    item = sku(4)
    mirrored = await mirror(tryton, inventory, item)
    await StockPoller(tryton, inventory).poll_once()
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []

    erp_quantity = mirrored[(item, "DC-SOUTH")]
    await set_on_hand(inventory, {(item, "DC-SOUTH"): erp_quantity + 6})
    report = await reconcile_inventory(tryton, inventory, skus=[item])
    assert [(d.location_id, d.erp, d.ours, d.difference, d.cause) for d in report.divergences] == [
        ("DC-SOUTH", erp_quantity, erp_quantity + 6, -6, DivergenceCause.UNEXPLAINED)
    ]

    repaired = await reconcile_inventory(tryton, inventory, skus=[item], repair=True)
    assert [(m.location_id, m.quantity) for m in repaired.repaired] == [("DC-SOUTH", -6)]
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []
    again = await reconcile_inventory(tryton, inventory, skus=[item], repair=True)
    assert again.repaired == []
    assert (await on_hand(inventory, item))["DC-SOUTH"] == erp_quantity


async def test_a_wms_receipt_and_transfer_reach_tryton_once_and_the_feed_skips_them(
    tryton: TrytonErp, inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    item = sku(6)
    mirrored = await mirror(tryton, inventory, item)
    await StockPoller(tryton, inventory).poll_once()
    await apply_stock_movements(
        inventory.uow(),
        [
            Movement(MovementType.RECEIPT, item, "DC-NORTH", 7, f"ASN-{uuid.uuid4()}", 1),
            Movement(
                MovementType.TRANSFER, item, "DC-NORTH", 3, f"TO-{uuid.uuid4()}", 1,
                to_location_id="STORE-BERLIN",
            ),
        ],
        origin=MovementOrigin.WMS,
    )  # fmt: skip
    waiting = await reconcile_inventory(tryton, inventory, skus=[item], repair=True)
    assert [(d.location_id, d.difference, d.cause) for d in waiting.divergences] == [
        ("DC-NORTH", -4, DivergenceCause.PENDING_MOVEMENT)
    ]
    assert waiting.repaired == []

    worker = fast_worker(orders.engine, tryton, movements=inventory.engine)
    for _ in range(200):  # one SKU's moves go one at a time: the receipt, then the transfer
        if worker.posted == 2:
            break
        if not await worker.run_once():
            await asyncio.sleep(0.05)
    assert worker.posted == 2
    north = (await tryton.stock_levels(skus=[item], locations=["DC-NORTH"]))[0].quantity
    assert north == mirrored[(item, "DC-NORTH")] + 7 - 3
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []
    polled = await StockPoller(tryton, inventory).poll_once()
    assert polled.fresh > 0  # our own moves, read back
    assert polled.applied == []
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []


async def test_a_receipt_not_yet_polled_is_a_pending_movement(
    tryton: TrytonErp, inventory: InventoryDomain
) -> None:
    item = sku(5)
    await mirror(tryton, inventory, item)
    await StockPoller(tryton, inventory).poll_once()
    await receive(tryton, item, "DC-NORTH", 9)
    report = await reconcile_inventory(tryton, inventory, skus=[item], repair=True)
    assert [(d.location_id, d.difference, d.cause) for d in report.divergences] == [
        ("DC-NORTH", 9, "pending-movement")
    ]
    assert report.repaired == [], "the poller settles it, not the repair"
    await StockPoller(tryton, inventory).poll_once()
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []


@pytest.fixture
async def catalog(engine: AsyncEngine) -> AsyncIterator[tuple[ProductsDomain, PricingDomain]]:
    """Products and pricing that know two demo SKUs, with their demo names and prices."""
    products = await products_bootstrap.start(local_runtime(), engine=engine)
    pricing = await pricing_bootstrap.start(local_runtime(), engine=engine)
    items = [demo_catalog().items[120 + n] for n in (0, 1)]
    await product_service.import_items(products.uow(), [item_record(i) for i in items])
    await price_imports.register_skus(
        pricing.uow(), [price_imports.SkuFacts(i.sku, i.category, i.tax_rate) for i in items]
    )
    await price_imports.import_price_list(
        pricing.uow,
        "EUR",
        [price_imports.PriceRow(i.sku, "EUR", i.base_prices["EUR"]) for i in items],
    )
    yield products, pricing
    await pricing.close()
    await products.close()


async def test_item_master_and_prices_import_from_tryton_with_rejects(
    tryton: TrytonErp, catalog: tuple[ProductsDomain, PricingDomain]
) -> None:
    products, pricing = catalog
    renamed, negative = (demo_catalog().items[120 + n].sku for n in (0, 1))
    await rename_and_reprice(tryton, renamed, "Renamed in Tryton", Decimal("42.50"))
    await fixed_price(tryton, "web", negative, "-5")

    items = await sync_products(tryton, products)
    assert (items.updated, items.unchanged) == (1, 1)
    assert {r.sku for r in items.rejected} >= {"RG-TEE-001", demo_catalog().items[0].sku}
    assert {r.code for r in items.rejected} == {"INVALID_PRODUCT"}  # no brand, no category
    async with products.engine.connect() as conn:
        stored = await product_store.load_products(conn, [renamed])
    assert stored[renamed].name == "Renamed in Tryton"
    assert stored[renamed].brand == demo_catalog().items[120].brand, "kept from ours"

    prices = await sync_prices(tryton, pricing)
    # 121.18 -> 42.50 is a cut of 65%: more than an import may apply without an operator.
    assert (prices.changed, prices.unchanged, prices.held) == (0, 1, 1)
    codes = {(name, row.sku): row for name, row in prices.rejected}
    assert codes[("web", negative)].code == "NEGATIVE_PRICE"
    assert codes[("list", "RG-TEE-001")].code == "UNKNOWN_SKU"
    held = codes[("list", renamed)]
    assert held.code == "HELD_FOR_APPROVAL"
    assert held.held_id is not None
    await price_imports.approve_held_changes(pricing.uow(), [held.held_id])
    now = pricing.clock.now()
    async with pricing.uow() as uow:
        assert await uow.prices.list_prices("EUR", "*", [renamed], now) == {
            renamed: Decimal("42.50")
        }
    again = await sync_prices(tryton, pricing)
    assert (again.changed, again.held) == (0, 0)


async def test_a_tryton_shipment_ahead_of_our_release_is_parked_then_confirmed(
    tryton: TrytonErp, inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    item = sku(6)
    await mirror(tryton, inventory, item)
    poller = StockPoller(tryton, inventory, orders)
    await poller.poll_once()
    order = await released_order(orders, [(item, 1)], release=False)
    lines = (OrderLine(item, Decimal(1), Decimal("19.99")),)
    await tryton.post_sales_order(
        SalesOrder(order.number, "RetailGraph Web Shop", "EUR", lines, location="DC-NORTH")
    )
    await ship(tryton, order.number)
    assert [s.outcome for s in (await poller.poll_once()).shipments] == [PARKED]

    await change_order(orders.uow(), order.id, commands.ReleaseToFulfilment())
    confirmed = await poller.poll_once()
    assert [(s.outcome, s.status) for s in confirmed.shipments] == [(CONFIRMED, "SHIPPED")]
    assert (await poller.poll_once()).shipments == []


def _collect(heard: list[Event]) -> Callable[[Event], Awaitable[None]]:
    async def collect(event: Event) -> None:
        heard.append(event)

    return collect


async def tryton_return(tryton: TrytonErp, reference: str) -> tuple[ErpSale, list[str]]:
    """Tryton's sale for one of our return documents, and its return shipments' states."""
    sale = await tryton.find_sale(reference)
    assert sale is not None, reference
    (read,) = await tryton.call("sale.sale.read", [int(sale.document_id)], ["shipment_returns"])
    shipments = await tryton.call(
        "stock.shipment.out.return.read", read["shipment_returns"], ["state"]
    )
    return sale, [shipment["state"] for shipment in shipments]


async def test_a_restocked_and_a_damaged_return_at_a_store_reach_tryton_sale_and_stock_once(
    tryton: TrytonErp, inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    item, store = sku(7), "STORE-BERLIN"
    before = await mirror(tryton, inventory, item)
    # Inventory hears orders' events as a serving process does (here after each step:
    # both domains share one SQLite file, which takes one writer at a time).
    heard: list[Event] = []
    orders.runtime.bus.subscribe(_collect(heard), types=list(ORDER_EVENTS))
    handler = OrderStockHandler(inventory.uow)
    prefix = f"T{uuid.uuid4().hex[:8]}-"  # the tests share one Tryton
    poller = StockPoller(tryton, inventory, orders, reference_prefix=prefix)
    await poller.poll_once()
    settings = replace(FAST, customer=CUSTOMER, reference_prefix=prefix)
    worker = fast_worker(orders.engine, tryton, settings=settings)
    order = await released_order(orders, [(item, 2)], renumber=False)
    await drain(orders.engine, worker)
    await ship(tryton, prefix + order.number)
    assert [s.status for s in (await poller.poll_once()).shipments] == ["SHIPPED"]
    line = order.lines[0].id
    for step in (commands.ConfirmDelivery(), commands.RequestReturn({line: 2}, reason="")):
        await change_order(orders.uow(), order.id, step)

    # Brought back to the store: one unit restocked, then one damaged, two receipts.
    restocked = {ReturnDisposition.RESTOCK: {line: 1}}
    damaged = {ReturnDisposition.DAMAGED: {line: 1}}
    for units, reference in ((restocked, "RET-1"), (damaged, "RET-2")):
        receipt = commands.ReceiveReturn(units, reference, store)
        await change_order(orders.uow(), order.id, receipt)
        await change_order(orders.uow(), order.id, receipt)  # a repeat changes nothing
    await orders.relay.drain()
    for event in heard * 2:  # every event delivered twice, as at-least-once allows
        await handler(event)
    await drain(orders.engine, worker)

    for reference in ("R1", "R2"):
        sale, shipments = await tryton_return(tryton, f"{prefix}{order.number}/{reference}")
        assert sale.location == store
        assert sale.state == "processing"
        assert [(ln.sku, ln.quantity, ln.unit_price) for ln in sale.lines] == [
            (item, Decimal(-1), Decimal("19.99"))
        ]
        assert shipments == ["done"]
    assert await tryton.find_sale(f"{prefix}{order.number}/R3") is None
    tryton_stock = {
        (level.sku, level.location): int(level.quantity)
        for level in await tryton.stock_levels(skus=[item], locations=[store, "DC-NORTH"])
    }
    assert tryton_stock == {
        (item, store): before[(item, store)] + 2,
        (item, "DC-NORTH"): before[(item, "DC-NORTH")] - 2,
    }

    # Our stock took the units in when they were received; Tryton's moves of the two
    # returns are read back and not counted again, and the two sides agree.
    polled = await poller.poll_once()
    assert polled.applied == []
    assert [m.reason for m in polled.skipped].count(
        "a return of our order: inventory took it back when received"
    ) == 2
    at_store = (await levels(inventory, item))[store]
    assert (at_store.on_hand, at_store.quarantined) == (before[(item, store)] + 2, 1)
    assert at_store.available == before[(item, store)] + 1
    assert (await reconcile_inventory(tryton, inventory, skus=[item])).divergences == []
