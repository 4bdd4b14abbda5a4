"""Reading and writing inventory's tables; each query is one SQL statement unless noted.

``StockRepository``, ``FeedRepository`` and ``ReconciliationRepository`` are what a unit
of work reads and writes inside its transaction. The module-level reads take an
``AsyncSession`` or an ``AsyncConnection`` (the per-request loaders), which both execute
Core statements the same way; the repository uses the same functions for the same reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from adapters.db import arrays, outbox
from domains.inventory import erp_postings
from domains.inventory import tables as t
from domains.inventory.errors import DuplicateMovement, DuplicateReservation
from domains.inventory.model import (
    CauseTotals,
    ChannelAvailability,
    ChannelRule,
    Divergence,
    DivergenceCause,
    ErpMove,
    Location,
    LocationKind,
    Movement,
    MovementType,
    Reconciliation,
    Reservation,
    ReservationStatus,
    StockLevel,
    channel_availability,
    totals_by_cause,
)
from domains.inventory.picture import StockPicture
from kernel.clock import as_utc
from kernel.events import Event

Db = AsyncSession | AsyncConnection
Pair = tuple[str, str]


def _in_pairs(columns: Any, pairs: Collection[tuple[Any, Any]]) -> Any:
    return tuple_(*columns).in_(list(pairs))


async def _upsert(session: AsyncSession) -> Any:
    """The dialect's INSERT that can skip rows already there."""
    connection = await session.connection()
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


# Reads shared by the GraphQL loaders and the unit of work


async def load_locations(
    db: Db,
    *,
    ids: Sequence[str] | None = None,
    kind: LocationKind | None = None,
    region: str | None = None,
    channel: str | None = None,
) -> list[Location]:
    query = select(
        t.locations,
        t.location_channels.c.channel,
        t.location_channels.c.share_percent,
        t.location_channels.c.cap,
    ).select_from(
        t.locations.outerjoin(
            t.location_channels, t.location_channels.c.location_id == t.locations.c.id
        )
    )
    if ids is not None:
        query = query.where(t.locations.c.id.in_(list(ids)))
    if kind is not None:
        query = query.where(t.locations.c.kind == kind.value)
    if region is not None:
        query = query.where(t.locations.c.region == region)
    if channel is not None:
        serving = select(t.location_channels.c.location_id).where(
            t.location_channels.c.channel == channel
        )
        query = query.where(t.locations.c.id.in_(serving))
    rows = (await db.execute(query.order_by(t.locations.c.id, t.location_channels.c.channel))).all()
    found: dict[str, Location] = {}
    rules: dict[str, list[ChannelRule]] = defaultdict(list)
    for row in rows:
        found.setdefault(row.id, Location(row.id, row.name, LocationKind(row.kind), row.region))
        if row.channel is not None:
            rules[row.id].append(ChannelRule(row.channel, row.share_percent, row.cap))
    return [
        Location(loc.id, loc.name, loc.kind, loc.region, tuple(rules[loc.id]))
        for loc in found.values()
    ]


# The reads and writes a reservation makes are built once, here, with bind parameters:
# building them per call (the subquery's column collection above all) was a fifth of the
# inventory process's CPU per reservation at 32 concurrent checkouts. Their IN lists are
# expanding parameters, so a statement's text depends only on how many values it gets.

_r = t.reservations
# The units each stock row's live reservations hold, summed per row through the
# reservation index (status, sku, location, expiry; ``tables.py``). Summed for all the
# SKUs at once (a grouped subquery joined to the stock), the planner could read every live
# reservation of every SKU: with statistics taken while the table was small, a two-SKU
# read scanned 4,751 live reservations to keep 40 (2.6 ms against 0.4 ms), and that read
# is in every reservation's transaction.
_reserved = (
    select(func.sum(_r.c.quantity))
    .where(
        _r.c.sku == t.stock.c.sku,
        _r.c.location_id == t.stock.c.location_id,
        _r.c.status == ReservationStatus.ACTIVE.value,
        _r.c.expires_at > bindparam("now"),
    )
    .correlate(t.stock)
    .scalar_subquery()
    .label("reserved")
)
_of_skus = t.stock.c.sku.in_(bindparam("skus", expanding=True))
_lc, _policy = t.location_channels, t.channel_policies

