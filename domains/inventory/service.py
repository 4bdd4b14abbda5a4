"""Inventory's use cases: each takes plain values and a unit of work, opens it (one
transaction) and commits once.

Callers outside this package (the demo loader, checkout's order placement, the ERP
inbound sync) use these functions and nothing else of the domain's storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from adapters.metrics.counters import count_duplicate
from domains.inventory.changes import announce_stock_changes, record_stock_changes
from domains.inventory.errors import (
    DuplicateReservation,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidInventoryInput,
    InvalidTransition,
    ReservationNotFound,
    UnknownLocation,
    UnknownSku,
)
from domains.inventory.model import (
    ChannelRule,
    Divergence,
    Location,
    LocationKind,
    Reconciliation,
    Reservation,
    ReservationStatus,
    RuleViolation,
    StockLevel,
    consume,
    expiry,
    is_text,
    release,
    validate_reservation_request,
    validate_rule,
    validate_rules,
    validate_snapshot,
)
from domains.inventory.movements import MovementReport, Rejection, apply_stock_movements
from domains.inventory.picture import StockPicture
from domains.inventory.ports import UnitOfWork
from kernel.channels import DEFAULT_SALES, SalesVocabulary
from kernel.event_types import (
    ChannelPolicyChanged,
    ReservationChange,
    ReservationConsumed,
    ReservationCreated,
    ReservationExpired,
    ReservationReleased,
)
from kernel.events import Event
from kernel.keys import MAX_ORDER_LINES, MAX_RESERVATION_KEY

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "MovementReport",
    "Rejection",
    "ReservationRequest",
    "apply_stock_movements",
    "check_requests",
    "consume_reservation",
    "expire_reservations",
    "import_stock_levels",
    "record_reconciliation",
    "release_reservation",
    "reserve_stock",
    "reserve_stock_lines",
    "reserve_together",
    "save_location",
    "set_channel_policy",
]

DEFAULT_TTL_SECONDS = 15 * 60
# Stored reconciliations kept: a month of nightly runs, for the console and GraphQL.
KEPT_RECONCILIATIONS = 31
MAX_LINES = MAX_ORDER_LINES

Pair = tuple[str, str]


def _invalid(violation: RuleViolation) -> InvalidInventoryInput:
    return InvalidInventoryInput(violation.message, code=violation.code)


def _sold_in(channel: str, sales: SalesVocabulary) -> None:
    if not sales.sells_in(channel):
        raise InvalidInventoryInput(
            f"Unknown channel {channel[:32]!r}; use one of {', '.join(sales.channels)}",
            code="UNKNOWN_CHANNEL",
        )


# Locations and allocation rules


async def save_location(
    uow: UnitOfWork,
    *,
    id: str,
    name: str,
    kind: LocationKind,
    region: str,
    rules: Sequence[ChannelRule],
    sales: SalesVocabulary = DEFAULT_SALES,
) -> Location:
    """Create or replace a location with the channels it serves and their allocation rules."""
    async with uow:
        if not (is_text(id, 64) and is_text(name, 200) and is_text(region, 64)):
            raise InvalidInventoryInput("a location needs an id, a name and a region")
        try:
            validate_rules(rules)
        except RuleViolation as violation:
            raise _invalid(violation) from None
        for rule in rules:
            _sold_in(rule.channel, sales)
        location = Location(id, name, kind, region, tuple(rules))
        await uow.stock.save_location(location)
        await uow.commit()
        return location


async def set_channel_policy(
    uow: UnitOfWork,
    channel: str,
    *,
    counts_incoming: bool,
    sales: SalesVocabulary = DEFAULT_SALES,
) -> None:
    """Whether in-transit units count toward ``channel``'s available-to-promise."""
    async with uow:
        try:
            validate_rule(ChannelRule(channel))
        except RuleViolation as violation:
            raise _invalid(violation) from None
        _sold_in(channel, sales)
        await uow.stock.save_channel_policy(channel, counts_incoming=counts_incoming)
        uow.record(
            Event.of(
                ChannelPolicyChanged(channel=channel, counts_incoming=counts_incoming),
                partition_key=channel,
                occurred_at=uow.clock.now(),
            )
        )
        await uow.commit()


