"""How each kind of process is put together from the settings.

The one place that turns ``Settings`` into running parts: where each domain's database
is, the bus and the cache (Redis when configured, else in process), the clock, the ERP and
the domains themselves. Domains get all of it as arguments and read nothing themselves.

- ``retailgraph run``: ``embedded_runtime``; every domain serves and consumes events.
- ``retailgraph subgraph NAME``: ``subgraph_app``; the domain serves and consumes.
- ``retailgraph worker erp``, ``erp status|replay``: ``orders_database``; no bus, no cache.
- ``retailgraph worker stock``, ``sync``, ``reconcile``: ``running_domains``; the domains
  they change publish their events and consume none (that is the serving processes' job).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import redis.asyncio as redis
from opentelemetry.trace import Tracer
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.bus import Bus, InProcessBus, RedisStreamsBus
from adapters.cache.store import MemoryStore, RedisStore, Store
from adapters.db import migrations
from adapters.db.engine import DatabaseLocations
from adapters.db.tracing import trace_statements
from adapters.metrics.exposition import serve_metrics
from adapters.runtime import Runtime
from erp.port import ErpPort
from erp.posting.running import shared_limiter
from erp.posting.worker_settings import WorkerSettings
from erp.rate_limit import RateLimiter
from erp.select import erp_from_settings
from erp.settings import PostingWorkerSettings
from erp.simulator import Faults
from erp.simulator_store import SIMULATOR_FILE, StoredSimulator
from kernel.clock import Clock, SystemClock
from retailgraph.domains import DOMAINS
from retailgraph.kpis import with_kpis
from retailgraph.settings import PricingSettings, Settings

log = logging.getLogger(__name__)


def databases(settings: Settings) -> DatabaseLocations:
    return DatabaseLocations(
        data_dir=settings.database.data_dir,
        shared=settings.database.url,
        per_domain=settings.database.domains,
        pool_size=settings.database.pool_size,
    )


def migrates(settings: Settings, *, by_default: bool) -> bool:
    """Whether a process creates and upgrades tables on start: the setting when set, else
    the process kind's default (on for ``run`` and ``demo``, off elsewhere)."""
    chosen = settings.database.migrate_on_start
    return by_default if chosen is None else chosen


def bus_and_cache(settings: Settings) -> tuple[Bus, Store]:
    """Redis Streams and a Redis cache when Redis is configured, else both in process."""
    if settings.redis.url:
        client = redis.Redis.from_url(settings.redis.url)
        return RedisStreamsBus(client), RedisStore(client)
    return InProcessBus(), MemoryStore()


def runtime(
    settings: Settings,
    *,
    migrate_by_default: bool,
    clock: Clock | None = None,
    peers: dict[str, str] | None = None,
    tracer: Tracer | None = None,
) -> Runtime:
    """The runtime a process gives its domains; ``tracer`` (the process's, when tracing is
    on) traces their requests and SQL statements."""
    bus, cache = bus_and_cache(settings)
    return Runtime(
        databases=databases(settings),
        bus=bus,
        cache=cache,
        migrate_on_start=migrates(settings, by_default=migrate_by_default),
        subgraphs=dict(peers if peers is not None else settings.peers),
        clock=clock or SystemClock(),
        identity_secret=settings.subgraphs.identity_key(),
        tracer=tracer,
        sales=settings.sales.vocabulary(),
        keep_published_events=timedelta(days=settings.database.outbox_keep_days),
    )


def subgraph_app(settings: Settings, name: str, tracer: Tracer | None = None) -> Starlette:
    """``retailgraph subgraph NAME``: one domain as its own service. Its peers are where
    the settings say, else on their default ports."""
    peers = {peer: parts.default_url for peer, parts in DOMAINS.items() if peer != name}
    peers.update(settings.peers)
    served = runtime(settings, migrate_by_default=False, peers=peers, tracer=tracer)
    app = DOMAINS[name].create_app(
        served, owns_runtime=True, **domain_options(settings.pricing, name)
    )
    return with_kpis(app, name, served, settings.pricing)


