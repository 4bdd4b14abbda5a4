"""Creating an order from checkout's priced lines, and the event that announces it (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domains.orders.errors import InvalidOrderInput
from domains.orders.model import (
    Fulfilment,
    HistoryEntry,
    NewLine,
    Order,
    OrderLine,
    money,
    request_fingerprint,
    unit_amount,
)
from domains.orders.transitions import OrderStatus
from kernel.actors import SYSTEM, Actor
from kernel.channels import well_formed_channel
from kernel.event_types import OrderCreated, OrderedLine, OrderFulfilment, OrderTotals
from kernel.keys import MAX_IDEMPOTENCY_KEY, MAX_ORDER_LINES

MAX_LINES = MAX_ORDER_LINES
MAX_QUANTITY = 10_000


def new_order(
    *,
    order_id: str,
    idempotency_key: str,
    channel: str,
    customer_reference: str,
    fulfilment: Fulfilment,
    currency: str,
    lines: list[NewLine],
    at: datetime,
    correlation_id: str | None,
    line_ids: list[str],
    actor: Actor = SYSTEM,
) -> Order:
    """A PENDING order from checkout's priced lines, after checking them."""
    check_new_order(
        idempotency_key=idempotency_key,
        channel=channel,
        customer_reference=customer_reference,
        fulfilment=fulfilment,
        currency=currency,
        lines=lines,
    )
    built: list[OrderLine] = []
    for position, (line, line_id) in enumerate(zip(lines, line_ids, strict=True), start=1):
        promotional = (
            line.unit_price if line.promotional_unit_price is None else line.promotional_unit_price
        )
        built.append(
            OrderLine(
                id=line_id,
                position=position,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                promotional_unit_price=unit_amount(promotional),
                tax_rate=line.tax_rate,
            )
        )
    return Order(
        id=order_id,
        idempotency_key=idempotency_key,
        channel=channel,
        customer_reference=customer_reference,
        fulfilment=fulfilment,
        currency=currency,
        lines=built,
        status=OrderStatus.PENDING,
        history=[HistoryEntry(None, OrderStatus.PENDING, at, "created", correlation_id, actor)],
        correlation_id=correlation_id,
        created_at=at,
        updated_at=at,
        step_correlation_id=correlation_id,
        step_actor=actor,
        request_fingerprint=request_fingerprint(
            channel=channel,
            currency=currency,
            fulfilment=fulfilment,
            customer_reference=customer_reference,
            lines=built,
        ),
    )


def check_new_order(
    *,
    idempotency_key: str,
    channel: str,
    customer_reference: str,
    fulfilment: Fulfilment,
    currency: str,
    lines: Sequence[NewLine],
) -> None:
    """The rules a new order's header and lines must keep; checkout checks them before it
    asks pricing and inventory anything."""
    _check_header(idempotency_key, channel, customer_reference, fulfilment, currency)
    if not lines:
        raise InvalidOrderInput("An order needs at least one line")
    if len(lines) > MAX_LINES:
        raise InvalidOrderInput(f"An order has at most {MAX_LINES} lines")
    for position, line in enumerate(lines, start=1):
        _check_line(line, position)


def order_created(order: Order) -> OrderCreated:
    """What OrderCreated states, once the order has its number: what the ERP needs to
    post the sale."""
    totals = order.totals
    return OrderCreated(
        order_id=order.id,
        number=order.number,
        idempotency_key=order.idempotency_key,
        channel=order.channel,
        customer_reference=order.customer_reference,
        fulfilment=OrderFulfilment(
            type=order.fulfilment.type.value, location_id=order.fulfilment.location_id
        ),
        currency=order.currency,
        lines=tuple(
            OrderedLine(
                line_id=line.id,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                promotional_unit_price=line.promotional_unit_price,
                tax_rate=line.tax_rate,
            )
            for line in order.lines
        ),
        totals=OrderTotals(
            subtotal=totals.subtotal, discount=totals.discount, tax=totals.tax, total=totals.total
        ),
    )


def _check_header(
    idempotency_key: str,
    channel: str,
    customer_reference: str,
    fulfilment: Fulfilment,
    currency: str,
) -> None:
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidOrderInput(
            f"An idempotency key of 1 to {MAX_IDEMPOTENCY_KEY} characters is required"
        )
    if not well_formed_channel(channel):
        raise InvalidOrderInput(f"{channel[:50]!r} is not a channel name", channel=channel[:50])
    if len(customer_reference) > 200:
        raise InvalidOrderInput("A customer reference has at most 200 characters")
    if not fulfilment.location_id or len(fulfilment.location_id) > 100:
        raise InvalidOrderInput("The fulfilment needs a location id of 1 to 100 characters")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidOrderInput(f"A currency is a 3-letter ISO code, not {currency!r}")


def _check_line(line: NewLine, position: int) -> None:
    where = f"line {position}"
    if not line.sku or len(line.sku) > 64:
        raise InvalidOrderInput(f"{where}: a SKU of 1 to 64 characters is required")
    if not isinstance(line.quantity, int) or not 0 < line.quantity <= MAX_QUANTITY:
        raise InvalidOrderInput(
            f"{where}: the quantity must be between 1 and {MAX_QUANTITY}, not {line.quantity}"
        )
    prices = [line.unit_price, line.tax_rate]
    if line.promotional_unit_price is not None:
        prices.append(line.promotional_unit_price)
    if any(not price.is_finite() or price < 0 for price in prices):
        raise InvalidOrderInput(f"{where}: prices and tax rates must be zero or more")
    if line.tax_rate >= 1:
        raise InvalidOrderInput(f"{where}: a tax rate is a fraction below 1, not {line.tax_rate}")
    if line.promotional_unit_price is not None and line.promotional_unit_price > line.unit_price:
        raise InvalidOrderInput(f"{where}: the promotional price exceeds the unit price")
