"""Order use cases: plain values in, one transaction each (a new order on PostgreSQL: one
statement, as atomic; ADR 0014), events in the outbox.

Every lifecycle step is a command (``commands``) applied by ``change_order``: the order
loaded under a row lock, the model's rule applied, the order saved with the events the
model produced (partition key: the order id).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domains.orders.commands import OrderCommand, ReceiveReturn, step_fingerprint
from domains.orders.creation import new_order, order_created
from domains.orders.errors import (
    DuplicateOrder,
    IdempotencyKeyReused,
    InvalidOrderInput,
    OrderNotFound,
    StepKeyTaken,
    UnknownLocation,
)
from domains.orders.model import (
    Fulfilment,
    FulfilmentType,
    NewLine,
    Order,
    request_fingerprint,
)
from domains.orders.ports import OrdersUnit
from kernel import correlation
from kernel.actors import SYSTEM, Actor
from kernel.events import Event
from kernel.keys import MAX_IDEMPOTENCY_KEY


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
    uow: OrdersUnit,
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
    actor: Actor = SYSTEM,
) -> CreatedOrder:
    """Create a PENDING order from lines priced already; a repeated key returns the
    existing order and records nothing. ``actor`` made it (the first history step).

    The unique idempotency key decides between repeats, concurrent ones included: the
    insert of a repeat fails and the order that holds the key is returned.
    """
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
            actor=actor,
        )
        try:
            await uow.add_order(order, announced_by=created_event)
        except DuplicateOrder:
            await uow.rollback()
            winner = await uow.orders.get_by_idempotency_key(idempotency_key)
            if winner is None:  # pragma: no cover - the unique index says it exists
                raise
            return repeat_of(winner, fingerprint)
        return CreatedOrder(order, created=True)


async def get_order(uow: OrdersUnit, order_id: str) -> Order:
    async with uow:
        order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def get_order_by_number(uow: OrdersUnit, number: str) -> Order | None:
    """The order the ERP knows by ``number`` (its documents' reference), if it is ours."""
    async with uow:
        return await uow.orders.get_by_number(number)


async def get_order_by_idempotency_key(uow: OrdersUnit, key: str) -> Order | None:
    async with uow:
        return await uow.orders.get_by_idempotency_key(key)


async def change_order(
    uow: OrdersUnit,
    order_id: str,
    command: OrderCommand,
    *,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Order:
    """Apply one lifecycle step to the order, in one transaction with its events;
    ``actor`` (a client, or the system) is recorded as the one who made it.

    A client's step carries an ``idempotency_key``, as checkout does: a repeat of the key
    with the same request makes nothing and answers the order as it is, the key with
    another request (step, order or arguments) is refused with IDEMPOTENCY_KEY_REUSED.
    The key is kept with the step, in its transaction. The system's own steps (an ERP
    shipment read back) rely on the document reference they carry instead.

    A step that changes nothing (a replayed shipment, return or refund reference) records
    no event.
    """
    asked = None
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
        asked = step_fingerprint(order_id, command)
    async with uow:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(order_id)
        if idempotency_key is not None:
            made = await uow.orders.step_request(idempotency_key)
            if made is not None:
                if made != asked:
                    raise IdempotencyKeyReused(idempotency_key, step=True)
                order.step_repeated = True
                return order
        order.step_correlation_id = correlation_id or correlation.current()
        order.step_actor = actor
        now = at or uow.clock.now()
        command.apply(order, now)
        if idempotency_key is not None and asked is not None:
            try:
                await uow.orders.remember_step(
                    idempotency_key,
                    order.id,
                    asked,
                    correlation_id=order.step_correlation_id,
                    at=now,
                )
            except StepKeyTaken:
                await uow.rollback()
                raise IdempotencyKeyReused(idempotency_key, step=True) from None
        changed = bool(order.changes)
        if changed:
            await uow.orders.save(order)
            uow.record(*step_events(order))
            order.changes.clear()
        if changed or idempotency_key is not None:
            await uow.commit()
        return order


def check_idempotency_key(key: str) -> None:
    """A client's idempotency key: 1 to MAX_IDEMPOTENCY_KEY characters of text."""
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or "\x00" in key:
        raise InvalidOrderInput(
            f"An idempotency key of 1 to {MAX_IDEMPOTENCY_KEY} characters is required"
        )


class Locations(Protocol):
    async def location(self, location_id: str) -> object | None:
        """The location (inventory's), or None when there is no such location."""
        ...


async def receive_return(
    uow: OrdersUnit,
    locations: Locations,
    order_id: str,
    command: ReceiveReturn,
    *,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    actor: Actor = SYSTEM,
) -> Order:
    """Returned units received at a location: any location inventory knows takes returns
    (a store takes back a web order), and its stock takes the units in (inventory reads
    the return from OrderReturnReceived)."""
    if command.location_id and await locations.location(command.location_id) is None:
        raise UnknownLocation(command.location_id)
    return await change_order(
        uow,
        order_id,
        command,
        idempotency_key=idempotency_key,
        correlation_id=correlation_id,
        actor=actor,
    )


def created_event(order: Order) -> Event:
    """OrderCreated, keyed by the order and carrying the checkout's correlation id."""
    return Event.of(
        order_created(order),
        partition_key=order.id,
        occurred_at=order.created_at,
        correlation_id=order.correlation_id,
    )


def step_events(order: Order) -> list[Event]:
    """The events of what a step changed, each keyed by the order (so consumers see one
    order's events in order) and carrying the step's correlation id."""
    return [
        Event.of(
            change,
            partition_key=order.id,
            occurred_at=at,
            correlation_id=order.step_correlation_id,
        )
        for change, at in order.changes
    ]


def _fulfilment_type(value: FulfilmentType | str) -> FulfilmentType:
    try:
        return FulfilmentType(value)
    except ValueError:
        choices = ", ".join(t.value for t in FulfilmentType)
        raise InvalidOrderInput(f"Unknown fulfilment {value!r}; use one of {choices}") from None