def domain_options(pricing: PricingSettings, name: str) -> dict[str, Any]:
    """What a domain's ``start`` and ``create_app`` take from the settings, by name."""
    return pricing.domain_options() if name == "pricing" else {}


async def upgrade_databases(settings: Settings) -> AsyncIterator[str]:
    """``retailgraph db upgrade``: every domain's migrations, domain by domain."""
    locations = databases(settings)
    for name, parts in DOMAINS.items():
        engine = locations.engine(name)
        try:
            await migrations.upgrade(engine, name, parts.tables)
        finally:
            await engine.dispose()
        yield name


@contextlib.asynccontextmanager
async def orders_database(
    settings: Settings, tracer: Tracer | None = None
) -> AsyncIterator[AsyncEngine]:
    """The orders database alone (the ERP posting queue lives there); ``tracer`` traces
    its SQL statements."""
    async with domain_database(settings, "orders", tracer) as engine:
        yield engine


@contextlib.asynccontextmanager
async def domain_database(
    settings: Settings, name: str, tracer: Tracer | None = None
) -> AsyncIterator[AsyncEngine]:
    """One domain's database alone (``inventory``'s holds the stock moves owed to the
    ERP); ``tracer`` traces its SQL statements."""
    engine = databases(settings).engine(name)
    if tracer is not None:
        trace_statements(engine, tracer)
    try:
        if migrates(settings, by_default=False):
            await migrations.upgrade(engine, name, DOMAINS[name].tables)
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def running_domains(
    settings: Settings, *names: str, on: Runtime | None = None, tracer: Tracer | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Start ``names`` for a command or a worker (on the runtime the settings make, with
    ``tracer``, or ``on``): their outbox relays publish to the bus, and they consume
    nothing. On the way out, what is still in their outboxes is published, then they stop."""
    started: dict[str, Any] = {}
    one_shot = on or runtime(settings, migrate_by_default=False, tracer=tracer)
    try:
        for name in names:
            started[name] = await DOMAINS[name].start(
                one_shot, **domain_options(settings.pricing, name)
            )
        yield started
    finally:
        for name, domain in reversed(started.items()):
            try:
                await domain.relay.drain()
            except Exception:  # the rows stay in the outbox for the next relay
                log.exception("could not publish the %s outbox before stopping", name)
            await domain.close()
        await one_shot.close()


def worker_metrics(settings: Settings) -> None:
    """A worker's ``/metrics``, on the port the settings give it, if they give one."""
    chosen = settings.metrics
    if chosen.worker_port is not None:
        serve_metrics(chosen.worker_host, chosen.worker_port)


def simulator(settings: Settings, *, clock: Clock) -> StoredSimulator:
    """The simulated ERP of the embedded default, kept in the data folder so that
    ``run``, the workers and every command see one ERP; a new one holds the demo
    retailer's item master, prices and stock."""
    from retailgraph.demo.erp import demo_simulator

    return StoredSimulator(
        settings.database.data_dir / SIMULATOR_FILE,
        clock=clock,
        seed=demo_simulator,
        faults=Faults(latency=settings.erp.simulator_latency),
    )


def erp(settings: Settings, *, clock: Clock) -> ErpPort:
    """The configured ERP, which the posting workers post to and the sync commands read:
    Tryton, or the simulator in the data folder."""
    chosen = simulator(settings, clock=clock) if settings.erp.kind == "simulator" else None
    return erp_from_settings(settings.erp, clock=clock, simulator=chosen)


sync_erp = erp


def posting_worker_settings(settings: Settings, **options: Any) -> WorkerSettings:
    """The posting workers' settings, ``options`` (the command's) over the file's."""
    chosen = PostingWorkerSettings.model_validate({**settings.erp.worker.model_dump(), **options})
    return chosen.worker_settings(settings.erp.reference_prefix)


def erp_rate_limiter(settings: Settings, worker: WorkerSettings) -> RateLimiter:
    """The posting workers' token bucket: shared through Redis when there is Redis."""
    return shared_limiter(worker, settings.redis.url, settings.erp.rate_limit_key)