# Stock levels


async def import_stock_levels(
    uow: UnitOfWork, levels: Sequence[StockLevel], *, now: datetime | None = None
) -> int:
    """Set the stored quantities of (sku, location) rows, as an ERP snapshot states them.

    Meant for the initial load and for reconciliation repairs; day-to-day changes arrive as
    movements. ``reserved`` is ignored: it comes from the live reservations.
    """
    async with uow:
        now = now or uow.clock.now()
        try:
            for level in levels:
                validate_snapshot(level)
        except RuleViolation as violation:
            raise _invalid(violation) from None
        pairs = {(level.sku, level.location_id) for level in levels}
        missing = {loc for _, loc in pairs} - await uow.stock.existing_location_ids(
            loc for _, loc in pairs
        )
        if missing:
            raise UnknownLocation(sorted(missing)[0])
        await uow.stock.ensure_stock_rows(pairs, now)
        await uow.stock.lock_stock(pairs)
        picture = await uow.stock.load_picture({sku for sku, _ in pairs}, now)
        after = [
            replace(level, reserved=picture.levels[(level.sku, level.location_id)].reserved)
            for level in levels
        ]
        await uow.stock.save_levels(after, now)
        announce_stock_changes(uow, picture.with_levels(after), pairs, now)
        await uow.commit()
        return len(pairs)


# Reservations


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    sku: str
    location_id: str
    quantity: int
    idempotency_key: str
    order_reference: str | None = None
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    # The sales channel the units are for: held within its allocation at the location
    # as well as within the physical stock. None: the physical stock only (back office).
    channel: str | None = None


