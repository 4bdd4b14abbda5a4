"""The stock move poller against the ERP simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from decimal import Decimal

from domains.inventory.bootstrap import InventoryDomain
from domains.orders import commands
from domains.orders.bootstrap import OrdersDomain
from domains.orders.service import change_order, get_order
from erp.port import OrderLine, SalesOrder
from erp.simulator import SimulatedErp
from erp.sync.shipments import CONFIRMED, PARKED, REFUSED
from erp.sync.stock import StockPoller
from tests.integration.sync.support import levels, on_hand, released_order, set_on_hand

SKU = "ST-0001-01"


async def test_first_poll_takes_the_erps_position_and_applies_no_history(
    inventory: InventoryDomain,
) -> None:
    erp = SimulatedErp()
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(100))  # already part of our snapshot
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 100})
    report = await StockPoller(erp, inventory).poll_once()
    assert report.baseline
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 100}
    again = await StockPoller(erp, inventory).poll_once()
    assert not again.baseline
    assert again.applied == []


async def test_receipt_and_transfer_reach_our_stock_after_one_poll(
    inventory: InventoryDomain,
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10, (SKU, "STORE-BERLIN"): 5})
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory)
    await poller.poll_once()
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(7))
    erp.transfer_stock(SKU, "STORE-BERLIN", "DC-NORTH", Decimal(2))
    report = await poller.poll_once()
    assert [(m.type.value, m.location_id) for m in report.applied] == [
        ("RECEIPT", "DC-NORTH"),
        ("TRANSFER", "STORE-BERLIN"),
        ("RECEIPT", "DC-NORTH"),
    ]
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 19, "STORE-BERLIN": 3}
    assert (await levels(inventory, SKU))["DC-NORTH"].incoming == 0


async def test_polling_again_inside_the_overlap_changes_nothing(
    inventory: InventoryDomain,
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10})
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory, overlap=datetime.timedelta(minutes=5))
    await poller.poll_once()
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(3))
    first = await poller.poll_once()
    second = await poller.poll_once()
    assert len(first.applied) == 1
    assert second.read == first.read, "the overlap window re-reads the same moves"
    assert second.fresh == 0
    assert second.applied == []
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 13}


async def test_a_restarted_poller_resumes_from_the_stored_watermark(
    inventory: InventoryDomain,
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10})
    erp = SimulatedErp()
    await StockPoller(erp, inventory).poll_once()
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(4))
    await StockPoller(erp, inventory).poll_once()
    # Moves made while no poller ran, then a fresh poller (a restarted process).
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(-1))
    erp.adjust_stock(SKU, "DC-NORTH", Decimal(6))
    report = await StockPoller(erp, inventory).poll_once()
    assert [m.quantity for m in report.applied] == [-1, 6]
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 19}


async def test_moves_outside_our_locations_change_nothing(inventory: InventoryDomain) -> None:
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory)
    await poller.poll_once()
    erp.adjust_stock(SKU, "SOMEONE-ELSES-WAREHOUSE", Decimal(5))
    report = await poller.poll_once()
    assert report.applied == []
    assert len(report.skipped) == 1


async def test_a_posted_sale_ships_the_order_and_picks_its_units(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10})
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory, orders)
    await poller.poll_once()
    order = await released_order(orders, [(SKU, 3)])
    await erp.post_sales_order(
        SalesOrder(
            order.number, "web", "EUR", (OrderLine(SKU, Decimal(3), Decimal(1)),), None, "DC-NORTH"
        )
    )
    report = await poller.poll_once()
    assert [s.outcome for s in report.shipments] == [CONFIRMED]
    assert (await get_order(orders.uow(), order.id)).status.value == "SHIPPED"
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 7}
    assert (await poller.poll_once()).shipments == []


async def test_a_shipment_before_the_order_is_released_waits_and_then_ships_it(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10})
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory, orders)
    await poller.poll_once()
    order = await released_order(orders, [(SKU, 2)], release=False)
    await erp.post_sales_order(
        SalesOrder(order.number, "web", "EUR", (OrderLine(SKU, Decimal(2), Decimal(1)),))
    )
    early = await poller.poll_once()
    assert [s.outcome for s in early.shipments] == [PARKED]
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 8}, "the goods left all the same"
    assert (await poller.poll_once()).shipments == [], "still waiting, nothing to report"

    await change_order(orders.uow(), order.id, commands.ReleaseToFulfilment())
    later = await poller.poll_once()
    assert [(s.outcome, s.status) for s in later.shipments] == [(CONFIRMED, "SHIPPED")]
    assert (await get_order(orders.uow(), order.id)).status.value == "SHIPPED"
    assert (await poller.poll_once()).shipments == []
    assert await on_hand(inventory, SKU) == {"DC-NORTH": 8}


async def test_a_shipment_for_a_cancelled_order_is_refused_not_parked(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory, orders)
    await poller.poll_once()
    order = await released_order(orders, [(SKU, 1)], release=False)
    await change_order(
        orders.uow(), order.id, commands.Cancel(reason="customer changed their mind")
    )
    await erp.post_sales_order(
        SalesOrder(order.number, "web", "EUR", (OrderLine(SKU, Decimal(1), Decimal(1)),))
    )
    assert [s.outcome for s in (await poller.poll_once()).shipments] == [REFUSED]
    assert (await poller.poll_once()).shipments == []


async def test_a_sale_posted_under_the_installations_prefix_ships_the_order_and_others_do_not(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await set_on_hand(inventory, {(SKU, "DC-NORTH"): 10})
    erp = SimulatedErp()
    poller = StockPoller(erp, inventory, orders, reference_prefix="SHOP1-")
    await poller.poll_once()
    ours = await released_order(orders, [(SKU, 2)])
    lines = (OrderLine(SKU, Decimal(2), Decimal(1)),)
    # Another installation sharing the ERP posted a sale with the same bare number.
    await erp.post_sales_order(SalesOrder(ours.number, "web", "EUR", lines, None, "DC-NORTH"))
    await erp.post_sales_order(
        SalesOrder(f"SHOP1-{ours.number}", "web", "EUR", lines, None, "DC-NORTH")
    )
    report = await poller.poll_once()
    assert [(s.outcome, s.order_number) for s in report.shipments] == [(CONFIRMED, ours.number)]
    assert (await get_order(orders.uow(), ours.id)).status.value == "SHIPPED"
