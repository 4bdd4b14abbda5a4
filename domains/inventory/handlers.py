"""Inventory's reactions to other domains' events (``consumers`` is the table a serving
process subscribes): the stock that orders hold, fed by orders' events
(docs/adr/0007-checkout-and-order-stock.md).

- OrderCreated: the order's reservations (line n under ``<idempotencyKey>:<n>``) become
  its commitment: CONSUMED, and their units move from ``reserved`` to ``committed``, so
  they no longer expire.
- OrderLinesCancelled: the cancelled units stop being committed (or, for a line whose
  reservation was never consumed, the reservation is released).
- OrderReturnReceived: the returned units join the stock of the location that received
  them (a store may take back a web order): on hand when restocked, on hand and
  quarantined when damaged. The ERP's move of the same return is not applied again
  (``erp.sync.moves``).
- A shipment changes no quantity here: the ERP's outbound stock move (a PICK) takes the
  units off hand and out of ``committed`` together, once.

Deliveries are at least once; ``OrderStockHandler`` is wrapped in ``Idempotent`` (the
event id), and each effect commits in one transaction with the event id it handled
(``inventory_handled_event``), so a redelivery never takes effect twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from adapters.bus import Consumer
from domains.inventory.changes import announce_stock_changes
from domains.inventory.model import (
    Reservation,
    ReservationStatus,
    RuleViolation,
    StockLevel,
    take_back,
)
from domains.inventory.picture import StockPicture
from domains.inventory.ports import UnitOfWork
from domains.inventory.service import RESERVATION_EVENTS, reservation_event
from kernel import correlation
from kernel.event_types import OrderCreated, OrderLinesCancelled, OrderReturnReceived
from kernel.events import Event
from kernel.keys import reservation_key, reservation_keys

log = logging.getLogger(__name__)

ORDER_EVENTS = (OrderCreated.TYPE, OrderLinesCancelled.TYPE, OrderReturnReceived.TYPE)
DAMAGED = "DAMAGED"
ACTIVE = ReservationStatus.ACTIVE
CONSUMED = ReservationStatus.CONSUMED

Pair = tuple[str, str]


class InventoryDomainLike(Protocol):
    def uow(self) -> UnitOfWork: ...


@dataclass(frozen=True, slots=True)
class CancelledLine:
    reservation_key: str
    sku: str
    quantity: int


async def commit_order_stock(
    uow: UnitOfWork, keys: Sequence[str], *, now: datetime | None = None
) -> list[Reservation]:
    """Consume the live reservations among ``keys`` into ``committed``; the rest (none,
    lapsed, consumed already) are left as they are."""
    now = now or uow.clock.now()
    found = await uow.stock.load_reservations(idempotency_keys=list(keys))
    lapsed = [r.idempotency_key for r in found if r.status_at(now) not in (ACTIVE, CONSUMED)]
    if lapsed:
        log.warning("order reservations lapsed before the order committed them: %s", lapsed)
    if not any(r.status_at(now) is ACTIVE for r in found):
        return []
    await uow.stock.lock_stock({(r.sku, r.location_id) for r in found})
    # Read again under the stock locks: a concurrent release or sweep has finished by now.
    live = [
        r
        for r in await uow.stock.load_reservations(idempotency_keys=list(keys))
        if r.status_at(now) is ACTIVE
    ]
    if not live:
        return []
    picture = await uow.stock.load_picture({r.sku for r in live}, now)
    changed: dict[Pair, StockLevel] = {}
    for r in live:
        pair = (r.sku, r.location_id)
        level = changed.get(pair) or picture.levels[pair]
        changed[pair] = replace(level, committed=level.committed + r.quantity)
    consumed = [replace(r, status=CONSUMED) for r in live]
    return await _store(uow, picture, changed, consumed, now)


async def release_order_stock(
    uow: UnitOfWork,
    location_id: str,
    lines: Sequence[CancelledLine],
    *,
    now: datetime | None = None,
) -> None:
    """Give back what cancelled lines held: committed units, or a whole live reservation."""
    now = now or uow.clock.now()
    keys = [line.reservation_key for line in lines]
    held = {r.idempotency_key: r for r in await uow.stock.load_reservations(idempotency_keys=keys)}
    pairs = {(line.sku, location_id) for line in lines if line.reservation_key in held}
    if not pairs:
        return
    await uow.stock.lock_stock(pairs)
    skus = {sku for sku, _ in pairs} | {r.sku for r in held.values()}
    picture = await uow.stock.load_picture(skus, now)
    changed: dict[Pair, StockLevel] = {}
    released: list[Reservation] = []
    for line in lines:
        reservation = held.get(line.reservation_key)
        if reservation is None:
            continue
        status = reservation.status_at(now)
        pair = (reservation.sku, reservation.location_id)
        if status is CONSUMED and pair in pairs and pair in picture.levels:
            level = changed.get(pair) or picture.levels[pair]
            give_back = min(line.quantity, level.committed)
            changed[pair] = replace(level, committed=level.committed - give_back)
        elif status is ACTIVE and line.quantity >= reservation.quantity:
            released.append(replace(reservation, status=ReservationStatus.RELEASED))
    await _store(uow, picture, changed, released, now)


@dataclass(frozen=True, slots=True)
class ReturnedUnits:
    sku: str
    quantity: int
    damaged: bool


async def return_order_stock(
    uow: UnitOfWork,
    location_id: str,
    lines: Sequence[ReturnedUnits],
    *,
    now: datetime | None = None,
) -> None:
    """Take returned units back into ``location_id``'s stock (``model.take_back``), and
    commit."""
    now = now or uow.clock.now()
    if not lines or not await uow.stock.existing_location_ids([location_id]):
        # Orders checks the location when the return is received; one removed since
        # has no stock to take the units.
        log.warning("return received at unknown location %r: stock unchanged", location_id)
        await uow.commit()
        return
    pairs = {(line.sku, location_id) for line in lines}
    await uow.stock.ensure_stock_rows(pairs, now)
    await uow.stock.lock_stock(pairs)
    picture = await uow.stock.load_picture({sku for sku, _ in pairs}, now)
    changed = {pair: picture.levels[pair] for pair in pairs}
    for line in lines:
        pair = (line.sku, location_id)
        try:
            changed[pair] = take_back(changed[pair], line.quantity, damaged=line.damaged)
        except RuleViolation as violation:
            log.warning("returned %s not taken back: %s", line.sku, violation.message)
    await _store(uow, picture, changed, [], now)


async def _store(
    uow: UnitOfWork,
    picture: StockPicture,
    levels: dict[Pair, StockLevel],
    reservations: Sequence[Reservation],
    now: datetime,
) -> list[Reservation]:
    """Write ``levels`` and the new statuses of ``reservations`` (live ones that stop
    holding units), and announce the stock: ``picture`` (read under the locks) with
    ``levels`` written and the reservations' units given back."""
    if not levels and not reservations:
        return []
    await uow.stock.save_levels(levels.values(), now)
    for status in {r.status for r in reservations}:
        ids = [r.id for r in reservations if r.status is status]
        await uow.stock.set_reservation_status(ids, status, now)
    for reservation in reservations:
        uow.record(reservation_event(RESERVATION_EVENTS[reservation.status], reservation, now))
    touched = set(levels) | {(r.sku, r.location_id) for r in reservations}
    after = picture.with_levels(levels.values()).releasing(reservations)
    announce_stock_changes(uow, after, touched, now)
    await uow.commit()
    return list(reservations)


