"""Reading and writing inventory's tables; each function is one SQL statement unless noted.

The functions take an ``AsyncSession`` (inside a unit of work) or an ``AsyncConnection``
(the per-request loaders), which both execute Core statements the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domains.inventory import tables as t
from domains.inventory.model import (
    ChannelAvailability,
    ChannelRule,
    Location,
    LocationKind,
    Movement,
    Reservation,
    ReservationStatus,
    StockLevel,
    channel_availability,
)
from kernel.clock import as_utc

Db = AsyncSession | AsyncConnection
Pair = tuple[str, str]


def _in_pairs(columns: Any, pairs: Collection[tuple[Any, Any]]) -> Any:
    return tuple_(*columns).in_(list(pairs))


# Locations


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


async def regions_of(db: Db, location_ids: Iterable[str]) -> dict[str, str]:
    """Location id -> region, in one statement."""
    ids = sorted(set(location_ids))
    if not ids:
        return {}
    rows = await db.execute(
        select(t.locations.c.id, t.locations.c.region).where(t.locations.c.id.in_(ids))
    )
    return {row.id: row.region for row in rows}


async def save_location(db: Db, location: Location) -> None:
    """Insert or replace a location and its channel rules (three statements)."""
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


async def save_channel_policy(db: Db, channel: str, *, counts_incoming: bool) -> None:
    table = t.channel_policies
    changed = await db.execute(
        update(table).where(table.c.channel == channel).values(counts_incoming=counts_incoming)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        await db.execute(insert(table).values(channel=channel, counts_incoming=counts_incoming))


async def existing_location_ids(db: Db, ids: Iterable[str]) -> set[str]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    query = select(t.locations.c.id).where(t.locations.c.id.in_(wanted))
    return set((await db.execute(query)).scalars())


# Stock levels


def _reserved_subquery(now: datetime, skus: Collection[str]) -> Any:
    r = t.reservations
    return (
        select(r.c.sku, r.c.location_id, func.sum(r.c.quantity).label("reserved"))
        .where(
            r.c.status == ReservationStatus.ACTIVE.value,
            r.c.expires_at > now,
            r.c.sku.in_(list(skus)),
        )
        .group_by(r.c.sku, r.c.location_id)
        .subquery("live_reserved")
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
    live = _reserved_subquery(now, skus)
    query = (
        select(t.stock, live.c.reserved)
        .select_from(
            t.stock.outerjoin(
                live,
                and_(live.c.sku == t.stock.c.sku, live.c.location_id == t.stock.c.location_id),
            )
        )
        .where(t.stock.c.sku.in_(list(skus)))
        .order_by(t.stock.c.sku, t.stock.c.location_id)
    )
    return [_level(row, row.reserved) for row in (await db.execute(query)).all()]


async def lock_levels(db: Db, pairs: Collection[Pair], now: datetime) -> dict[Pair, StockLevel]:
    """Lock the stock rows of ``pairs`` for this transaction and read them (two statements).

    Rows are locked in key order so two batches touching the same rows cannot deadlock.
    SQLite ignores FOR UPDATE: its BEGIN IMMEDIATE already holds the database's write lock.
    """
    if not pairs:
        return {}
    query = (
        select(t.stock)
        .where(_in_pairs((t.stock.c.sku, t.stock.c.location_id), pairs))
        .order_by(t.stock.c.sku, t.stock.c.location_id)
        .with_for_update()
    )
    rows = (await db.execute(query)).all()
    reserved = await reserved_by_pair(db, pairs, now)
    return {
        (row.sku, row.location_id): _level(row, reserved.get((row.sku, row.location_id), 0))
        for row in rows
    }


async def reserved_by_pair(db: Db, pairs: Collection[Pair], now: datetime) -> dict[Pair, int]:
    r = t.reservations
    query = (
        select(r.c.sku, r.c.location_id, func.sum(r.c.quantity))
        .where(
            _in_pairs((r.c.sku, r.c.location_id), pairs),
            r.c.status == ReservationStatus.ACTIVE.value,
            r.c.expires_at > now,
        )
        .group_by(r.c.sku, r.c.location_id)
    )
    return {(sku, loc): int(total) for sku, loc, total in (await db.execute(query)).all()}


async def ensure_stock_rows(db: Db, pairs: Collection[Pair], now: datetime) -> None:
    """Create missing stock rows at zero; a concurrent creator is not an error."""
    if not pairs:
        return
    connection = await db.connection() if isinstance(db, AsyncSession) else db
    dialect = connection.dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = upsert(t.stock).on_conflict_do_nothing(index_elements=["sku", "location_id"])
    await db.execute(
        statement,
        [{"sku": sku, "location_id": loc, "updated_at": now} for sku, loc in sorted(pairs)],
    )


async def save_levels(db: Db, levels: Iterable[StockLevel], now: datetime) -> None:
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
        t.stock.c.sku == bindparam("b_sku"), t.stock.c.location_id == bindparam("b_location_id")
    )
    if isinstance(db, AsyncSession):
        # Session.execute would treat a list as ORM bulk update; go to its connection.
        db = await db.connection()
    await db.execute(statement, rows)


async def sku_is_stocked(db: Db, sku: str) -> bool:
    query = select(t.stock.c.sku).where(t.stock.c.sku == sku).limit(1)
    return (await db.execute(query)).first() is not None


# Channel availability


async def load_availability(
    db: Db, keys: Collection[Pair], now: datetime
) -> dict[Pair, ChannelAvailability]:
    """Available-to-promise per (sku, channel), for a whole batch in one statement."""
    if not keys:
        return {}
    skus = {sku for sku, _ in keys}
    channels = {channel for _, channel in keys}
    live = _reserved_subquery(now, skus)
    lc, policy = t.location_channels, t.channel_policies
    query = (
        select(
            t.stock,
            live.c.reserved,
            lc.c.channel,
            lc.c.share_percent,
            lc.c.cap,
            policy.c.counts_incoming,
        )
        .select_from(
            t.stock.join(lc, lc.c.location_id == t.stock.c.location_id)
            .outerjoin(policy, policy.c.channel == lc.c.channel)
            .outerjoin(
                live,
                and_(live.c.sku == t.stock.c.sku, live.c.location_id == t.stock.c.location_id),
            )
        )
        .where(t.stock.c.sku.in_(list(skus)), lc.c.channel.in_(list(channels)))
        .order_by(t.stock.c.sku, lc.c.channel, t.stock.c.location_id)
    )
    found: dict[Pair, list[Any]] = defaultdict(list)
    policies: dict[str, bool] = {}
    for row in (await db.execute(query)).all():
        policies[row.channel] = bool(row.counts_incoming)
        found[(row.sku, row.channel)].append(row)
    result: dict[Pair, ChannelAvailability] = {}
    for sku, channel in keys:
        rows = found.get((sku, channel), [])
        result[(sku, channel)] = channel_availability(
            sku,
            channel,
            [_level(row, row.reserved) for row in rows],
            {row.location_id: (ChannelRule(channel, row.share_percent, row.cap),) for row in rows},
            counts_incoming=policies.get(channel, False),
        )
    return result


async def channels_served(db: Db, location_ids: Iterable[str]) -> dict[str, list[str]]:
    lc = t.location_channels
    wanted = list(set(location_ids))
    if not wanted:
        return {}
    query = select(lc.c.location_id, lc.c.channel).where(lc.c.location_id.in_(wanted))
    served: dict[str, list[str]] = defaultdict(list)
    for location_id, channel in (await db.execute(query)).all():
        served[location_id].append(channel)
    return served


# Reservations


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
    query = select(t.reservations)
    if ids is not None:
        query = query.where(t.reservations.c.id.in_(list(ids)))
    if idempotency_keys is not None:
        query = query.where(t.reservations.c.idempotency_key.in_(list(idempotency_keys)))
    if for_update:
        query = query.with_for_update()
    return [_reservation(row) for row in (await db.execute(query)).all()]


async def insert_reservations(db: Db, reservations: Sequence[Reservation], now: datetime) -> None:
    await db.execute(
        insert(t.reservations),
        [
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
        ],
    )


async def set_reservation_status(
    db: Db, ids: Collection[str], status: ReservationStatus, now: datetime
) -> None:
    await db.execute(
        update(t.reservations)
        .where(t.reservations.c.id.in_(list(ids)))
        .values(status=status.value, updated_at=now)
    )


async def due_reservations(db: Db, now: datetime, limit: int) -> list[Reservation]:
    r = t.reservations
    query = (
        select(r)
        .where(r.c.status == ReservationStatus.ACTIVE.value, r.c.expires_at <= now)
        .order_by(r.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_reservation(row) for row in (await db.execute(query)).all()]


# Movements


async def applied_lines(db: Db, lines: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
    if not lines:
        return set()
    m = t.movements
    query = select(m.c.source_document_id, m.c.line_number).where(
        _in_pairs((m.c.source_document_id, m.c.line_number), lines)
    )
    return {(doc, line) for doc, line in (await db.execute(query)).all()}


async def record_movements(db: Db, applied: Sequence[Movement], now: datetime) -> None:
    if not applied:
        return
    await db.execute(
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


# Events from other domains


async def event_handled(db: Db, consumer: str, event_id: str) -> bool:
    h = t.handled_events
    query = select(h.c.event_id).where(h.c.consumer == consumer, h.c.event_id == event_id)
    return (await db.execute(query)).first() is not None


async def mark_event_handled(db: Db, consumer: str, event_id: str, now: datetime) -> None:
    """Inside the effect's transaction; a concurrent delivery's commit fails on the key."""
    await db.execute(
        insert(t.handled_events).values(consumer=consumer, event_id=event_id, handled_at=now)
    )