_stock_levels = select(t.stock, _reserved).where(_of_skus)
_LEVELS = _stock_levels.order_by(t.stock.c.sku, t.stock.c.location_id)
# The stock rows with their reservations summed, before a join that repeats a row for
# each channel its location serves. As a subquery, the planner merged it into the join
# and summed a row's reservations once per channel; a materialised CTE is evaluated
# once.
_levels = _stock_levels.cte("levels").prefix_with("MATERIALIZED")
_AVAILABILITY = (
    select(
        _levels,
        _lc.c.channel,
        _lc.c.share_percent,
        _lc.c.cap,
        _policy.c.counts_incoming,
    )
    .select_from(
        _levels.join(_lc, _lc.c.location_id == _levels.c.location_id).outerjoin(
            _policy, _policy.c.channel == _lc.c.channel
        )
    )
    .where(_lc.c.channel.in_(bindparam("channels", expanding=True)))
    .order_by(_levels.c.sku, _lc.c.channel, _levels.c.location_id)
)
_PICTURE = (
    select(
        _levels,
        t.locations.c.region,
        _lc.c.channel,
        _lc.c.share_percent,
        _lc.c.cap,
        _policy.c.counts_incoming,
    )
    .select_from(
        _levels.join(t.locations, t.locations.c.id == _levels.c.location_id)
        .outerjoin(_lc, _lc.c.location_id == _levels.c.location_id)
        .outerjoin(_policy, _policy.c.channel == _lc.c.channel)
    )
    .order_by(_levels.c.sku, _levels.c.location_id, _lc.c.channel)
)
_STOCK_ROWS = (
    select(t.stock.c.sku, t.stock.c.location_id)
    .where(tuple_(t.stock.c.sku, t.stock.c.location_id).in_(bindparam("pairs", expanding=True)))
    .order_by(t.stock.c.sku, t.stock.c.location_id)
)
_LOCK_STOCK = _STOCK_ROWS.with_for_update()
_LOCK_FREE_STOCK = _STOCK_ROWS.with_for_update(skip_locked=True)
_BY_ID = select(_r).where(_r.c.id.in_(bindparam("ids", expanding=True)))
_BY_KEY = select(_r).where(_r.c.idempotency_key.in_(bindparam("keys", expanding=True)))
# By (ids or keys, locked): the reservations with those ids or idempotency keys.
_RESERVATIONS = {
    ("ids", False): _BY_ID,
    ("ids", True): _BY_ID.with_for_update(),
    ("keys", False): _BY_KEY,
    ("keys", True): _BY_KEY.with_for_update(),
}
_INSERT_RESERVATIONS = insert(_r)
# PostgreSQL: the reservations and their outbox rows in one statement, each from array
# parameters (``adapters/db/arrays.py``). A data-modifying CTE runs to completion whether
# or not the outer statement reads it, and a taken idempotency key fails the statement as
# a whole.
_RESERVATION_COLUMNS = tuple(c.name for c in _r.c)
_OUTBOX_COLUMNS = tuple(c.name for c in t.outbox.c if c.name not in ("seq", "published_at"))
_INSERT_RESERVATIONS_AND_EVENTS = arrays.insert_rows(t.outbox, _OUTBOX_COLUMNS).add_cte(
    arrays.insert_rows(_r, _RESERVATION_COLUMNS).cte("reservations_new")
)


def _level(row: Any, reserved: int) -> StockLevel:
    return StockLevel(
        sku=row.sku,
        location_id=row.location_id,
        on_hand=row.on_hand,
        committed=row.committed,
        reserved=int(reserved or 0),
        safety_stock=row.safety_stock,
        quarantined=row.quarantined,
        incoming=row.incoming,
    )


async def load_levels(db: Db, skus: Collection[str], now: datetime) -> list[StockLevel]:
    """Every stock level of ``skus`` with the reservations live at ``now`` summed in."""
    if not skus:
        return []
    rows = await db.execute(_LEVELS, {"skus": list(skus), "now": now})
    return [_level(row, row.reserved) for row in rows.all()]


