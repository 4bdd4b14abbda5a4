"""Driving ERP sync workers to the end of a backlog, quickly and without real waits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domains.orders import erp_postings
from erp.port import ErpPort
from erp.posting import queue
from erp.posting.retry import RetryPolicy
from erp.posting.worker import ErpSyncWorker
from erp.posting.worker_settings import WorkerSettings
from erp.rate_limit import LocalRateLimiter
from tests.support import suite_clock

FAST = WorkerSettings(
    concurrency=4,
    poll_interval=0.01,
    lease=30.0,
    post_timeout=15.0,
    retry=RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=5),
    breaker_threshold=3,
    breaker_reset=0.05,
    rate=10_000,
    burst=10_000,
)


def fast_worker(engine: AsyncEngine, erp: ErpPort, **overrides: Any) -> ErpSyncWorker:
    settings = overrides.pop("settings", FAST)
    overrides.setdefault("clock", suite_clock())
    return ErpSyncWorker(
        engine,
        erp,
        settings=settings,
        limiter=LocalRateLimiter(rate=settings.rate, capacity=settings.burst),
        **overrides,
    )


async def drain(engine: AsyncEngine, *workers: ErpSyncWorker, within: float = 90.0) -> None:
    """Runs the workers side by side until nothing is pending or in progress."""
    deadline = time.monotonic() + within
    while True:
        backlog = await queue.backlog(engine)
        if backlog.pending + backlog.in_progress == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the ERP backlog did not drain: {backlog}")
        tried = await asyncio.gather(*(worker.run_once() for worker in workers))
        if not any(tried):
            await asyncio.sleep(0.01)  # backoff or an open breaker: let time pass


async def postings(engine: AsyncEngine, order_id: str) -> list[erp_postings.Posting]:
    async with engine.connect() as conn:
        found = await erp_postings.postings_by_order(conn, [order_id])
    return found.get(order_id, [])
