"""Inventory's use cases: each takes plain values and a unit of work, and commits once.

Callers outside this package (the demo loader, checkout's order placement, the ERP
inbound sync) use these functions and nothing else of the domain's storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from domains.common.events import Event, utcnow
from domains.inventory import repository as repo
from domains.inventory.errors import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidInventoryInput,
    InvalidTransition,
    ReservationNotFound,
    UnknownLocation,
    UnknownSku,
)
from domains.inventory.model import (
    MAX_BATCH,
    ChannelRule,
    Location,
    LocationKind,
    Movement,
    Reservation,
    ReservationStatus,
    RuleViolation,
    StockLevel,
    apply_movement,
    consume,
    expiry,
    is_text,
    release,
    validate_movement,
    validate_reservation_request,
    validate_rule,
    validate_rules,
    validate_snapshot,
)
from domains.inventory.uow import InventoryUnitOfWork

DEFAULT_TTL_SECONDS = 15 * 60

Pair = tuple[str, str]


def _invalid(violation: RuleViolation) -> InvalidInventoryInput:
    return InvalidInventoryInput(violation.message, code=violation.code)


# Locations and allocation rules


async def save_location(
    uow: InventoryUnitOfWork,
    *,
    id: str,
    name: str,
    kind: LocationKind,
    region: str,
    rules: Sequence[ChannelRule],
) -> Location:
    """Create or replace a location with the channels it serves and their allocation rules."""
    if not (is_text(id, 64) and is_text(name, 200) and is_text(region, 64)):
        raise InvalidInventoryInput("a location needs an id, a name and a region")
    try:
        validate_rules(rules)
    except RuleViolation as violation:
        raise _invalid(violation) from None
    location = Location(id, name, kind, region, tuple(rules))
    await repo.save_location(uow.session, location)
    await uow.commit()
    return location


async def set_channel_policy(
    uow: InventoryUnitOfWork, channel: str, *, counts_incoming: bool
) -> None:
    """Whether in-transit units count toward ``channel``'s available-to-promise."""
    try:
        validate_rule(ChannelRule(channel))
    except RuleViolation as violation:
        raise _invalid(violation) from None
    await repo.save_channel_policy(uow.session, channel, counts_incoming=counts_incoming)
    uow.record(
        Event(
            type="ChannelPolicyChanged",
            partition_key=channel,
            payload={"channel": channel, "countsIncoming": counts_incoming},
        )
    )
    await uow.commit()


# Stock levels


async def import_stock_levels(
    uow: InventoryUnitOfWork, levels: Sequence[StockLevel], *, now: datetime | None = None
) -> int:
    """Set the stored quantities of (sku, location) rows, as an ERP snapshot states them.

    Meant for the initial load and for reconciliation repairs; day-to-day changes arrive as
    movements. ``reserved`` is ignored: it comes from the live reservations.
    """
    now = now or utcnow()
    try:
        for level in levels:
            validate_snapshot(level)
    except RuleViolation as violation:
        raise _invalid(violation) from None
    pairs = {(level.sku, level.location_id) for level in levels}
    missing = {loc for _, loc in pairs} - await repo.existing_location_ids(
        uow.session, (loc for _, loc in pairs)
    )
    if missing:
        raise UnknownLocation(sorted(missing)[0])
    await repo.ensure_stock_rows(uow.session, pairs, now)
    locked = await repo.lock_levels(uow.session, pairs, now)
    after = [
        replace(level, reserved=locked[(level.sku, level.location_id)].reserved) for level in levels
    ]
    await repo.save_levels(uow.session, after, now)
    await _record_stock_changes(uow, pairs, now, known=after)
    await uow.commit()
    return len(pairs)


async def _record_stock_changes(
    uow: InventoryUnitOfWork,
    pairs: Collection[Pair],
    now: datetime,
    *,
    known: Sequence[StockLevel] | None = None,
) -> list[StockLevel]:
    """StockChanged per (sku, location) and AvailabilityChanged per (sku, channel) touched.

    ``known`` are the levels after the change when the caller has them already.
    """
    if known is not None:
        levels = list(known)
    else:
        skus = {sku for sku, _ in pairs}
        levels = [
            level
            for level in await repo.load_levels(uow.session, skus, now)
            if (level.sku, level.location_id) in pairs
        ]
    served = await repo.channels_served(uow.session, {loc for _, loc in pairs})
    keys = {(sku, channel) for sku, loc in pairs for channel in served.get(loc, [])}
    availability = await repo.load_availability(uow.session, keys, now)
    for level in levels:
        uow.record(
            Event(
                type="StockChanged",
                partition_key=f"{level.sku}@{level.location_id}",
                payload={"sku": level.sku, "locationId": level.location_id, **level.quantities()},
            )
        )
    for (sku, channel), atp in sorted(availability.items()):
        uow.record(
            Event(
                type="AvailabilityChanged",
                partition_key=f"{sku}@{channel}",
                payload={"sku": sku, "channel": channel, "available": atp.available},
            )
        )
    return levels


