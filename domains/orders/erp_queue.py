"""The ERP posting queue in SQL: enqueued with the order change, claimed under a lease.

Claiming is what lets several worker processes share one queue without posting twice:
on PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED`` and marked
IN_PROGRESS under a lease in the same transaction; on SQLite ``BEGIN IMMEDIATE`` makes the
whole claim one writer's. Only the first unposted posting of an order can be claimed, so
an order's documents reach the ERP one at a time and in order, and no two workers ever
hold the same order. Finishing a posting checks that the worker still holds the lease, so
a worker that lost it (it stalled past the expiry) cannot overwrite a newer outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from adapters.db.engine import is_sqlite
from domains.common.clock import as_utc
from domains.common.events import Event
from domains.orders.erp_posting_rules import (
    Outcome,
    PostingKind,
    PostingStatus,
    postings_for,
)
from domains.orders.tables import erp_postings, lines, orders

ERP_EVENTS = ("OrderCreated", "OrderLinesCancelled", "OrderReturnReceived")
_OPEN = (PostingStatus.PENDING.value, PostingStatus.IN_PROGRESS.value)


@dataclass(frozen=True, slots=True)
class Posting:
    seq: int
    order_id: str
    kind: PostingKind
    reference: str
    payload: dict[str, Any]
    status: PostingStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    erp_document_id: str | None
    posted_at: datetime | None
    correlation_id: str | None
    created_at: datetime


def _posting(row: Any) -> Posting:
    return Posting(
        seq=row.seq,
        order_id=row.order_id,
        kind=PostingKind(row.kind),
        reference=row.reference,
        payload=row.payload,
        status=PostingStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=as_utc(row.next_attempt_at),
        erp_document_id=row.erp_document_id,
        posted_at=None if row.posted_at is None else as_utc(row.posted_at),
        correlation_id=row.correlation_id,
        created_at=as_utc(row.created_at),
    )


# -- writing, inside the order's transaction ------------------------------------------


async def enqueue(session: AsyncSession, events: Sequence[Event], now: datetime) -> None:
    """Adds the postings that ``events`` call for to the caller's transaction."""
    relevant = [event for event in events if event.type in ERP_EVENTS]
    if not relevant:
        return
    order_ids = list({event.payload["orderId"] for event in relevant})
    counted = await session.execute(
        select(erp_postings.c.order_id, erp_postings.c.kind, func.count())
        .where(erp_postings.c.order_id.in_(order_ids))
        .group_by(erp_postings.c.order_id, erp_postings.c.kind)
    )
    earlier = {(row[0], PostingKind(row[1])): row[2] for row in counted.all()}
    paid: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}
    if any(event.type == "OrderReturnReceived" for event in relevant):
        prices = await session.execute(
            select(lines.c.id, lines.c.promotional_unit_price).where(
                lines.c.order_id.in_(order_ids)
            )
        )
        paid = {row.id: str(row.promotional_unit_price) for row in prices.all()}
        found = await session.execute(
            select(orders.c.id, orders.c.currency, orders.c.customer_reference).where(
                orders.c.id.in_(order_ids)
            )
        )
        headers = {
            row.id: {"currency": row.currency, "customerReference": row.customer_reference}
            for row in found.all()
        }
    postings = postings_for(relevant, earlier=earlier, paid_prices=paid, headers=headers)
    await session.execute(
        insert(erp_postings),
        [
            {
                "order_id": posting.order_id,
                "kind": posting.kind.value,
                "reference": posting.reference,
                "payload": posting.payload,
                "status": PostingStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "correlation_id": posting.correlation_id,
                "created_at": now,
            }
            for posting in postings
        ],
    )


# -- the worker's side ------------------------------------------------------------------


async def claim(
    engine: AsyncEngine, owner: str, *, limit: int, lease: timedelta, now: datetime
) -> list[Posting]:
    """Takes up to ``limit`` due postings, at most one per order, under ``owner``'s lease.

    A claim counts as an attempt, so a worker that dies mid-post still brings the
    posting closer to its dead-letter limit instead of retrying it for ever.
    """
    # Leases that ran out first (their worker died or stalled mid-post; there are at most
    # a few), then due pending postings, oldest first. Kept as two statements so that each
    # walks the (status, next_attempt_at) index and stops at ``limit``, however long the
    # backlog.
    stale = erp_postings.c.status == PostingStatus.IN_PROGRESS.value
    expired = and_(stale, erp_postings.c.lease_expires_at < now)
    claimed = await _claim(engine, owner, expired, limit=limit, lease=lease, now=now)
    if len(claimed) < limit:
        due = and_(
            erp_postings.c.status == PostingStatus.PENDING.value,
            erp_postings.c.next_attempt_at <= now,
        )
        claimed += await _claim(
            engine, owner, due, limit=limit - len(claimed), lease=lease, now=now
        )
    return claimed