async def load_availability(
    db: Db, keys: Collection[Pair], now: datetime
) -> dict[Pair, ChannelAvailability]:
    """Available-to-promise per (sku, channel), for a whole batch in one statement."""
    if not keys:
        return {}
    skus = sorted({sku for sku, _ in keys})
    channels = sorted({channel for _, channel in keys})
    result = await db.execute(_AVAILABILITY, {"skus": skus, "channels": channels, "now": now})
    found: dict[Pair, list[Any]] = defaultdict(list)
    policies: dict[str, bool] = {}
    for row in result.all():
        policies[row.channel] = bool(row.counts_incoming)
        found[(row.sku, row.channel)].append(row)
    availability: dict[Pair, ChannelAvailability] = {}
    for sku, channel in keys:
        rows = found.get((sku, channel), [])
        availability[(sku, channel)] = channel_availability(
            sku,
            channel,
            [_level(row, row.reserved) for row in rows],
            {row.location_id: (ChannelRule(channel, row.share_percent, row.cap),) for row in rows},
            counts_incoming=policies.get(channel, False),
        )
    return availability


async def load_picture(db: Db, skus: Collection[str], now: datetime) -> StockPicture:
    """Every stock row of ``skus`` with the reservations live at ``now`` summed in, and
    the region, channel rules and channel policies of their locations, in one statement
    (a row per stock row and channel its location serves)."""
    if not skus:
        return StockPicture({}, {}, {}, {})
    rows = await db.execute(_PICTURE, {"skus": sorted(skus), "now": now})
    levels: dict[Pair, StockLevel] = {}
    regions: dict[str, str] = {}
    rules: dict[str, dict[str, ChannelRule]] = {}
    counts_incoming: dict[str, bool] = {}
    for row in rows.all():
        levels.setdefault((row.sku, row.location_id), _level(row, row.reserved))
        regions[row.location_id] = row.region
        served = rules.setdefault(row.location_id, {})
        if row.channel is not None:
            served[row.channel] = ChannelRule(row.channel, row.share_percent, row.cap)
            counts_incoming[row.channel] = bool(row.counts_incoming)
    return StockPicture(
        levels,
        regions,
        {location_id: tuple(by_channel.values()) for location_id, by_channel in rules.items()},
        counts_incoming,
    )


def _new_reservation_rows(
    reservations: Sequence[Reservation], now: datetime
) -> list[dict[str, Any]]:
    """The rows that store new ``reservations``, made at ``now``."""
    return [
        {
            "id": r.id,
            "idempotency_key": r.idempotency_key,
            "sku": r.sku,
            "location_id": r.location_id,
            "quantity": r.quantity,
            "status": r.status.value,
            "expires_at": r.expires_at,
            "order_reference": r.order_reference,
            "created_at": now,
            "updated_at": now,
        }
        for r in reservations
    ]


def _reservation(row: Any) -> Reservation:
    return Reservation(
        id=row.id,
        idempotency_key=row.idempotency_key,
        sku=row.sku,
        location_id=row.location_id,
        quantity=row.quantity,
        expires_at=as_utc(row.expires_at),
        status=ReservationStatus(row.status),
        order_reference=row.order_reference,
    )


async def load_reservations(
    db: Db,
    *,
    ids: Collection[str] | None = None,
    idempotency_keys: Collection[str] | None = None,
    for_update: bool = False,
) -> list[Reservation]:
    """The reservations with ``ids`` or with ``idempotency_keys`` (exactly one given)."""
    if (ids is None) == (idempotency_keys is None):
        raise ValueError("load reservations by their ids or by their idempotency keys")
    by, values = ("ids", ids) if ids is not None else ("keys", idempotency_keys or ())
    query = _RESERVATIONS[(by, for_update)]
    return [_reservation(row) for row in (await db.execute(query, {by: list(values)})).all()]