class OrderStockHandler:
    """Applies orders' events to the stock; one transaction per event."""

    name = "inventory.order-stock"

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    async def __call__(self, event: Event) -> None:
        # What this changes carries the correlation id of the request behind the order.
        correlation.bind(event.correlation_id)
        if event.type not in ORDER_EVENTS:
            return
        if event.type == OrderReturnReceived.TYPE:
            await self._returned(event, event.payload_as(OrderReturnReceived))
            return
        change = (
            event.payload_as(OrderCreated)
            if event.type == OrderCreated.TYPE
            else event.payload_as(OrderLinesCancelled)
        )
        order_key = change.idempotency_key
        if order_key is None:
            return  # an order from before checkout named its reservations
        async with self._uow() as uow:
            # Remembered in the effect's own transaction: exactly once, even if the dedupe
            # mark around this handler is lost (a crash between commit and mark).
            if not await uow.stock.mark_event_handled(self.name, event.id, uow.clock.now()):
                return
            if isinstance(change, OrderCreated):
                keys = reservation_keys(order_key, len(change.lines))
                await commit_order_stock(uow, keys)
            else:
                lines = [
                    CancelledLine(
                        reservation_key(order_key, line.position), line.sku, line.quantity
                    )
                    for line in change.lines
                    if line.position is not None
                ]
                await release_order_stock(uow, change.location_id, lines)

    async def _returned(self, event: Event, received: OrderReturnReceived) -> None:
        returned = [
            ReturnedUnits(line.sku, line.quantity, damaged=received.disposition_of(line) == DAMAGED)
            for line in received.lines
        ]
        async with self._uow() as uow:
            if not await uow.stock.mark_event_handled(self.name, event.id, uow.clock.now()):
                return
            await return_order_stock(uow, received.receiving_location, returned)


def consumers(domain: InventoryDomainLike) -> list[Consumer]:
    """What a process serving inventory subscribes: orders' events commit and release the
    stock their orders hold, and take returned units back, once per event id."""
    handler = OrderStockHandler(domain.uow)
    return [Consumer(handler, ORDER_EVENTS, once_as=handler.name)]