# Reservations


async def reserve_stock(
    uow: InventoryUnitOfWork,
    *,
    sku: str,
    location_id: str,
    quantity: int,
    idempotency_key: str,
    order_reference: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``quantity`` units of ``sku`` at ``location_id`` until they expire.

    A repeat with the same idempotency key returns the first reservation and changes
    nothing. The stock row is locked before the key is checked again and the units are
    counted, so concurrent calls queue on it and can never sell the last unit twice; the
    unique key settles repeats that raced on different rows.
    """
    try:
        validate_reservation_request(
            quantity,
            ttl_seconds,
            idempotency_key,
            order_reference,
            sku=sku,
            location_id=location_id,
        )
    except RuleViolation as violation:
        raise _invalid(violation) from None
    now = now or utcnow()
    request = (sku, location_id, quantity, order_reference)
    if existing := await _by_key(uow, idempotency_key):
        return _replayed(existing, request)
    pair = (sku, location_id)
    level = (await repo.lock_levels(uow.session, {pair}, now)).get(pair)
    if existing := await _by_key(uow, idempotency_key):
        return _replayed(existing, request)
    if level is None:
        if not await repo.existing_location_ids(uow.session, [location_id]):
            raise UnknownLocation(location_id)
        if not await repo.sku_is_stocked(uow.session, sku):
            raise UnknownSku(sku)
        raise InsufficientStock(sku, location_id, quantity, 0)
    if quantity > level.available:
        raise InsufficientStock(sku, location_id, quantity, level.available)
    reservation = Reservation(
        id=str(uuid.uuid4()),
        idempotency_key=idempotency_key,
        sku=sku,
        location_id=location_id,
        quantity=quantity,
        expires_at=expiry(now, ttl_seconds),
        order_reference=order_reference,
    )
    try:
        await repo.insert_reservation(uow.session, reservation, now)
        uow.record(_reservation_event("ReservationCreated", reservation))
        await _record_stock_changes(uow, {pair}, now)
        await uow.commit()
    except IntegrityError:
        await uow.rollback()
        if existing := await _by_key(uow, idempotency_key):
            return _replayed(existing, request)
        raise
    return reservation


async def _by_key(uow: InventoryUnitOfWork, key: str) -> Reservation | None:
    found = await repo.load_reservations(uow.session, idempotency_key=key)
    return found[0] if found else None


def _replayed(existing: Reservation, request: tuple[str, str, int, str | None]) -> Reservation:
    if not existing.same_request(*request):
        raise IdempotencyKeyReused(existing.idempotency_key)
    return existing


async def release_reservation(
    uow: InventoryUnitOfWork,
    *,
    id: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Give the units back. Releasing twice, or after expiry, returns it unchanged."""
    now = now or utcnow()
    current = await _locked_reservation(uow, id, idempotency_key)
    try:
        released = release(current, now)
    except RuleViolation as violation:
        raise InvalidTransition(violation.message) from None
    return await _store_transition(uow, current, released, now)


async def consume_reservation(
    uow: InventoryUnitOfWork, *, id: str, now: datetime | None = None
) -> Reservation:
    """Turn a reservation into a commitment of the order that placed it (e.g. at shipping)."""
    now = now or utcnow()
    current = await _locked_reservation(uow, id, None)
    try:
        consumed = consume(current, now)
    except RuleViolation as violation:
        raise InvalidTransition(violation.message) from None
    if consumed.status is not current.status:
        pair = (current.sku, current.location_id)
        level = (await repo.lock_levels(uow.session, {pair}, now))[pair]
        committed = replace(level, committed=level.committed + current.quantity)
        await repo.save_levels(uow.session, [committed], now)
    return await _store_transition(uow, current, consumed, now)


async def _locked_reservation(
    uow: InventoryUnitOfWork, id: str | None, idempotency_key: str | None
) -> Reservation:
    if (id is None) == (idempotency_key is None):
        raise InvalidInventoryInput("name the reservation by exactly one of id or idempotencyKey")
    if not is_text(id or idempotency_key, 200):
        raise ReservationNotFound(repr(id or idempotency_key))
    found = await repo.load_reservations(
        uow.session,
        ids=[id] if id is not None else None,
        idempotency_key=idempotency_key,
        for_update=True,
    )
    if not found:
        raise ReservationNotFound(id or idempotency_key or "")
    return found[0]


async def _store_transition(
    uow: InventoryUnitOfWork, before: Reservation, after: Reservation, now: datetime
) -> Reservation:
    if after.status is before.status:
        return after
    await repo.set_reservation_status(uow.session, [after.id], after.status, now)
    uow.record(_reservation_event(f"Reservation{after.status.value.title()}", after))
    await _record_stock_changes(uow, {(after.sku, after.location_id)}, now)
    await uow.commit()
    return after


async def expire_reservations(
    uow: InventoryUnitOfWork, *, now: datetime | None = None, limit: int = 500
) -> list[Reservation]:
    """Mark reservations past their expiry EXPIRED and announce the stock they freed.

    Counting already ignores them (see the model); this sweep makes the status durable and
    sends the events that refresh caches and subscribers.
    """
    now = now or utcnow()
    due = await repo.due_reservations(uow.session, now, limit)
    if not due:
        return []
    await repo.set_reservation_status(
        uow.session, [r.id for r in due], ReservationStatus.EXPIRED, now
    )
    expired = [replace(r, status=ReservationStatus.EXPIRED) for r in due]
    for reservation in expired:
        uow.record(_reservation_event("ReservationExpired", reservation))
    await _record_stock_changes(uow, {(r.sku, r.location_id) for r in expired}, now)
    await uow.commit()
    return expired


def _reservation_event(type: str, reservation: Reservation) -> Event:
    return Event(
        type=type,
        partition_key=f"{reservation.sku}@{reservation.location_id}",
        payload={
            "id": reservation.id,
            "sku": reservation.sku,
            "locationId": reservation.location_id,
            "quantity": reservation.quantity,
            "status": reservation.status.value,
            "expiresAt": reservation.expires_at.isoformat(),
            "orderReference": reservation.order_reference,
        },
    )


# Stock movements


@dataclass(frozen=True, slots=True)
class Rejection:
    movement: Movement
    code: str
    message: str


@dataclass(slots=True)
class MovementReport:
    applied: list[Movement] = field(default_factory=list)
    duplicates: list[Movement] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    levels: list[StockLevel] = field(default_factory=list)


async def apply_stock_movements(
    uow: InventoryUnitOfWork, movements: Sequence[Movement], *, now: datetime | None = None
) -> MovementReport:
    """Apply a batch of stock deltas in order, once per (source document, line).

    Lines already applied (earlier or earlier in this batch) are reported as duplicates
    and change nothing. Invalid lines are rejected with a code and are not remembered, so
    a corrected line can be sent again; the valid ones still apply.
    """
    if len(movements) > MAX_BATCH:
        raise InvalidInventoryInput(
            f"at most {MAX_BATCH} movements per batch", code="BATCH_TOO_LARGE"
        )
    now = now or utcnow()
    for attempt in (1, 2):
        try:
            return await _apply(uow, movements, now)
        except IntegrityError:
            # A concurrent replay of the same lines committed first; the retry sees them.
            await uow.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _apply(
    uow: InventoryUnitOfWork, movements: Sequence[Movement], now: datetime
) -> MovementReport:
    report = MovementReport()
    candidates: list[Movement] = []
    for movement in movements:
        try:
            validate_movement(movement)
            candidates.append(movement)
        except RuleViolation as violation:
            report.rejected.append(Rejection(movement, violation.code, violation.message))
    known = await repo.existing_location_ids(
        uow.session, (loc for m in candidates for loc in m.touched)
    )
    located = []
    for movement in candidates:
        unknown = [loc for loc in movement.touched if loc not in known]
        if unknown:
            report.rejected.append(
                Rejection(movement, UnknownLocation.code, f"no location {unknown[0]!r}")
            )
        else:
            located.append(movement)
    pairs = {(m.sku, loc) for m in located for loc in m.touched}
    await repo.ensure_stock_rows(uow.session, pairs, now)
    locked = await repo.lock_levels(uow.session, pairs, now)
    seen = await repo.applied_lines(uow.session, {m.line_key for m in located})
    applied: list[Movement] = []
    for movement in located:
        if movement.line_key in seen:
            report.duplicates.append(movement)
            continue
        seen.add(movement.line_key)
        current = {loc: locked[(movement.sku, loc)] for loc in movement.touched}
        try:
            changed = apply_movement(movement, current)
        except RuleViolation as violation:
            report.rejected.append(Rejection(movement, violation.code, violation.message))
            continue
        for loc, level in changed.items():
            locked[(movement.sku, loc)] = level
        applied.append(movement)
    report.applied = applied
    touched = {(m.sku, loc) for m in applied for loc in m.touched}
    if applied:
        await repo.save_levels(uow.session, [locked[pair] for pair in sorted(touched)], now)
        await repo.record_movements(uow.session, applied, now)
        report.levels = await _record_stock_changes(uow, touched, now)
    await uow.commit()
    return report
