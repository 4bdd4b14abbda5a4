"""The ERP posting queue's KPI gauges: the backlog, its age and the dead letters.

One grouped read over the rows that are not posted (the console's ``erpQueue`` reads the
same, ``domains.orders.erp_queue.queue_state``): it walks the (status,
next_attempt_at) index, so it costs the size of the backlog, never of the history of
posted documents, and PostgreSQL cancels it past its statement timeout. A kind with nothing
waiting reads 0, so a drained backlog shows as zero rather than as a missing series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import bounded_read
from adapters.metrics.gauges import Probe, Reading
from domains.orders.erp_queue import queue_state
from kernel.clock import Clock


async def read_backlog(
    engine: AsyncEngine, now: datetime, *, statement_timeout: float
) -> list[Reading]:
    async with bounded_read(engine, statement_timeout=statement_timeout) as conn:
        state = await queue_state(conn)
    oldest = state.oldest_waiting
    age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return [
        *(
            Reading("retailgraph_erp_backlog", c.pending + c.in_progress, (("kind", c.kind.value),))
            for c in state.by_kind
        ),
        Reading("retailgraph_erp_backlog_oldest_seconds", age),
        *(
            Reading("retailgraph_erp_dead_letters", c.dead_lettered, (("kind", c.kind.value),))
            for c in state.by_kind
        ),
    ]


def backlog_probe(engine: AsyncEngine, clock: Clock, *, timeout: float = 2.0) -> Probe:
    """The probe a process owning the orders database refreshes."""

    async def probe() -> Sequence[Reading]:
        return await read_backlog(engine, clock.now(), statement_timeout=timeout)

    return probe
