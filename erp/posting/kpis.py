"""The ERP posting queue's KPI gauges: the backlog, its age and the dead letters.

One grouped read over the rows that are not posted: it walks the (status,
next_attempt_at) index, so it costs the size of the backlog, never of the history of
posted documents, and PostgreSQL cancels it past its statement timeout. A kind with nothing
waiting reads 0, so a drained backlog shows as zero rather than as a missing series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import bounded_read
from adapters.metrics.gauges import Probe, Reading
from domains.orders.erp_postings import PostingKind, PostingStatus
from domains.orders.tables import erp_postings
from kernel.clock import Clock, as_utc

_OPEN = (PostingStatus.PENDING.value, PostingStatus.IN_PROGRESS.value)
_WAITING = (*_OPEN, PostingStatus.DEAD_LETTERED.value)


async def read_backlog(
    engine: AsyncEngine, now: datetime, *, statement_timeout: float
) -> list[Reading]:
    async with bounded_read(engine, statement_timeout=statement_timeout) as conn:
        rows = (
            await conn.execute(
                select(
                    erp_postings.c.kind,
                    erp_postings.c.status,
                    func.count(),
                    func.min(erp_postings.c.created_at),
                )
                .where(erp_postings.c.status.in_(_WAITING))
                .group_by(erp_postings.c.kind, erp_postings.c.status)
            )
        ).all()
    backlog = dict.fromkeys((kind.value for kind in PostingKind), 0)
    dead = dict(backlog)
    oldest: datetime | None = None
    for kind, status, count, created_at in rows:
        if status in _OPEN:
            backlog[kind] = backlog.get(kind, 0) + count
            if created_at is not None:
                created = as_utc(created_at)
                oldest = created if oldest is None else min(oldest, created)
        else:
            dead[kind] = dead.get(kind, 0) + count
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return [
        *(Reading("retailgraph_erp_backlog", n, (("kind", k),)) for k, n in backlog.items()),
        Reading("retailgraph_erp_backlog_oldest_seconds", age),
        *(Reading("retailgraph_erp_dead_letters", n, (("kind", k),)) for k, n in dead.items()),
    ]


def backlog_probe(engine: AsyncEngine, clock: Clock, *, timeout: float = 2.0) -> Probe:
    """The probe a process owning the orders database refreshes."""

    async def probe() -> Sequence[Reading]:
        return await read_backlog(engine, clock.now(), statement_timeout=timeout)

    return probe
