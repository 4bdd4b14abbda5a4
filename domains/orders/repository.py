"""Loading and storing orders; reads work on a session or a plain connection."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domains.orders.errors import DuplicateOrder, InvalidOrderInput, StepKeyTaken
from domains.orders.model import Order
from domains.orders.tables import (
    LINE_QUANTITIES,
    line_values,
    lines,
    order_from_rows,
    order_values,
    orders,
    step_requests,
)
from kernel.clock import as_utc


class Executor(Protocol):
    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class OrderFilter:
    channel: str | None = None
    status: str | None = None
    location_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    cursors: list[str]
    has_next_page: bool


async def load_orders(executor: Executor, ids: Sequence[str]) -> dict[str, Order]:
    """Orders by id in two statements (orders, then their lines), whatever the count."""
    # An id that cannot exist is not worth a round trip (and PostgreSQL refuses NUL).
    plausible = {i for i in ids if 0 < len(i) <= 36 and "\x00" not in i}
    if not plausible:
        return {}
    rows = (await executor.execute(select(orders).where(orders.c.id.in_(plausible)))).all()
    return await _with_lines(executor, rows)


async def _with_lines(executor: Executor, rows: Sequence[Any]) -> dict[str, Order]:
    if not rows:
        return {}
    by_order: dict[str, list[Any]] = defaultdict(list)
    line_rows = await executor.execute(
        select(lines).where(lines.c.order_id.in_([row.id for row in rows]))
    )
    for line_row in line_rows.all():
        by_order[line_row.order_id].append(line_row)
    return {row.id: order_from_rows(row, by_order[row.id]) for row in rows}


def sequence_of(number: str) -> int | None:
    """The sequence inside an order number, or None when it is not one of ours."""
    prefix, _, digits = number.partition("-")
    if prefix != "RG" or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)


async def order_ids_by_number(executor: Executor, numbers: Sequence[str]) -> dict[str, str]:
    """The id of each order whose number (``RG-0000042``) is among ``numbers``, in one
    statement; a number that is not one of ours costs nothing."""
    sequences = {seq: number for number in numbers if (seq := sequence_of(number)) is not None}
    if not sequences:
        return {}
    rows = await executor.execute(
        select(orders.c.seq, orders.c.id).where(orders.c.seq.in_(list(sequences)))
    )
    return {sequences[row.seq]: row.id for row in rows.all()}


def encode_cursor(order: Order) -> str:
    raw = f"{as_utc(order.created_at).isoformat()}|{order.sequence}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created, seq = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return as_utc(datetime.fromisoformat(created)), int(seq)
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise InvalidOrderInput(f"{cursor!r} is not a cursor this server gave out") from error


async def list_orders(
    executor: Executor, where: OrderFilter, *, first: int, after: str | None
) -> OrderPage:
    """Newest first, keyset on (created_at, seq): stable while orders keep arriving."""
    query = select(orders)
    if where.channel is not None:
        query = query.where(orders.c.channel == where.channel)
    if where.status is not None:
        query = query.where(orders.c.status == where.status)
    if where.location_id is not None:
        query = query.where(orders.c.location_id == where.location_id)
    if where.created_from is not None:
        query = query.where(orders.c.created_at >= as_utc(where.created_from))
    if where.created_to is not None:
        query = query.where(orders.c.created_at < as_utc(where.created_to))
    if after is not None:
        created, seq = decode_cursor(after)
        query = query.where(
            or_(
                orders.c.created_at < created,
                and_(orders.c.created_at == created, orders.c.seq < seq),
            )
        )
    query = query.order_by(orders.c.created_at.desc(), orders.c.seq.desc()).limit(first + 1)
    rows = (await executor.execute(query)).all()
    page_rows = rows[:first]
    loaded = await _with_lines(executor, page_rows)
    page = [loaded[row.id] for row in page_rows]
    return OrderPage(page, [encode_cursor(o) for o in page], has_next_page=len(rows) > first)


async def recent_order_ids_by_sku(
    executor: Executor, skus: Sequence[str], first: int
) -> dict[str, list[str]]:
    """The ``first`` newest orders holding each SKU, in one statement for all SKUs."""
    if not skus or first <= 0:
        return {sku: [] for sku in skus}
    per_order = (
        select(
            lines.c.sku,
            lines.c.order_id,
            func.max(orders.c.created_at).label("created_at"),
            func.max(orders.c.seq).label("seq"),
        )
        .join(orders, orders.c.id == lines.c.order_id)
        .where(lines.c.sku.in_(set(skus)))
        .group_by(lines.c.sku, lines.c.order_id)
        .subquery()
    )
    ranked = select(
        per_order.c.sku,
        per_order.c.order_id,
        func.row_number()
        .over(
            partition_by=per_order.c.sku,
            order_by=(per_order.c.created_at.desc(), per_order.c.seq.desc()),
        )
        .label("rank"),
    ).subquery()
    rows = await executor.execute(
        select(ranked.c.sku, ranked.c.order_id)
        .where(ranked.c.rank <= first)
        .order_by(ranked.c.sku, ranked.c.rank)
    )
    found: dict[str, list[str]] = {sku: [] for sku in skus}
    for row in rows.all():
        found[row.sku].append(row.order_id)
    return found


async def recent_order_ids_by_location(
    executor: Executor, location_ids: Sequence[str], first: int, status: str | None = None
) -> dict[str, list[str]]:
    """The ``first`` newest orders fulfilled at each location (optionally in one status),
    in one statement for all locations."""
    if not location_ids or first <= 0:
        return {location_id: [] for location_id in location_ids}
    candidates = select(
        orders.c.location_id,
        orders.c.id,
        func.row_number()
        .over(
            partition_by=orders.c.location_id,
            order_by=(orders.c.created_at.desc(), orders.c.seq.desc()),
        )
        .label("rank"),
    ).where(orders.c.location_id.in_(set(location_ids)))
    if status is not None:
        candidates = candidates.where(orders.c.status == status)
    ranked = candidates.subquery()
    rows = await executor.execute(
        select(ranked.c.location_id, ranked.c.id)
        .where(ranked.c.rank <= first)
        .order_by(ranked.c.location_id, ranked.c.rank)
    )
    found: dict[str, list[str]] = {location_id: [] for location_id in location_ids}
    for row in rows.all():
        found[row.location_id].append(row.id)
    return found


# Checkout's statements, built once: a statement made per call with ``.values(dict)`` had
# its cache key walked value by value on every order (about 5% of the orders process's
# CPU at 32 concurrent checkouts); these have bind parameters, and their memoised cache
# keys cost nothing after the first order.
# An insert into orders skips a row whose unique key is taken (``ON CONFLICT DO
# NOTHING ... RETURNING``), as each database spells it.
_INSERT_ORDER = {
    dialect: insert_unless_taken(orders).on_conflict_do_nothing().returning(orders.c.seq)
    for dialect, insert_unless_taken in (("postgresql", pg.insert), ("sqlite", sqlite.insert))
}
_INSERT_LINES = insert(lines)
_ORDER_BY_KEY = select(orders).where(orders.c.idempotency_key == bindparam("key"))
_ORDER_ID_BY_KEY = select(orders.c.id).where(orders.c.idempotency_key == bindparam("key"))


async def order_id_by_idempotency_key(executor: Executor, key: str) -> str | None:
    """The id of the order holding idempotency key ``key``, if one does."""
    found: str | None = (await executor.execute(_ORDER_ID_BY_KEY, {"key": key})).scalar()
    return found


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, order: Order) -> None:
        """Insert ``order`` and give it its sequence (and so its number), in two
        statements: the order row, which answers its sequence (``RETURNING``), and its
        lines in one batch.

        An order whose key (or id) is taken inserts nothing and raises DuplicateOrder.
        ``ON CONFLICT DO NOTHING`` says so without an error, so the transaction needs no
        savepoint to outlive it (two round trips fewer per order).
        """
        dialect = self.session.get_bind().dialect.name
        inserted = await self.session.execute(_INSERT_ORDER[dialect], order_values(order))
        sequence = inserted.scalar_one_or_none()
        if sequence is None:
            raise DuplicateOrder(order.idempotency_key)
        order.sequence = int(sequence)
        await self.session.execute(
            _INSERT_LINES, [line_values(order.id, line) for line in order.lines]
        )

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        query = select(orders).where(orders.c.id == order_id)
        if for_update:
            # Serialises concurrent steps on one order (SQLite serialises all writers).
            query = query.with_for_update()
        rows = (await self.session.execute(query)).all()
        return (await _with_lines(self.session, rows)).get(order_id)

    async def get_by_idempotency_key(self, key: str) -> Order | None:
        rows = (await self.session.execute(_ORDER_BY_KEY, {"key": key})).all()
        found = await _with_lines(self.session, rows)
        return next(iter(found.values()), None)

    async def get_by_number(self, number: str) -> Order | None:
        """The order whose number (``RG-0000042``, as the ERP stores it) is ``number``."""
        sequence = sequence_of(number)
        if sequence is None:
            return None
        rows = (await self.session.execute(select(orders).where(orders.c.seq == sequence))).all()
        found = await _with_lines(self.session, rows)
        return next(iter(found.values()), None)

    async def save(self, order: Order) -> None:
        """Write back a loaded order: its header and every line's quantities."""
        values = order_values(order)
        await self.session.execute(
            update(orders)
            .where(orders.c.id == order.id)
            .values(
                status=values["status"],
                updated_at=values["updated_at"],
                history=values["history"],
                applied_references=values["applied_references"],
            )
        )
        await self.session.execute(
            update(lines)
            .where(lines.c.id == bindparam("line_id"))
            .values({name: bindparam(name) for name in LINE_QUANTITIES}),
            [
                {"line_id": line.id, **{name: getattr(line, name) for name in LINE_QUANTITIES}}
                for line in order.lines
            ],
        )

    async def step_request(self, key: str) -> str | None:
        """The fingerprint of the step made under idempotency key ``key``, if one was."""
        found = await self.session.execute(
            select(step_requests.c.fingerprint).where(step_requests.c.idempotency_key == key)
        )
        fingerprint: str | None = found.scalar_one_or_none()
        return fingerprint

    async def remember_step(
        self,
        key: str,
        order_id: str,
        fingerprint: str,
        *,
        correlation_id: str | None,
        at: datetime,
    ) -> None:
        """Record that ``key`` made a step on ``order_id``; StepKeyTaken when a concurrent
        step (of another order: one order's steps are serialised) took the key first."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(step_requests).values(
                        idempotency_key=key,
                        order_id=order_id,
                        fingerprint=fingerprint,
                        correlation_id=correlation_id,
                        created_at=as_utc(at),
                    )
                )
        except IntegrityError as error:
            raise StepKeyTaken(key) from error
