"""Placing an order: price the lines, reserve their stock, then create the order.

Orders never import pricing or inventory. It asks them through the two ports below,
which adapters implement (domains/orders/peers.py: GraphQL to their subgraphs, in
process or over HTTP). The order is the last step: a failure before it leaves no order,
and a failure in it gives the reserved stock back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from domains.orders.creation import check_new_order
from domains.orders.errors import InvalidOrderInput, OrdersError
from domains.orders.give_back import GiveBacks
from domains.orders.model import (
    Fulfilment,
    FulfilmentType,
    NewLine,
    request_fingerprint,
    spread,
)
from domains.orders.service import CreatedOrder, create_order, repeat_of
from domains.orders.uow import OrdersUnitOfWork
from kernel import correlation
from kernel.actors import SYSTEM, Actor
from kernel.channels import DEFAULT_SALES, SalesVocabulary

# Order ids derive from the idempotency key, so every repeat of a checkout names the same
# order in its reservations (inventory checks a repeat asks for the same thing).
ORDER_IDS = uuid.UUID("9f1c2a52-4d0e-4a63-9b7e-5b3f0c1d2e47")


class CheckoutRefused(OrdersError):
    """Pricing or inventory refused the checkout; ``code`` is theirs (INSUFFICIENT_STOCK,
    UNKNOWN_SKU, PRICE_NOT_FOUND, ...), so a client reads one set of codes."""

    code = "CHECKOUT_REFUSED"


class CheckoutUnavailable(OrdersError):
    """Pricing or inventory could not be asked (down, timed out, not configured)."""

    code = "SERVICE_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class QuotedLine:
    """One line as pricing prices it now: tax-inclusive amounts, promotions applied."""

    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class StockLine:
    sku: str
    location_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Reserved:
    """A reservation as inventory reports it; ``status`` is ACTIVE for a held one."""

    key: str
    status: str


@dataclass(frozen=True, slots=True)
class Place:
    """A location as checkout needs it: its region (for pricing), its kind (DC, STORE...)
    and the channels it sells to."""

    region: str
    kind: str
    channels: tuple[str, ...] = ()


class PricingPort(Protocol):
    async def quote(
        self,
        lines: Sequence[RequestedLine],
        *,
        channel: str,
        currency: str,
        region: str,
        location: str,
    ) -> list[QuotedLine]:
        """Each line priced, in the given order, for an order fulfilled at ``location`` in
        ``region`` (a promotion paused there for low stock does not apply, one for other
        regions or stores neither); raises CheckoutRefused or CheckoutUnavailable."""
        ...


class StockPort(Protocol):
    async def location(self, location_id: str) -> Place | None:
        """Where a location is and what it is; None when there is no such location."""
        ...

    async def reserve(
        self, key: str, lines: Sequence[StockLine], *, order_reference: str, channel: str
    ) -> list[Reserved]:
        """Hold every line or none, within what ``channel`` may promise at each line's
        location; line n under ``<key>:<n>``. A repeat returns the first reservations."""
        ...

    async def release(self, key: str, count: int) -> None:
        """Give back the reservations ``<key>:1`` to ``<key>:<count>``; missing ones are fine."""
        ...


@dataclass(frozen=True, slots=True)
class OrderRequest:
    idempotency_key: str
    channel: str
    currency: str
    fulfilment_type: FulfilmentType | str
    location_id: str
    customer_reference: str
    lines: tuple[RequestedLine, ...]
    # Who places it: the client of the request (the first step of its history).
    actor: Actor = SYSTEM


def order_id_for(idempotency_key: str) -> str:
    return str(uuid.uuid5(ORDER_IDS, idempotency_key))


async def place_order(
    uow: Callable[[], OrdersUnitOfWork],
    pricing: PricingPort,
    stock: StockPort,
    request: OrderRequest,
    *,
    give_backs: GiveBacks,
    sales: SalesVocabulary = DEFAULT_SALES,
) -> CreatedOrder:
    """Price, reserve, create: the order of a checkout, once per idempotency key.

    A repeat of a placed order returns it and asks nobody anything. Concurrent repeats
    may all reach inventory, which hands each the same reservations, and the unique key
    on orders keeps one order; the losers return the winner and release nothing.

    When the order cannot be created after the stock was reserved, ``give_backs``
    releases the reservations (retrying in the background while it cannot) and the
    original failure is raised. In this process, a checkout of a key and a give-back of
    the same key never overlap.
    """
    async with give_backs.one_at_a_time(request.idempotency_key):
        placed = await _place(uow, pricing, stock, request, sales)
    if isinstance(placed, _Owed):
        await give_backs.give_back(uow, stock, request.idempotency_key, placed.count)
        raise placed.failure
    return placed


@dataclass(frozen=True, slots=True)
class _Owed:
    """A checkout that reserved ``count`` lines and then failed with ``failure``."""

    failure: Exception
    count: int


async def _place(
    uow: Callable[[], OrdersUnitOfWork],
    pricing: PricingPort,
    stock: StockPort,
    request: OrderRequest,
    sales: SalesVocabulary,
) -> CreatedOrder | _Owed:
    fulfilment = Fulfilment(_fulfilment_type(request.fulfilment_type), request.location_id)
    existing = await uow().placed_order(request.idempotency_key)
    if existing is not None:
        return repeat_of(existing, _fingerprint(request, fulfilment))
    _check(request, fulfilment, sales)
    place = await stock.location(request.location_id)
    if place is None:
        raise CheckoutRefused(
            f"No location {request.location_id!r}",
            code="UNKNOWN_LOCATION",
            locationId=request.location_id,
        )
    if fulfilment.type is FulfilmentType.PICKUP_AT_STORE and place.kind != "STORE":
        raise InvalidOrderInput(
            f"A pickup is at a store; {request.location_id!r} is a {place.kind}",
            locationId=request.location_id,
        )
    if request.channel not in place.channels:
        raise CheckoutRefused(
            f"{request.location_id!r} does not sell to the {request.channel} channel",
            code="CHANNEL_NOT_SERVED",
            locationId=request.location_id,
            channel=request.channel,
        )
    quoted = await pricing.quote(
        request.lines,
        channel=request.channel,
        currency=request.currency,
        region=place.region,
        location=request.location_id,
    )
    order_id = order_id_for(request.idempotency_key)
    key = request.idempotency_key
    stock_lines = [StockLine(q.sku, request.location_id, q.quantity) for q in quoted]
    reserved = await stock.reserve(
        key, stock_lines, order_reference=order_id, channel=request.channel
    )
    lapsed = [r.key for r in reserved if r.status not in ("ACTIVE", "CONSUMED")]
    if lapsed:
        raise CheckoutRefused(
            "An earlier attempt with this idempotency key gave its stock back; "
            "place the order again with a new key",
            code="IDEMPOTENCY_KEY_SPENT",
            reservation=lapsed[0],
        )
    try:
        return await create_order(
            uow(),
            idempotency_key=key,
            channel=request.channel,
            fulfilment_type=fulfilment.type,
            location_id=fulfilment.location_id,
            customer_reference=request.customer_reference,
            currency=request.currency,
            lines=[_priced(line) for line in quoted],
            order_id=order_id,
            correlation_id=correlation.current(),
            actor=request.actor,
        )
    except Exception as failure:
        return _Owed(failure, len(stock_lines))


def _fingerprint(request: OrderRequest, fulfilment: Fulfilment) -> str:
    return request_fingerprint(
        channel=request.channel,
        currency=request.currency,
        fulfilment=fulfilment,
        customer_reference=request.customer_reference,
        lines=request.lines,
    )


def _check(request: OrderRequest, fulfilment: Fulfilment, sales: SalesVocabulary) -> None:
    """The order's own rules, before anyone is asked for prices or stock."""
    if not sales.sells_in(request.channel):
        raise InvalidOrderInput(
            f"Unknown channel {request.channel[:50]!r}; use one of {', '.join(sales.channels)}",
            channel=request.channel[:50],
        )
    if not sales.prices_in(request.currency):
        raise InvalidOrderInput(
            f"Unknown currency {request.currency[:10]!r}; use one of {', '.join(sales.currencies)}",
            currency=request.currency[:10],
        )
    check_new_order(
        idempotency_key=request.idempotency_key,
        channel=request.channel,
        customer_reference=request.customer_reference,
        fulfilment=fulfilment,
        currency=request.currency,
        lines=[NewLine(line.sku, line.quantity, Decimal(0)) for line in request.lines],
    )


def _fulfilment_type(value: FulfilmentType | str) -> FulfilmentType:
    try:
        return FulfilmentType(value)
    except ValueError:
        choices = ", ".join(t.value for t in FulfilmentType)
        raise InvalidOrderInput(f"Unknown fulfilment; use one of {choices}") from None


def _priced(line: QuotedLine) -> NewLine:
    # The promotional unit price is the line total spread over its units: a
    # buy-X-get-Y line costs what pricing says, and a refund returns what was paid.
    return NewLine(
        sku=line.sku,
        quantity=line.quantity,
        unit_price=line.unit_price,
        promotional_unit_price=spread(line.line_total, line.quantity),
        tax_rate=line.tax_rate,
    )