async def _claim(
    engine: AsyncEngine,
    owner: str,
    condition: Any,
    *,
    limit: int,
    lease: timedelta,
    now: datetime,
) -> list[Posting]:
    earlier = aliased(erp_postings)
    blocked_by_earlier = exists().where(
        earlier.c.order_id == erp_postings.c.order_id,
        earlier.c.seq < erp_postings.c.seq,
        earlier.c.status != PostingStatus.POSTED.value,
    )
    due = (
        select(erp_postings.c.seq)
        .where(condition, ~blocked_by_earlier)
        # The index's order alone, so the scan stops at ``limit`` (a tie-break on seq
        # would sort the whole backlog); an order's own documents are kept in order by
        # ``blocked_by_earlier``, not by this.
        .order_by(erp_postings.c.next_attempt_at)
        .limit(limit)
    )
    if not is_sqlite(engine):
        due = due.with_for_update(skip_locked=True, of=erp_postings)
    # One statement: the rows are locked, leased and handed back together.
    claim_due = (
        update(erp_postings)
        .where(erp_postings.c.seq.in_(due.scalar_subquery()))
        .values(
            status=PostingStatus.IN_PROGRESS.value,
            attempts=erp_postings.c.attempts + 1,
            lease_owner=owner,
            lease_expires_at=now + lease,
        )
        .returning(*erp_postings.c)
    )
    async with engine.begin() as conn:
        rows = (await conn.execute(claim_due)).all()
    return sorted((_posting(row) for row in rows), key=lambda p: (p.next_attempt_at, p.seq))


async def mark_posted(
    engine: AsyncEngine, posting: Posting, owner: str, document_id: str, now: datetime
) -> bool:
    """Records the ERP's document; False when the lease was lost (nothing is written)."""
    return await _finish(
        engine,
        posting,
        owner,
        status=PostingStatus.POSTED.value,
        erp_document_id=document_id,
        posted_at=now,
        last_error=None,
    )


async def mark_failed(engine: AsyncEngine, posting: Posting, owner: str, outcome: Outcome) -> bool:
    values: dict[str, Any] = {"status": outcome.status.value, "last_error": outcome.last_error}
    if outcome.next_attempt_at is not None:
        values["next_attempt_at"] = outcome.next_attempt_at
    if not outcome.charged:
        values["attempts"] = erp_postings.c.attempts - 1
    return await _finish(engine, posting, owner, **values)


async def _finish(engine: AsyncEngine, posting: Posting, owner: str, **values: Any) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(
            update(erp_postings)
            .where(
                erp_postings.c.seq == posting.seq,
                erp_postings.c.lease_owner == owner,
                erp_postings.c.status == PostingStatus.IN_PROGRESS.value,
            )
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
    return bool(result.rowcount)


# -- operators ------------------------------------------------------------------------------


async def replay(engine: AsyncEngine, *, now: datetime, order_id: str | None = None) -> int:
    """Dead-lettered postings (of one order, or all) back to PENDING with fresh attempts.

    Safe to repeat: a posting that is not dead-lettered is left alone, and the worker
    finds an ERP document by its reference before creating one.
    """
    where = [erp_postings.c.status == PostingStatus.DEAD_LETTERED.value]
    if order_id is not None:
        where.append(erp_postings.c.order_id == order_id)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(erp_postings)
            .where(*where)
            .values(
                status=PostingStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
            )
        )
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Backlog:
    """The operators' KPI: what the ERP still has to receive, and for how long."""

    pending: int
    in_progress: int
    dead_lettered: int
    oldest_created_at: datetime | None

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_created_at is None else now - self.oldest_created_at


async def backlog(engine: AsyncEngine) -> Backlog:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(erp_postings.c.status, func.count(), func.min(erp_postings.c.created_at))
                .where(erp_postings.c.status != PostingStatus.POSTED.value)
                .group_by(erp_postings.c.status)
            )
        ).all()
    counts = {row[0]: row[1] for row in rows}
    oldest = [as_utc(row[2]) for row in rows if row[0] in _OPEN and row[2] is not None]
    return Backlog(
        pending=counts.get(PostingStatus.PENDING.value, 0),
        in_progress=counts.get(PostingStatus.IN_PROGRESS.value, 0),
        dead_lettered=counts.get(PostingStatus.DEAD_LETTERED.value, 0),
        oldest_created_at=min(oldest, default=None),
    )


async def dead_letters(engine: AsyncEngine, limit: int = 50) -> list[Posting]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(erp_postings)
                .where(erp_postings.c.status == PostingStatus.DEAD_LETTERED.value)
                .order_by(erp_postings.c.seq)
                .limit(limit)
            )
        ).all()
    return [_posting(row) for row in rows]


async def postings_by_order(
    conn: AsyncConnection, order_ids: Iterable[str]
) -> dict[str, list[Posting]]:
    """Every posting of each order, oldest first, in one statement."""
    found: dict[str, list[Posting]] = defaultdict(list)
    ids = list(order_ids)
    if not ids:
        return found
    rows = await conn.execute(
        select(erp_postings)
        .where(erp_postings.c.order_id.in_(ids))
        .order_by(erp_postings.c.order_id, erp_postings.c.seq)
    )
    for row in rows.all():
        found[row.order_id].append(_posting(row))
    return found
