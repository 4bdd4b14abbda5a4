"""Demo orders: ~40 deterministic orders spread over the whole lifecycle.

Each order is created and then moved along by the same use cases the mutations call,
so its history and events are real. Loading twice is a no-op: orders are keyed by a
fixed idempotency key, and an order that exists already is left as it is.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from domains.orders import commands, service
from domains.orders.bootstrap import OrdersDomain
from domains.orders.model import NewLine, Order, OrderStatus
from retailgraph.demo.catalog import DemoCatalog, DemoItem

ORDERS = 40
START = datetime(2026, 10, 1, 9, tzinfo=UTC)
_NAMESPACE = uuid.UUID("6f1c8a8e-3b7d-4c55-9a51-0d6c2f0e9b11")

S = OrderStatus
# Where each demo order ends up; the cycle covers every status.
TARGETS = (
    S.PENDING,
    S.CONFIRMED,
    S.PAYMENT_AUTHORIZED,
    S.FRAUD_HOLD,
    S.RELEASED_TO_FULFILMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.DELIVERED,
    S.PARTIALLY_CANCELLED,
    S.CANCELLED,
    S.RETURN_REQUESTED,
    S.RETURNED,
    S.REFUNDED,
    S.DELIVERED,
    S.SHIPPED,
)


async def load(domain: OrdersDomain, catalog: DemoCatalog) -> None:
    rng = random.Random(20261122)
    by_sku = {item.sku: item for item in catalog.items}
    featured = [by_sku[sku] for sku in catalog.featured_skus] or list(catalog.items[:8])
    for number in range(ORDERS):
        target = TARGETS[number % len(TARGETS)]
        channel = catalog.channels[number % len(catalog.channels)]
        items = _pick_items(rng, catalog, featured, number, channel, target)
        fulfilment_type, location_id = _fulfilment(number, channel)
        key = f"demo-order-{number:03d}"
        created_at = START + timedelta(hours=7 * number)
        created = await service.create_order(
            domain.uow(),
            idempotency_key=key,
            channel=channel,
            fulfilment_type=fulfilment_type,
            location_id=location_id,
            customer_reference=f"CUST-{1000 + rng.randrange(200)}",
            currency="EUR",
            lines=[_line(rng, item, number) for item in items],
            correlation_id=f"demo-{number:03d}",
            at=created_at,
            order_id=str(uuid.uuid5(_NAMESPACE, key)),
        )
        if created.created:
            await _advance(domain, created.order, target, created_at, f"demo-{number:03d}")


def _pick_items(
    rng: random.Random,
    catalog: DemoCatalog,
    featured: list[DemoItem],
    number: int,
    channel: str,
    target: OrderStatus,
) -> list[DemoItem]:
    count = 1 + number % 3
    if target in (S.PARTIALLY_SHIPPED, S.PARTIALLY_CANCELLED):
        count = max(count, 2)
    items = [featured[number % len(featured)]]
    sellable = [item for item in catalog.items if channel in item.channels]
    while len(items) < count:
        item = rng.choice(sellable)
        if item not in items:
            items.append(item)
    return items


def _fulfilment(number: int, channel: str) -> tuple[str, str]:
    if channel == "store" or number % 4 == 1:
        return "PICKUP_AT_STORE", "STORE-BERLIN" if number % 5 else "STORE-MUNICH"
    return "SHIP_FROM_DC", "DC-NORTH" if number % 2 else "DC-SOUTH"


def _line(rng: random.Random, item: DemoItem, number: int) -> NewLine:
    price = item.base_prices["EUR"]
    promotional = (price * Decimal("0.80")).quantize(Decimal("0.01")) if number % 5 == 0 else None
    return NewLine(
        sku=item.sku,
        quantity=rng.choice((1, 1, 2, 3)),
        unit_price=price,
        promotional_unit_price=promotional,
        tax_rate=item.tax_rate,
    )


async def _advance(
    domain: OrdersDomain, order: Order, target: OrderStatus, at: datetime, correlation: str
) -> None:
    """Walk ``order`` to ``target`` with the lifecycle use cases, an hour per step."""
    for _ in range(len(OrderStatus)):
        if order.status is target:
            return
        at += timedelta(hours=1)
        order = await _next_step(domain, order, target, at, correlation)
    raise RuntimeError(f"demo order {order.number} cannot reach {target}")  # a demo bug


class _Step(TypedDict):
    correlation_id: str
    at: datetime


async def _next_step(
    domain: OrdersDomain, order: Order, target: OrderStatus, at: datetime, correlation: str
) -> Order:
    uow = domain.uow()
    step: _Step = {"correlation_id": correlation, "at": at}
    first = order.lines[0].id
    status = order.status
    if status is S.PENDING and target is S.CANCELLED:
        return await service.change_order(
            uow, order.id, commands.Cancel(reason="customer changed mind"), **step
        )
    if status is S.PENDING:
        return await service.change_order(uow, order.id, commands.Confirm(), **step)
    if status is S.CONFIRMED and target is S.PARTIALLY_CANCELLED:
        last = order.lines[-1]
        return await service.change_order(
            uow,
            order.id,
            commands.CancelLines({last.id: last.quantity}, reason="out of stock"),
            **step,
        )
    if status is S.CONFIRMED and target is S.FRAUD_HOLD:
        return await service.change_order(
            uow, order.id, commands.HoldForFraud(reason="velocity check"), **step
        )
    if status is S.CONFIRMED:
        return await service.change_order(
            uow, order.id, commands.AuthorizePayment(reference=f"PSP-{order.number}"), **step
        )
    if status is S.PAYMENT_AUTHORIZED:
        return await service.change_order(uow, order.id, commands.ReleaseToFulfilment(), **step)
    if status in (S.RELEASED_TO_FULFILMENT, S.PARTIALLY_SHIPPED):
        # The first shipment carries one unit, so most orders show a partial step.
        partial = (
            status is S.RELEASED_TO_FULFILMENT
            and sum(line.active_quantity for line in order.lines) > 1
        )
        quantities = (
            {first: 1}
            if partial
            else {
                line.id: line.unshipped_quantity for line in order.lines if line.unshipped_quantity
            }
        )
        reference = f"SHP-{order.number}-{len(order.applied_references) + 1}"
        return await service.change_order(
            uow, order.id, commands.ConfirmShipment(quantities, reference=reference), **step
        )
    if status is S.SHIPPED:
        return await service.change_order(uow, order.id, commands.ConfirmDelivery(), **step)
    if status is S.DELIVERED:
        return await service.change_order(
            uow, order.id, commands.RequestReturn({first: 1}, reason="too small"), **step
        )
    if status is S.RETURN_REQUESTED:
        disposition = "RESTOCK" if len(order.applied_references) % 2 else "DAMAGED"
        return await service.change_order(
            uow,
            order.id,
            commands.ConfirmReturn(
                {first: 1}, disposition=disposition, reference=f"RET-{order.number}"
            ),
            **step,
        )
    return await service.change_order(
        uow, order.id, commands.Refund(reference=f"RF-{order.number}"), **step
    )
