"""Orders' events on inventory's stock: each takes effect once, however often it arrives."""

from __future__ import annotations

from domains.inventory import repository, service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.handlers import OrderStockHandler
from domains.inventory.model import StockLevel
from kernel.events import Event
from tests.integration.inventory.conftest import counted_statements, new_sku, stock
from tests.support import EVENT_TIME


def order_event(type: str, sku: str, quantity: int, **payload: object) -> Event:
    return Event(
        type=type,
        partition_key="order-1",
        payload={
            "orderId": "order-1",
            "number": "RG-0000001",
            "idempotencyKey": "checkout-1",
            "locationId": "DC",
            "lines": [{"lineId": "l1", "position": 1, "sku": sku, "quantity": quantity}],
            **ORDER_EVENT_FIELDS[type](sku, quantity),
            **payload,
        },
        occurred_at=EVENT_TIME,
    )


def _created_fields(sku: str, quantity: int) -> dict[str, object]:
    return {
        "channel": "web",
        "customerReference": "",
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": "DC"},
        "currency": "EUR",
        "lines": [
            {
                "lineId": "l1",
                "sku": sku,
                "quantity": quantity,
                "unitPrice": "1.00",
                "promotionalUnitPrice": "1.00",
                "taxRate": "0",
            }
        ],
        "totals": {"subtotal": "4.00", "discount": "0.00", "tax": "0.00", "total": "4.00"},
    }


# What each order event carries besides the order, its key, location and lines.
ORDER_EVENT_FIELDS = {
    "OrderCreated": _created_fields,
    "OrderLinesCancelled": lambda sku, quantity: {"reason": "", "wholeOrder": False},
    "OrderReturnReceived": lambda sku, quantity: {"reference": "", "disposition": "RESTOCK"},
}


async def level(domain: InventoryDomain, sku: str) -> StockLevel:
    async with domain.engine.connect() as conn:
        (found,) = await repository.load_levels(conn, [sku], domain.clock.now())
    return found


async def test_a_redelivered_order_event_takes_effect_once(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await service.reserve_stock_lines(
        domain.uow(), [service.ReservationRequest(sku, "DC", 4, "checkout-1:1", "order-1")]
    )
    handler = OrderStockHandler(domain.uow)
    created = order_event("OrderCreated", sku, 4)
    cancelled = order_event("OrderLinesCancelled", sku, 3)

    for _ in range(2):  # a delivery whose dedupe mark was lost comes again
        await handler(created)
    committed = await level(domain, sku)
    for _ in range(2):
        await handler(cancelled)
    released = await level(domain, sku)

    assert (committed.committed, committed.reserved, committed.available) == (4, 0, 6)
    assert (released.committed, released.available) == (1, 9)


async def test_an_orders_creation_commits_its_stock_in_eight_statements(
    domain: InventoryDomain, backend: str
) -> None:
    """Mark the event handled, find the reservations, lock their stock rows, read the
    reservations again under the locks, read the stock, write the levels, write the
    statuses, insert the events; SQLite has no row lock to take."""
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await service.reserve_stock_lines(
        domain.uow(), [service.ReservationRequest(sku, "DC", 4, "checkout-1:1", "order-1")]
    )
    with counted_statements(domain.engine) as statements:
        await OrderStockHandler(domain.uow)(order_event("OrderCreated", sku, 4))
    assert len(statements) == {"postgresql": 8, "sqlite": 7}[backend], "\n".join(statements)


async def test_returned_units_join_the_receiving_locations_stock_once(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, "ST", on_hand=5)
    handler = OrderStockHandler(domain.uow)
    lines = [
        {"lineId": "l1", "position": 1, "sku": sku, "quantity": 2, "disposition": "RESTOCK"},
        {"lineId": "l1", "position": 1, "sku": sku, "quantity": 1, "disposition": "DAMAGED"},
    ]
    # A web order fulfilled at the DC, brought back to the store ST.
    received = order_event(
        "OrderReturnReceived", sku, 3, disposition="MIXED", lines=lines, receivedAt="ST"
    )

    for _ in range(2):  # a delivery whose dedupe mark was lost comes again
        await handler(received)

    at_store = await level(domain, sku)
    assert at_store.location_id == "ST"
    assert (at_store.on_hand, at_store.quarantined, at_store.available) == (8, 1, 7)


async def test_an_older_return_that_names_no_location_comes_back_where_it_was_fulfilled(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    damaged = order_event("OrderReturnReceived", sku, 2, disposition="DAMAGED")

    await OrderStockHandler(domain.uow)(damaged)

    at_dc = await level(domain, sku)
    assert (at_dc.location_id, at_dc.on_hand, at_dc.quarantined, at_dc.available) == (
        "DC",
        7,
        2,
        5,
    )
