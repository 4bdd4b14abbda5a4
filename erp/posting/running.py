"""Running ERP sync workers: as their own process, or beside the embedded system."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine

from erp.port import ErpPort
from erp.posting.worker import ErpSyncWorker
from erp.posting.worker_settings import WorkerSettings
from erp.rate_limit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from kernel.clock import Clock


def shared_limiter(settings: WorkerSettings, redis_url: str | None, key: str) -> RateLimiter:
    """One bucket in Redis (at ``key``) for every worker process when there is Redis, else
    one per process."""
    if not redis_url:
        return LocalRateLimiter(rate=settings.rate, capacity=settings.burst)
    import redis.asyncio as redis

    client = redis.Redis.from_url(redis_url)
    return RedisRateLimiter(client, key=key, rate=settings.rate, capacity=settings.burst)


@contextlib.asynccontextmanager
async def running_workers(
    engine: AsyncEngine,
    erp: ErpPort,
    settings: WorkerSettings,
    *,
    clock: Clock,
    count: int = 1,
    limiter: RateLimiter | None = None,
    tracer: Tracer | None = None,
    movements: AsyncEngine | None = None,
) -> AsyncIterator[list[ErpSyncWorker]]:
    """``count`` workers posting until the block ends (their batches in flight finish);
    ``tracer`` makes a span of each post. With ``movements`` (inventory's database) they
    post the stock moves owed for movements the ERP has not seen as well."""
    limiter = limiter or LocalRateLimiter(rate=settings.rate, capacity=settings.burst)
    workers = [
        ErpSyncWorker(
            engine,
            erp,
            settings=settings,
            limiter=limiter,
            clock=clock,
            tracer=tracer,
            movements=movements,
        )
        for _ in range(count)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:
        yield workers
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def embedded_worker(
    engine: AsyncEngine,
    erp: ErpPort,
    settings: WorkerSettings,
    clock: Clock,
    tracer: Tracer | None = None,
    movements: AsyncEngine | None = None,
) -> AsyncIterator[ErpPort]:
    """The embedded default: one worker in-process, posting to ``erp`` (the simulator)
    at the rate a real ERP would be given, so an outage's backlog drains as it would
    in production rather than in one burst."""
    async with running_workers(
        engine, erp, settings, clock=clock, tracer=tracer, movements=movements
    ):
        yield erp


async def serve_workers(
    engine: AsyncEngine,
    erp: ErpPort,
    settings: WorkerSettings,
    *,
    count: int,
    clock: Clock,
    limiter: RateLimiter,
    tracer: Tracer | None = None,
    movements: AsyncEngine | None = None,
) -> None:
    """``retailgraph worker erp``: post until SIGTERM or SIGINT."""
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        async with running_workers(
            engine,
            erp,
            settings,
            clock=clock,
            count=count,
            limiter=limiter,
            tracer=tracer,
            movements=movements,
        ):
            await stopped.wait()
    finally:
        await erp.close()
        if isinstance(limiter, RedisRateLimiter):
            await limiter.close()
