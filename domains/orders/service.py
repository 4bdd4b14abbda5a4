"""Order use cases: plain values in, one transaction each, events in the outbox.

Every step loads the order under a row lock, applies one model method, saves it and
records the events the model produced (partition key: the order id).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domains.orders.creation import new_order, order_created
from domains.orders.errors import (
    DuplicateOrder,
    IdempotencyKeyReused,
    InvalidOrderInput,
    OrderNotFound,
)
from domains.orders.model import (
    Fulfilment,
    FulfilmentType,
    NewLine,
    Order,
    ReturnDisposition,
    request_fingerprint,
)
from domains.orders.uow import OrdersUnitOfWork
from kernel import correlation


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    order: Order
    # False when the idempotency key named an existing order, which is returned as is.
    created: bool


def repeat_of(existing: Order, fingerprint: str) -> CreatedOrder:
    """The order an idempotency key placed, if this request is a repeat of that one."""
    if not existing.answers(fingerprint):
        raise IdempotencyKeyReused(existing.idempotency_key)
    return CreatedOrder(existing, created=False)


async def create_order(
    uow: OrdersUnitOfWork,
    *,
    idempotency_key: str,
    channel: str,
    fulfilment_type: FulfilmentType | str,
    location_id: str,
    customer_reference: str,
    currency: str,
    lines: Sequence[NewLine],
    correlation_id: str | None = None,
    at: datetime | None = None,
    order_id: str | None = None,
) -> CreatedOrder:
    """Create a PENDING order from lines priced already; a repeated key returns the
    existing order and records nothing."""
    correlation_id = correlation_id or correlation.current()
    fulfilment = Fulfilment(_fulfilment_type(fulfilment_type), location_id)
    fingerprint = request_fingerprint(
        channel=channel,
        currency=currency,
        fulfilment=fulfilment,
        customer_reference=customer_reference,
        lines=lines,
    )
    async with uow:
        existing = await uow.orders.get_by_idempotency_key(idempotency_key)
        if existing is not None:
            return repeat_of(existing, fingerprint)
        order = new_order(
            order_id=order_id or str(uuid.uuid4()),
            idempotency_key=idempotency_key,
            channel=channel,
            customer_reference=customer_reference,
            fulfilment=fulfilment,
            currency=currency,
            lines=list(lines),
            at=at or uow.clock.now(),
            correlation_id=correlation_id,
            line_ids=[str(uuid.uuid4()) for _ in lines],
        )
        try:
            await uow.orders.add(order)
        except DuplicateOrder:
            # A concurrent request with the same key won the race (PostgreSQL).
            await uow.rollback()
            winner = await uow.orders.get_by_idempotency_key(idempotency_key)
            if winner is None:  # pragma: no cover - the unique index says it exists
                raise
            return repeat_of(winner, fingerprint)
        uow.record(order_created(order))
        await uow.commit()
        return CreatedOrder(order, created=True)


async def get_order(uow: OrdersUnitOfWork, order_id: str) -> Order:
    async with uow:
        order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def get_order_by_number(uow: OrdersUnitOfWork, number: str) -> Order | None:
    """The order the ERP knows by ``number`` (its documents' reference), if it is ours."""
    async with uow:
        return await uow.orders.get_by_number(number)


async def get_order_by_idempotency_key(uow: OrdersUnitOfWork, key: str) -> Order | None:
    async with uow:
        return await uow.orders.get_by_idempotency_key(key)


async def confirm_order(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow, order_id, lambda o, when: o.confirm(at=when), correlation_id=correlation_id, at=at
    )


async def authorize_payment(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    reference: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.authorize_payment(at=when, reference=reference),
        correlation_id=correlation_id,
        at=at,
    )


async def hold_for_fraud(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    reason: str,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.hold_for_fraud(at=when, reason=reason),
        correlation_id=correlation_id,
        at=at,
    )


async def release_fraud_hold(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    reason: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.release_fraud_hold(at=when, reason=reason),
        correlation_id=correlation_id,
        at=at,
    )


async def release_to_fulfilment(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.release_to_fulfilment(at=when),
        correlation_id=correlation_id,
        at=at,
    )


async def confirm_shipment(
    uow: OrdersUnitOfWork,
    order_id: str,
    quantities: Mapping[str, int],
    *,
    reference: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    """Ship line quantities; a shipment ``reference`` seen before is a no-op (replays)."""
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.confirm_shipment(quantities, at=when, reference=reference),
        correlation_id=correlation_id,
        at=at,
    )


async def confirm_delivery(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.confirm_delivery(at=when),
        correlation_id=correlation_id,
        at=at,
    )


async def cancel_order(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    reason: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.cancel(at=when, reason=reason),
        correlation_id=correlation_id,
        at=at,
    )


async def cancel_lines(
    uow: OrdersUnitOfWork,
    order_id: str,
    quantities: Mapping[str, int],
    *,
    reason: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.cancel_lines(quantities, at=when, reason=reason),
        correlation_id=correlation_id,
        at=at,
    )


async def request_return(
    uow: OrdersUnitOfWork,
    order_id: str,
    quantities: Mapping[str, int],
    *,
    reason: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.request_return(quantities, at=when, reason=reason),
        correlation_id=correlation_id,
        at=at,
    )


async def confirm_return(
    uow: OrdersUnitOfWork,
    order_id: str,
    quantities: Mapping[str, int],
    *,
    disposition: ReturnDisposition | str,
    reference: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    chosen = ReturnDisposition(disposition)
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.confirm_return(
            quantities, disposition=chosen, at=when, reference=reference
        ),
        correlation_id=correlation_id,
        at=at,
    )


async def refund(
    uow: OrdersUnitOfWork,
    order_id: str,
    *,
    reference: str = "",
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    return await _apply(
        uow,
        order_id,
        lambda o, when: o.refund(at=when, reference=reference),
        correlation_id=correlation_id,
        at=at,
    )


async def _apply(
    uow: OrdersUnitOfWork,
    order_id: str,
    change: Callable[[Order, datetime], object],
    *,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> Order:
    async with uow:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(order_id)
        order.step_correlation_id = correlation_id or correlation.current()
        change(order, at or uow.clock.now())
        if order.events:
            await uow.orders.save(order)
            uow.record(*order.events)
            order.events.clear()
            await uow.commit()
        return order


def _fulfilment_type(value: FulfilmentType | str) -> FulfilmentType:
    try:
        return FulfilmentType(value)
    except ValueError:
        choices = ", ".join(t.value for t in FulfilmentType)
        raise InvalidOrderInput(f"Unknown fulfilment {value!r}; use one of {choices}") from None
