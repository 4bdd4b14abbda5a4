"""The ERP posting queue's worker side in SQL: postings claimed under a lease.

Claiming is what lets several worker processes share one queue without posting twice:
on PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED`` and marked
IN_PROGRESS under a lease in the same transaction; on SQLite ``BEGIN IMMEDIATE`` makes the
whole claim one writer's. Only the first unposted posting of an order can be claimed, so
an order's documents reach the ERP one at a time and in order, and no two workers ever
hold the same order. Finishing a posting checks that the worker still holds the lease, so
a worker that lost it (it stalled past the expiry) cannot overwrite a newer outcome.

Two queues work this way (``PostingQueue``): the orders' documents (sales, cancellations,
returns; one order at a time) and inventory's stock moves for movements the ERP has not
seen (one SKU at a time). Each lives in its own domain's database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from adapters.db.engine import is_sqlite
from domains.inventory import erp_postings as movement_postings
from domains.inventory.tables import erp_postings as movement_table
from domains.orders.erp_postings import Posting, PostingKind, PostingStatus, posting_from_row
from domains.orders.tables import erp_postings
from erp.posting.retry import Outcome
from kernel.clock import as_utc


class Claimed(Protocol):
    @property
    def seq(self) -> int: ...


P = TypeVar("P", bound=Claimed)


@dataclass(frozen=True, slots=True)
class PostingQueue(Generic[P]):
    """One queue's table, the column whose postings reach the ERP one at a time and in
    order, and how a row reads."""

    table: Table
    group: str
    read: Callable[[Any], P]


ORDERS: PostingQueue[Posting] = PostingQueue(erp_postings, "order_id", posting_from_row)
MOVEMENTS: PostingQueue[movement_postings.MovementPosting] = PostingQueue(
    movement_table, "sku", movement_postings.posting_from_row
)

_OPEN = (PostingStatus.PENDING.value, PostingStatus.IN_PROGRESS.value)


# The reason postings waiting on an open breaker show (``defer_due``).
HELD_BY_OUTAGE = "The ERP is unreachable; posting resumes when it answers again"


async def claim(
    engine: AsyncEngine,
    owner: str,
    *,
    limit: int,
    lease: timedelta,
    now: datetime,
    queue: PostingQueue[P] = ORDERS,  # type: ignore[assignment]
) -> list[P]:
    """Takes up to ``limit`` due postings, at most one per order, under ``owner``'s lease.

    A claim counts as an attempt, so a worker that dies mid-post still brings the
    posting closer to its dead-letter limit instead of retrying it for ever.
    """
    # Leases that ran out first (their worker died or stalled mid-post; there are at most
    # a few), then due pending postings, oldest first. Kept as two statements so that each
    # walks the (status, next_attempt_at) index and stops at ``limit``, however long the
    # backlog.
    table = queue.table
    stale = table.c.status == PostingStatus.IN_PROGRESS.value
    expired = and_(stale, table.c.lease_expires_at < now)
    claimed = await _claim(engine, owner, expired, limit=limit, lease=lease, now=now, queue=queue)
    if len(claimed) < limit:
        due = and_(
            table.c.status == PostingStatus.PENDING.value,
            table.c.next_attempt_at <= now,
        )
        claimed += await _claim(
            engine, owner, due, limit=limit - len(claimed), lease=lease, now=now, queue=queue
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
    queue: PostingQueue[P],
) -> list[P]:
    table = queue.table
    earlier = aliased(table)
    blocked_by_earlier = exists().where(
        earlier.c[queue.group] == table.c[queue.group],
        earlier.c.seq < table.c.seq,
        earlier.c.status != PostingStatus.POSTED.value,
    )
    due = (
        select(table.c.seq)
        .where(condition, ~blocked_by_earlier)
        # The index's order alone, so the scan stops at ``limit`` (a tie-break on seq
        # would sort the whole backlog); an order's own documents are kept in order by
        # ``blocked_by_earlier``, not by this.
        .order_by(table.c.next_attempt_at)
        .limit(limit)
    )
    if not is_sqlite(engine):
        due = due.with_for_update(skip_locked=True, of=table)
    # One statement: the rows are locked, leased and handed back together.
    claim_due = (
        update(table)
        .where(table.c.seq.in_(due.scalar_subquery()))
        .values(
            status=PostingStatus.IN_PROGRESS.value,
            attempts=table.c.attempts + 1,
            lease_owner=owner,
            lease_expires_at=now + lease,
        )
        .returning(*table.c)
    )
    async with engine.begin() as conn:
        rows = (await conn.execute(claim_due)).all()
    return [queue.read(row) for row in sorted(rows, key=lambda r: (r.next_attempt_at, r.seq))]


async def mark_posted(
    engine: AsyncEngine,
    posting: Claimed,
    owner: str,
    document_id: str,
    now: datetime,
    queue: PostingQueue[Any] = ORDERS,
) -> bool:
    """Records the ERP's document; False when the lease was lost (nothing is written)."""
    return await _finish(
        engine,
        posting,
        owner,
        queue,
        status=PostingStatus.POSTED.value,
        erp_document_id=document_id,
        posted_at=now,
        last_error=None,
    )