async def reserve_stock(
    uow: UnitOfWork,
    *,
    sku: str,
    location_id: str,
    quantity: int,
    idempotency_key: str,
    order_reference: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    channel: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``quantity`` units of ``sku`` at ``location_id`` until they expire."""
    request = ReservationRequest(
        sku, location_id, quantity, idempotency_key, order_reference, ttl_seconds, channel
    )
    async with uow:
        (reservation,) = await _reserve_lines(uow, [request], now)
    return reservation


async def reserve_stock_lines(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], *, now: datetime | None = None
) -> list[Reservation]:
    """Reserve every line or none (an order's lines), in request order.

    A repeat with the same idempotency keys returns the first reservations and changes
    nothing. The stock rows are locked (in key order, so two orders cannot deadlock) before
    the units are counted: concurrent calls queue on the rows and can never sell the last
    unit twice. The unique key settles repeats, those that raced included.
    """
    async with uow:
        return await _reserve_lines(uow, requests, now)


_REFUSALS = (InsufficientStock, UnknownLocation, UnknownSku)


async def _reserve_lines(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], now: datetime | None
) -> list[Reservation]:
    """Three statements for a new order's lines at one location: on PostgreSQL the lock,
    the stock, the reservations with their events; on SQLite (no lock) the stock, the
    reservations, the events.

    The keys are not looked up first: a new order's are new, and the unique key refuses
    any that is not. Only then, or when a line cannot be held (a repeat of lines held
    before may find the stock short), are they looked up, and the request is answered as
    a repeat (``_reserve_known_lines``). A key look-up before the stock read was one
    statement in five, and 4% of the inventory process's CPU, at 32 concurrent checkouts.

    The rows are locked without waiting first (ADR 0015): when another transaction holds
    one, the request is decided from the committed stock if that refuses it
    (``_refused_while_held``), and waits for the locks only when it may be held. Rows it
    did lock are released first (a rollback), so it never waits for a row while holding
    another; when it locked none it keeps its transaction, which holds nothing.
    """
    check_requests(requests)
    now = now or uow.clock.now()
    keys = [request.idempotency_key for request in requests]
    pairs = {_pair(r) for r in requests}
    locked = await uow.stock.lock_free_stock(pairs)
    if locked != pairs:
        if locked:
            await uow.rollback()
        repeated = await _refused_while_held(uow, requests, now)
        if repeated is not None:
            return repeated
        await uow.stock.lock_stock(pairs)
    picture = await uow.stock.load_picture({r.sku for r in requests}, now)
    try:
        await _check_holdable(uow, requests, picture)
    except _REFUSALS:
        # The rows are still locked: keys found now were committed before the lock.
        if not await _existing(uow, keys):
            raise
        await uow.rollback()
        return await _reserve_known_lines(uow, requests, now)
    try:
        return await _hold(uow, requests, picture, now)
    except DuplicateReservation:
        await uow.rollback()
        return await _reserve_known_lines(uow, requests, now)


async def _refused_while_held(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], now: datetime
) -> list[Reservation] | None:
    """Decide from the committed stock a request whose stock rows another transaction
    holds (or that has no stock row), without waiting for that transaction; the caller's
    transaction holds no row lock.

    The stock is read in one statement: in READ COMMITTED it sees what was committed when
    it began, as a read outside any transaction would. A line it cannot hold refuses the
    request as the same check under the locks would (the stock, the channel's
    allocation, an unknown SKU or location): the refusal is serialised before the
    transactions that snapshot does not see, and it sells nothing, so it cannot oversell.
    Its keys are looked up first, as the refusal under the locks does: a whole repeat is
    answered with the reservations made before (committed reservations are never
    deleted), a partial one takes the locks (``_reserve_known_lines``). None when the
    committed stock holds every line: the transactions ahead may take the units, so the
    caller waits for the locks and decides under them.
    """
    picture = await uow.stock.load_picture({r.sku for r in requests}, now)
    try:
        await _check_holdable(uow, requests, picture)
    except _REFUSALS:
        existing = await _existing(uow, [request.idempotency_key for request in requests])
        if not existing:
            raise
        await uow.rollback()
        if len(existing) == len(requests):
            return _repeat(requests, existing)
        return await _reserve_known_lines(uow, requests, now)
    return None


async def _reserve_known_lines(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], now: datetime
) -> list[Reservation]:
    """Reserve the lines whose keys are not taken, once the stock rows are locked and the
    keys looked up: a whole repeat is answered with the reservations made before, lines
    repeated from an earlier partial call must still match what they asked for."""
    keys = [request.idempotency_key for request in requests]
    await uow.stock.lock_stock({_pair(r) for r in requests})
    existing = await _existing(uow, keys)
    if len(existing) == len(requests):
        return _repeat(requests, existing)
    _replayed([r for r in requests if r.idempotency_key in existing], existing)
    wanted = [r for r in requests if r.idempotency_key not in existing]
    picture = await uow.stock.load_picture({r.sku for r in wanted}, now)
    await _check_holdable(uow, wanted, picture)
    try:
        created = await _hold(uow, wanted, picture, now)
    except DuplicateReservation:
        await uow.rollback()
        existing = await _existing(uow, keys)
        if len(existing) == len(requests):
            return _repeat(requests, existing)
        raise
    by_key = {reservation.idempotency_key: reservation for reservation in created}
    return [existing.get(key) or by_key[key] for key in keys]


# What ``reserve_together`` decides for each order: its reservations, the refusal to
# raise, or None when the order is to be reserved alone (``reserve_stock_lines``).
Decision = list[Reservation] | Exception | None


async def reserve_together(
    uow: UnitOfWork,
    orders: Sequence[Sequence[ReservationRequest]],
    *,
    now: datetime | None = None,
) -> list[Decision]:
    """Reserve several orders' lines in one transaction, each order every line or none,
    decided in the order given as if one after the other: three statements for them all
    (the lock, the stock, the reservations with their events), where each order alone
    takes three. Each order's requests must have passed ``check_requests``.

    An order is left to be reserved alone (None) when this transaction cannot decide it
    as ``reserve_stock_lines`` would: when another transaction holds one of the stock
    rows (every order is), when one of its keys is taken already (a repeat), or when
    another order's key is (the insert fails as a whole, and every order is). A line
    the stock cannot hold refuses its order, after the orders before it took theirs.
    """
    now = now or uow.clock.now()
    pairs = {_pair(r) for requests in orders for r in requests}
    async with uow:
        if await uow.stock.lock_free_stock(pairs) != pairs:
            return [None] * len(orders)
        picture = await uow.stock.load_picture({sku for sku, _ in pairs}, now)
        decisions: list[Decision] = []
        created: list[Reservation] = []
        for requests in orders:
            try:
                await _check_holdable(uow, requests, picture)
            except _REFUSALS as refusal:
                decisions.append(refusal)
                continue
            held = _new_reservations(requests, now)
            picture = picture.holding(held)
            created.extend(held)
            decisions.append(held)
        refused = [n for n, decision in enumerate(decisions) if isinstance(decision, Exception)]
        if refused:
            # The rows are locked: a key found now was committed before the locks, and
            # its order is a repeat, answered alone.
            keys = [r.idempotency_key for n in refused for r in orders[n]]
            taken = await _existing(uow, keys)
            for n in refused:
                if any(r.idempotency_key in taken for r in orders[n]):
                    decisions[n] = None
        if created:
            try:
                await _store_held(uow, created, picture, now)
            except DuplicateReservation:
                await uow.rollback()
                return [None] * len(orders)
    return decisions


async def _hold(
    uow: UnitOfWork,
    requests: Sequence[ReservationRequest],
    picture: StockPicture,
    now: datetime,
) -> list[Reservation]:
    """Store a reservation per request (checked against ``picture``), announce them with
    the stock they leave, and commit; raises ``DuplicateReservation`` when a key is taken
    (the transaction must then be rolled back)."""
    created = _new_reservations(requests, now)
    await _store_held(uow, created, picture.holding(created), now)
    return created


def _new_reservations(requests: Sequence[ReservationRequest], now: datetime) -> list[Reservation]:
    return [
        Reservation(
            id=str(uuid.uuid4()),
            idempotency_key=r.idempotency_key,
            sku=r.sku,
            location_id=r.location_id,
            quantity=r.quantity,
            expires_at=expiry(now, r.ttl_seconds),
            order_reference=r.order_reference,
        )
        for r in requests
    ]


async def _store_held(
    uow: UnitOfWork, created: Sequence[Reservation], picture: StockPicture, now: datetime
) -> None:
    """Store ``created``, announce them with ``picture`` (the stock once they hold their
    units), and commit."""
    for reservation in created:
        uow.record(reservation_event(ReservationCreated, reservation, now))
    announce_stock_changes(uow, picture, {(r.sku, r.location_id) for r in created}, now)
    await uow.insert_reservations(created, now)
    await uow.commit()


def _pair(request: ReservationRequest) -> Pair:
    return (request.sku, request.location_id)


def check_requests(requests: Sequence[ReservationRequest]) -> None:
    """Refuse an order's reservation requests that no stock could make valid."""
    if not 0 < len(requests) <= MAX_LINES:
        raise InvalidInventoryInput(
            f"reserve 1 to {MAX_LINES} lines at a time", code="INVALID_LINES"
        )
    keys = [request.idempotency_key for request in requests]
    if len(set(keys)) != len(keys):
        raise InvalidInventoryInput(
            "each line needs its own idempotency key", code="DUPLICATE_IDEMPOTENCY_KEY"
        )
    if any(r.channel is not None and not is_text(r.channel, 32) for r in requests):
        raise InvalidInventoryInput("a channel is 1 to 32 characters", code="INVALID_CHANNEL")
    try:
        for r in requests:
            validate_reservation_request(
                r.quantity,
                r.ttl_seconds,
                r.idempotency_key,
                r.order_reference,
                sku=r.sku,
                location_id=r.location_id,
            )
    except RuleViolation as violation:
        raise _invalid(violation) from None


async def _check_holdable(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], picture: StockPicture
) -> None:
    """Every line within the stock and within its channel's allocation in ``picture``."""
    await _check_available(uow, requests, picture)
    _check_allocated(requests, picture)


async def _check_available(
    uow: UnitOfWork, requests: Sequence[ReservationRequest], picture: StockPicture
) -> None:
    demand: dict[Pair, int] = {}
    for request in requests:
        demand[_pair(request)] = demand.get(_pair(request), 0) + request.quantity
    for (sku, location_id), quantity in demand.items():
        level = picture.levels.get((sku, location_id))
        if level is None:
            if not await uow.stock.existing_location_ids([location_id]):
                raise UnknownLocation(location_id)
            if not await uow.stock.sku_is_stocked(sku):
                raise UnknownSku(sku)
            raise InsufficientStock(sku, location_id, quantity, 0)
        if quantity > level.available:
            raise InsufficientStock(sku, location_id, quantity, level.available)


def _check_allocated(requests: Sequence[ReservationRequest], picture: StockPicture) -> None:
    """Each channel's demand at a location within what the channel may promise there: the
    figure ``availability(channel)`` shows for that location (its share of the sellable
    units, and of the in-transit ones where the channel's policy counts them, up to its
    cap; none where the location does not serve it). ``picture`` is read after the stock
    rows are locked, so it is the figure of this moment, or, to refuse without waiting for
    those locks, it is the committed stock (``_refused_while_held``)."""
    demand: dict[tuple[str, str, str], int] = {}
    for request in requests:
        if request.channel is not None:
            key = (request.sku, request.location_id, request.channel)
            demand[key] = demand.get(key, 0) + request.quantity
    for (sku, location_id, channel), quantity in demand.items():
        allocated = picture.allocated(sku, location_id, channel)
        if quantity > allocated:
            raise InsufficientStock(sku, location_id, quantity, allocated, channel=channel)


async def _existing(uow: UnitOfWork, keys: Sequence[str]) -> dict[str, Reservation]:
    found = await uow.stock.load_reservations(idempotency_keys=keys)
    return {reservation.idempotency_key: reservation for reservation in found}


def _repeat(
    requests: Sequence[ReservationRequest], existing: dict[str, Reservation]
) -> list[Reservation]:
    """A whole repeat of reservations made before: answered as they are, and counted."""
    replayed = _replayed(requests, existing)
    # Reservations carry no channel; the order that asked for them has it.
    count_duplicate("reserveStock", "none")
    return replayed


def _replayed(
    requests: Sequence[ReservationRequest], existing: dict[str, Reservation]
) -> list[Reservation]:
    replayed = []
    for r in requests:
        reservation = existing[r.idempotency_key]
        if not reservation.same_request(r.sku, r.location_id, r.quantity, r.order_reference):
            raise IdempotencyKeyReused(r.idempotency_key)
        replayed.append(reservation)
    return replayed


async def release_reservation(
    uow: UnitOfWork,
    *,
    id: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Give the units back. Releasing twice, or after expiry, returns it unchanged."""
    async with uow:
        now = now or uow.clock.now()
        current = await _locked_reservation(uow, id, idempotency_key)
        try:
            released = release(current, now)
        except RuleViolation as violation:
            raise InvalidTransition(violation.message) from None
        return await _store_transition(uow, current, released, now)


async def consume_reservation(
    uow: UnitOfWork, *, id: str, now: datetime | None = None
) -> Reservation:
    """Turn a reservation into a commitment of the order that placed it (e.g. at shipping)."""
    async with uow:
        now = now or uow.clock.now()
        current = await _locked_reservation(uow, id, None)
        try:
            consumed = consume(current, now)
        except RuleViolation as violation:
            raise InvalidTransition(violation.message) from None
        if consumed.status is current.status:
            return consumed
        pair = (current.sku, current.location_id)
        await uow.stock.lock_stock({pair})
        picture = await uow.stock.load_picture({current.sku}, now)
        level = picture.levels[pair]
        committed = replace(level, committed=level.committed + current.quantity)
        await uow.stock.save_levels([committed], now)
        after = picture.with_levels([committed]).releasing([current])
        return await _store_transition(uow, current, consumed, now, stock=after)


async def _locked_reservation(
    uow: UnitOfWork, id: str | None, idempotency_key: str | None
) -> Reservation:
    if (id is None) == (idempotency_key is None):
        raise InvalidInventoryInput("name the reservation by exactly one of id or idempotencyKey")
    if not is_text(id or idempotency_key, MAX_RESERVATION_KEY):
        raise ReservationNotFound(repr(id or idempotency_key))
    found = await uow.stock.load_reservations(
        ids=[id] if id is not None else None,
        idempotency_keys=[idempotency_key] if idempotency_key is not None else None,
        for_update=True,
    )
    if not found:
        raise ReservationNotFound(id or idempotency_key or "")
    return found[0]


async def _store_transition(
    uow: UnitOfWork,
    before: Reservation,
    after: Reservation,
    now: datetime,
    *,
    stock: StockPicture | None = None,
) -> Reservation:
    """Store the reservation's new status and announce it with the stock: ``stock`` as it
    is after the change when the caller read it under its locks, else read after the
    write."""
    if after.status is before.status:
        return after
    await uow.stock.set_reservation_status([after.id], after.status, now)
    uow.record(reservation_event(RESERVATION_EVENTS[after.status], after, now))
    pairs = {(after.sku, after.location_id)}
    if stock is None:
        await record_stock_changes(uow, pairs, now)
    else:
        announce_stock_changes(uow, stock, pairs, now)
    await uow.commit()
    return after


async def expire_reservations(
    uow: UnitOfWork, *, now: datetime | None = None, limit: int = 500
) -> list[Reservation]:
    """Mark reservations past their expiry EXPIRED and announce the stock they freed.

    Counting already ignores them (see the model); this sweep makes the status durable and
    sends the events that refresh caches and subscribers.
    """
    async with uow:
        now = now or uow.clock.now()
        due = await uow.stock.due_reservations(now, limit)
        if not due:
            return []
        await uow.stock.set_reservation_status([r.id for r in due], ReservationStatus.EXPIRED, now)
        expired = [replace(r, status=ReservationStatus.EXPIRED) for r in due]
        for reservation in expired:
            uow.record(reservation_event(ReservationExpired, reservation, now))
        await record_stock_changes(uow, {(r.sku, r.location_id) for r in expired}, now)
        await uow.commit()
        return expired


# The event announcing that a reservation now stands in a status.
RESERVATION_EVENTS: dict[ReservationStatus, type[ReservationChange]] = {
    ReservationStatus.ACTIVE: ReservationCreated,
    ReservationStatus.RELEASED: ReservationReleased,
    ReservationStatus.EXPIRED: ReservationExpired,
    ReservationStatus.CONSUMED: ReservationConsumed,
}


def reservation_event(
    contract: type[ReservationChange], reservation: Reservation, at: datetime
) -> Event:
    change = contract(
        id=reservation.id,
        sku=reservation.sku,
        location_id=reservation.location_id,
        quantity=reservation.quantity,
        status=reservation.status.value,
        expires_at=reservation.expires_at,
        order_reference=reservation.order_reference,
    )
    return Event.of(
        change, partition_key=f"{reservation.sku}@{reservation.location_id}", occurred_at=at
    )


async def record_reconciliation(
    uow: UnitOfWork, compared: int, divergences: Sequence[Divergence]
) -> Reconciliation:
    """Store a reconciliation of every SKU at every location as the newest one, keeping
    the newest ``KEPT_RECONCILIATIONS``."""
    async with uow:
        stored = await uow.reconciliations.add(
            str(uuid.uuid4()), uow.clock.now(), compared, divergences
        )
        await uow.reconciliations.keep_newest(KEPT_RECONCILIATIONS)
        await uow.commit()
    return stored