class StockRepository:
    """Locations, stock levels, reservations, applied movements and handled events, as one
    unit of work reads and writes them (its session, its transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Locations

    async def save_location(self, location: Location) -> None:
        """Insert or replace a location and its channel rules (three statements)."""
        db = self.session
        values = {
            "name": location.name,
            "kind": location.kind.value,
            "region": location.region,
        }
        exists = (
            await db.execute(select(t.locations.c.id).where(t.locations.c.id == location.id))
        ).first()
        if exists:
            await db.execute(
                update(t.locations).where(t.locations.c.id == location.id).values(**values)
            )
            await db.execute(
                delete(t.location_channels).where(t.location_channels.c.location_id == location.id)
            )
        else:
            await db.execute(insert(t.locations).values(id=location.id, **values))
        if location.rules:
            await db.execute(
                insert(t.location_channels),
                [
                    {
                        "location_id": location.id,
                        "channel": rule.channel,
                        "share_percent": rule.share_percent,
                        "cap": rule.cap,
                    }
                    for rule in location.rules
                ],
            )

    async def save_channel_policy(self, channel: str, *, counts_incoming: bool) -> None:
        table = t.channel_policies
        changed = await self.session.execute(
            update(table).where(table.c.channel == channel).values(counts_incoming=counts_incoming)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            await self.session.execute(
                insert(table).values(channel=channel, counts_incoming=counts_incoming)
            )

    async def existing_location_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        query = select(t.locations.c.id).where(t.locations.c.id.in_(wanted))
        return set((await self.session.execute(query)).scalars())

    async def location_ids(self) -> list[str]:
        """Every location's id, in order."""
        query = select(t.locations.c.id).order_by(t.locations.c.id)
        return list((await self.session.execute(query)).scalars())

    # Stock levels

    async def lock_stock(self, pairs: Collection[Pair]) -> None:
        """Lock the stock rows of ``pairs`` for this transaction (one statement), in key
        order so two transactions touching the same rows cannot deadlock.

        Only the lock: PostgreSQL reads a locked row as of before the wait for its lock, so
        what the change decides from is read by the next statement (``load_picture``).
        SQLite has no row locks and needs no statement: its BEGIN IMMEDIATE holds the
        database's write lock already.
        """
        if not pairs or self.session.get_bind().dialect.name == "sqlite":
            return
        await self.session.execute(_LOCK_STOCK, {"pairs": sorted(pairs)})

    async def lock_free_stock(self, pairs: Collection[Pair]) -> set[Pair]:
        """Lock the stock rows of ``pairs`` that no other transaction holds, without
        waiting (``FOR UPDATE SKIP LOCKED``, one statement), and return the pairs locked:
        not those whose row another transaction holds or that have no row.

        Never waiting, it cannot deadlock. A caller that did not get every row must not
        wait for the others while it holds some (it rolls back first). SQLite: every
        pair, and no statement (BEGIN IMMEDIATE holds the database's write lock).
        """
        if not pairs or self.session.get_bind().dialect.name == "sqlite":
            return set(pairs)
        locked = await self.session.execute(_LOCK_FREE_STOCK, {"pairs": sorted(pairs)})
        return {(row.sku, row.location_id) for row in locked.all()}

    async def load_picture(self, skus: Collection[str], now: datetime) -> StockPicture:
        """Every stock row of ``skus`` with the reservations live at ``now`` summed in, and
        the region, channel rules and channel policies of their locations (one statement)."""
        return await load_picture(self.session, skus, now)

    async def levels_at(
        self, location_ids: Iterable[str], now: datetime, *, skus: Iterable[str] | None = None
    ) -> list[StockLevel]:
        """Every stock row at ``location_ids`` (of ``skus``, when given) with its live
        reservations summed in (two statements)."""
        wanted = sorted(set(location_ids))
        r = t.reservations
        reserved_query = (
            select(r.c.sku, r.c.location_id, func.sum(r.c.quantity))
            .where(
                r.c.location_id.in_(wanted),
                r.c.status == ReservationStatus.ACTIVE.value,
                r.c.expires_at > now,
            )
            .group_by(r.c.sku, r.c.location_id)
        )
        stock_query = (
            select(t.stock)
            .where(t.stock.c.location_id.in_(wanted))
            .order_by(t.stock.c.sku, t.stock.c.location_id)
        )
        if skus is not None:
            only = sorted(set(skus))
            reserved_query = reserved_query.where(r.c.sku.in_(only))
            stock_query = stock_query.where(t.stock.c.sku.in_(only))
        reserved_rows = await self.session.execute(reserved_query)
        reserved = {(sku, loc): int(total) for sku, loc, total in reserved_rows.all()}
        rows = await self.session.execute(stock_query)
        return [_level(row, reserved.get((row.sku, row.location_id), 0)) for row in rows.all()]

    async def ensure_stock_rows(self, pairs: Collection[Pair], now: datetime) -> None:
        """Create missing stock rows at zero; a concurrent creator is not an error."""
        if not pairs:
            return
        upsert = await _upsert(self.session)
        statement = upsert(t.stock).on_conflict_do_nothing(index_elements=["sku", "location_id"])
        await self.session.execute(
            statement,
            [{"sku": sku, "location_id": loc, "updated_at": now} for sku, loc in sorted(pairs)],
        )

    async def save_levels(self, levels: Iterable[StockLevel], now: datetime) -> None:
        """Write the stored quantities of existing rows (``reserved`` is derived, not stored)."""
        rows = [
            {
                "b_sku": level.sku,
                "b_location_id": level.location_id,
                "on_hand": level.on_hand,
                "committed": level.committed,
                "safety_stock": level.safety_stock,
                "quarantined": level.quarantined,
                "incoming": level.incoming,
                "updated_at": now,
            }
            for level in levels
        ]
        if not rows:
            return
        statement = update(t.stock).where(
            t.stock.c.sku == bindparam("b_sku"),
            t.stock.c.location_id == bindparam("b_location_id"),
        )
        # Session.execute would treat a list as ORM bulk update; go to its connection.
        connection = await self.session.connection()
        await connection.execute(statement, rows)

    async def sku_is_stocked(self, sku: str) -> bool:
        query = select(t.stock.c.sku).where(t.stock.c.sku == sku).limit(1)
        return (await self.session.execute(query)).first() is not None

    # Reservations

    async def load_reservations(
        self,
        *,
        ids: Collection[str] | None = None,
        idempotency_keys: Collection[str] | None = None,
        for_update: bool = False,
    ) -> list[Reservation]:
        return await load_reservations(
            self.session, ids=ids, idempotency_keys=idempotency_keys, for_update=for_update
        )

    async def insert_reservations(self, reservations: Sequence[Reservation], now: datetime) -> None:
        """Store new reservations. Raises ``DuplicateReservation`` when one of their keys
        is taken (a concurrent repeat committed first); the transaction must then be
        rolled back."""
        try:
            await self.session.execute(
                _INSERT_RESERVATIONS, _new_reservation_rows(reservations, now)
            )
        except IntegrityError as error:
            raise DuplicateReservation([r.idempotency_key for r in reservations]) from error

    async def insert_reservations_with_events(
        self, reservations: Sequence[Reservation], events: Sequence[Event], now: datetime
    ) -> None:
        """Store new reservations and ``events``' outbox rows in one statement
        (PostgreSQL): a round trip fewer than the reservations' insert and the outbox's at
        commit. Raises ``DuplicateReservation`` as ``insert_reservations`` does."""
        values = {
            **arrays.parameters(_r, _RESERVATION_COLUMNS, _new_reservation_rows(reservations, now)),
            **arrays.parameters(t.outbox, _OUTBOX_COLUMNS, outbox.rows(events)),
        }
        try:
            await self.session.execute(_INSERT_RESERVATIONS_AND_EVENTS, values)
        except IntegrityError as error:
            raise DuplicateReservation([r.idempotency_key for r in reservations]) from error

    async def set_reservation_status(
        self, ids: Collection[str], status: ReservationStatus, now: datetime
    ) -> None:
        await self.session.execute(
            update(t.reservations)
            .where(t.reservations.c.id.in_(list(ids)))
            .values(status=status.value, updated_at=now)
        )

    async def due_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        """Up to ``limit`` active reservations past their expiry, oldest first, locked; rows
        another transaction holds are skipped (it is sweeping them)."""
        r = t.reservations
        query = (
            select(r)
            .where(r.c.status == ReservationStatus.ACTIVE.value, r.c.expires_at <= now)
            .order_by(r.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_reservation(row) for row in (await self.session.execute(query)).all()]

    # Movements

    async def applied_lines(
        self, lines: Collection[tuple[str, int]]
    ) -> dict[tuple[str, int], Movement]:
        """Those of the (source document, line) keys that were applied already, each with
        the movement applied under it."""
        if not lines:
            return {}
        m = t.movements
        query = select(m).where(_in_pairs((m.c.source_document_id, m.c.line_number), lines))
        found = (
            Movement(
                type=MovementType(row.type),
                sku=row.sku,
                location_id=row.location_id,
                quantity=row.quantity,
                source_document_id=row.source_document_id,
                line_number=row.line_number,
                to_location_id=row.to_location_id,
            )
            for row in (await self.session.execute(query)).all()
        )
        return {movement.line_key: movement for movement in found}

    async def record_movements(self, applied: Sequence[Movement], now: datetime) -> None:
        """Remember the lines applied. Raises ``DuplicateMovement`` when one was recorded
        meanwhile (a concurrent replay committed first); the transaction must then be
        rolled back."""
        if not applied:
            return
        try:
            await self.session.execute(
                insert(t.movements),
                [
                    {
                        "source_document_id": m.source_document_id,
                        "line_number": m.line_number,
                        "type": m.type.value,
                        "sku": m.sku,
                        "location_id": m.location_id,
                        "to_location_id": m.to_location_id,
                        "quantity": m.quantity,
                        "applied_at": now,
                    }
                    for m in applied
                ],
            )
        except IntegrityError as error:
            raise DuplicateMovement([m.line_key for m in applied]) from error

    async def owe_erp(
        self,
        owed: Sequence[tuple[Movement, Sequence[ErpMove]]],
        now: datetime,
        *,
        correlation_id: str | None,
        traceparent: str | None,
    ) -> None:
        """Queue the ERP moves of the movements the ERP has not seen (see erp_postings)."""
        await erp_postings.enqueue(
            self.session, owed, now=now, correlation_id=correlation_id, traceparent=traceparent
        )

    # Events from other domains

    async def mark_event_handled(self, consumer: str, event_id: str, now: datetime) -> bool:
        """Remember that ``consumer`` handles ``event_id``, inside the effect's transaction
        (one statement); False when it was handled already. A concurrent delivery of the
        same event waits for this transaction, then finds the mark."""
        upsert = await _upsert(self.session)
        statement = (
            upsert(t.handled_events)
            .values(consumer=consumer, event_id=event_id, handled_at=now)
            .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(t.handled_events.c.event_id)
        )
        return (await self.session.execute(statement)).first() is not None


class FeedRepository:
    """Where each inbound feed has been read up to, and the entries remembered inside its
    overlap window, as one unit of work reads and writes them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def watermark(self, name: str, *, for_update: bool = False) -> datetime | None:
        """The stored watermark of ``name``; None when it has none (or no row)."""
        query = select(t.feeds.c.watermark).where(t.feeds.c.name == name)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        return None if row is None or row.watermark is None else as_utc(row.watermark)

    async def entry_keys(self, name: str) -> frozenset[str]:
        keys = await self.session.execute(
            select(t.feed_entries.c.entry_key).where(t.feed_entries.c.feed == name)
        )
        return frozenset(keys.scalars())

    async def ensure(self, name: str, now: datetime) -> None:
        """Create the feed's row without a watermark; an existing one is left as it is."""
        upsert = await _upsert(self.session)
        await self.session.execute(
            upsert(t.feeds)
            .values(name=name, watermark=None, updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )

    async def set_watermark(self, name: str, watermark: datetime | None, now: datetime) -> None:
        await self.session.execute(
            update(t.feeds)
            .where(t.feeds.c.name == name)
            .values(watermark=watermark, updated_at=now)
        )

    async def remember(self, name: str, entries: Mapping[str, datetime]) -> None:
        """Remember entry keys with their change times; known ones are left as they are."""
        if not entries:
            return
        upsert = await _upsert(self.session)
        await self.session.execute(
            upsert(t.feed_entries).on_conflict_do_nothing(index_elements=["feed", "entry_key"]),
            [
                {"feed": name, "entry_key": key, "changed_at": changed_at}
                for key, changed_at in sorted(entries.items())
            ],
        )

    async def forget_changed_before(self, name: str, moment: datetime) -> None:
        await self.session.execute(
            delete(t.feed_entries).where(
                t.feed_entries.c.feed == name, t.feed_entries.c.changed_at < moment
            )
        )

    async def forget(self, name: str, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self.session.execute(
            delete(t.feed_entries).where(
                t.feed_entries.c.feed == name, t.feed_entries.c.entry_key.in_(list(keys))
            )
        )


# Divergence rows written per statement: one INSERT of this many rows stays well inside
# SQLite's 32,766 bound parameters (10 columns a row).
_DIVERGENCE_BATCH = 1000


class ReconciliationRepository:
    """The stored reconciliations, as one unit of work writes them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        id: str,
        ran_at: datetime,
        compared: int,
        divergences: Sequence[Divergence],
    ) -> Reconciliation:
        by_cause = totals_by_cause(divergences)
        await self.session.execute(
            insert(t.reconciliations).values(
                id=id,
                ran_at=ran_at,
                compared=compared,
                by_cause={
                    cause.value: {"pairs": totals.pairs, "units": totals.units}
                    for cause, totals in by_cause.items()
                },
            )
        )
        rows = [
            {
                "reconciliation_id": id,
                "position": position,
                "sku": d.sku,
                "location_id": d.location_id,
                "erp": d.erp,
                "ours": d.ours,
                "pending": d.pending,
                "held": d.held,
                "cause": d.cause.value,
                "repaired": d.repaired,
            }
            for position, d in enumerate(divergences)
        ]
        for start in range(0, len(rows), _DIVERGENCE_BATCH):
            await self.session.execute(
                insert(t.divergences), rows[start : start + _DIVERGENCE_BATCH]
            )
        return Reconciliation(id, ran_at, compared, by_cause)

    async def keep_newest(self, count: int) -> None:
        """Drop every reconciliation but the newest ``count``, with their divergences."""
        newest = select(t.reconciliations.c.id).order_by(t.reconciliations.c.ran_at.desc())
        kept = newest.limit(count).scalar_subquery()
        dropped = select(t.reconciliations.c.id).where(t.reconciliations.c.id.not_in(kept))
        ids = list((await self.session.execute(dropped)).scalars())
        if ids:
            await self.session.execute(
                delete(t.divergences).where(t.divergences.c.reconciliation_id.in_(ids))
            )
            await self.session.execute(
                delete(t.reconciliations).where(t.reconciliations.c.id.in_(ids))
            )


def _reconciliation(row: Any) -> Reconciliation:
    stored = row.by_cause
    by_cause = {
        cause: CauseTotals(**stored[cause.value]) if cause.value in stored else CauseTotals()
        for cause in DivergenceCause
    }
    return Reconciliation(row.id, as_utc(row.ran_at), row.compared, by_cause)


async def load_reconciliations(db: Db, last: int) -> list[Reconciliation]:
    """The newest ``last`` stored reconciliations, newest first."""
    rows = await db.execute(
        select(t.reconciliations).order_by(t.reconciliations.c.ran_at.desc()).limit(last)
    )
    return [_reconciliation(row) for row in rows]


async def load_divergences(
    db: Db, reconciliation_ids: Collection[str], first: int
) -> dict[str, list[Divergence]]:
    """The first ``first`` divergences of each reconciliation, largest difference first."""
    c = t.divergences.c
    ranked = select(
        t.divergences,
        func.row_number()
        .over(
            partition_by=c.reconciliation_id,
            order_by=(func.abs(c.erp - c.ours).desc(), c.position),
        )
        .label("rank"),
    ).where(c.reconciliation_id.in_(list(reconciliation_ids)))
    ranked_rows = ranked.subquery()
    rows = await db.execute(
        select(ranked_rows)
        .where(ranked_rows.c.rank <= first)
        .order_by(ranked_rows.c.reconciliation_id, ranked_rows.c.rank)
    )
    found: dict[str, list[Divergence]] = defaultdict(list)
    for row in rows:
        found[row.reconciliation_id].append(
            Divergence(
                row.sku,
                row.location_id,
                row.erp,
                row.ours,
                row.pending,
                row.held,
                DivergenceCause(row.cause),
                row.repaired,
            )
        )
    return found