async def mark_failed(
    engine: AsyncEngine,
    posting: Claimed,
    owner: str,
    outcome: Outcome,
    queue: PostingQueue[Any] = ORDERS,
) -> bool:
    values: dict[str, Any] = {"status": outcome.status.value, "last_error": outcome.last_error}
    if outcome.next_attempt_at is not None:
        values["next_attempt_at"] = outcome.next_attempt_at
    if not outcome.charged:
        values["attempts"] = queue.table.c.attempts - 1
    return await _finish(engine, posting, owner, queue, **values)


async def _finish(
    engine: AsyncEngine, posting: Claimed, owner: str, queue: PostingQueue[Any], **values: Any
) -> bool:
    table = queue.table
    async with engine.begin() as conn:
        result = await conn.execute(
            update(table)
            .where(
                table.c.seq == posting.seq,
                table.c.lease_owner == owner,
                table.c.status == PostingStatus.IN_PROGRESS.value,
            )
            .values(lease_owner=None, lease_expires_at=None, **values)
        )
    return bool(result.rowcount)


async def unposted_returns(engine: AsyncEngine) -> dict[tuple[str, str], int]:
    """The units per (sku, location) that received returns took back into our stock and
    whose return documents the ERP has not received yet (dead letters included)."""
    units: dict[tuple[str, str], int] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(erp_postings.c.payload).where(
                erp_postings.c.kind == PostingKind.RETURN.value,
                erp_postings.c.status.in_([*_OPEN, PostingStatus.DEAD_LETTERED.value]),
            )
        )
        for (payload,) in rows.all():
            for line in payload["lines"]:
                pair = (line["sku"], payload["location"])
                units[pair] = units.get(pair, 0) + int(line["quantity"])
    return units


# -- operators ------------------------------------------------------------------------------


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
    return [posting_from_row(row) for row in rows]


async def defer_due(
    engine: AsyncEngine,
    error: str,
    *,
    now: datetime,
    limit: int,
    queue: PostingQueue[Any] = ORDERS,
) -> int:
    """Postings due by ``now`` show ``error`` as the reason they wait: what the orders
    show while the ERP is known to be down and nothing is being claimed. Their place in
    the queue (``next_attempt_at``, oldest first) and their attempts are untouched, so the
    breaker's probe and the workers whose breakers are closed take them in order; a row
    already showing ``error`` is not written again. Returns how many were marked."""
    table = queue.table
    due = (
        select(table.c.seq)
        .where(
            table.c.status == PostingStatus.PENDING.value,
            table.c.next_attempt_at <= now,
            or_(table.c.last_error.is_(None), table.c.last_error != error),
        )
        .order_by(table.c.next_attempt_at)
        .limit(limit)
    )
    if not is_sqlite(engine):
        # A row another worker is claiming right now is its business: skip it.
        due = due.with_for_update(skip_locked=True, of=table)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(table)
            .where(
                table.c.seq.in_(due.scalar_subquery()),
                table.c.status == PostingStatus.PENDING.value,
            )
            .values(last_error=error)
        )
    return int(result.rowcount)
