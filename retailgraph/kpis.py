"""Which business KPIs each process keeps, and where it serves them.

The process that owns the data refreshes its gauges (``adapters.metrics.gauges``):
every serving domain its outbox depth and its consumers' event lag; the process that
holds the orders database (the orders subgraph, ``retailgraph run``, the ERP worker)
also the ERP backlog, its age and the dead letters; the one that holds inventory's, the
divergence of the newest reconciliation; the one that holds pricing's, price parity.
Counters count in whichever process
the thing happens in. All of it is in ``prometheus_client.REGISTRY``: the gateway serves
it on its ``/metrics``; a subgraph process on its own ``/metrics``; a worker on
``[metrics] worker_port``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.metrics.gauges import Probe, refreshing
from adapters.metrics.probes import lag_probe, outbox_probe
from adapters.runtime import DomainBase, Runtime
from domains.inventory.kpis import divergence_probe
from domains.pricing.kpis import parity_probe
from erp.posting.kpis import backlog_probe
from kernel.clock import Clock
from retailgraph.settings import PricingSettings

# Seconds between two reads of the gauges: a scrape (every 15 s or more) always finds
# values at most this old, and the reads cost a few indexed counts per interval.
REFRESH_INTERVAL = 5.0


def domain_probes(
    runtime: Runtime, domains: Mapping[str, DomainBase], pricing: PricingSettings
) -> dict[str, Probe]:
    probes = {"outbox": outbox_probe(domains), "event_lag": lag_probe(runtime.event_lag)}
    if "orders" in domains:
        probes["erp_backlog"] = backlog_probe(domains["orders"].engine, runtime.clock)
    if "inventory" in domains:
        probes["inventory_divergence"] = divergence_probe(domains["inventory"].engine)
    if "pricing" in domains:
        probes["price_parity"] = parity_probe(
            domains["pricing"].engine,
            pricing.parity_channels,
            runtime.sales.currencies,
            runtime.clock,
        )
    return probes


def kept_for_domains(
    runtime: Runtime,
    domains: Mapping[str, DomainBase],
    pricing: PricingSettings,
    *,
    interval: float = REFRESH_INTERVAL,
) -> contextlib.AbstractAsyncContextManager[None]:
    """The gauges of the domains this process serves, fresh while the block runs."""
    return refreshing(domain_probes(runtime, domains, pricing), interval=interval)


def kept_for_erp_queue(
    engine: AsyncEngine, clock: Clock, *, interval: float = REFRESH_INTERVAL
) -> contextlib.AbstractAsyncContextManager[None]:
    """The ERP worker's gauges: the backlog of the queue it drains."""
    return refreshing({"erp_backlog": backlog_probe(engine, clock)}, interval=interval)


def with_kpis(app: Starlette, name: str, runtime: Runtime, pricing: PricingSettings) -> Starlette:
    """A domain's subgraph app (``retailgraph subgraph NAME``) keeping its gauges for its
    lifespan (the app serves them on its ``/metrics``)."""
    started: Callable[[Starlette], contextlib.AbstractAsyncContextManager[Any]]
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(served: Starlette) -> AsyncIterator[None]:
        # The domain's own lifespan puts it on the app's state: read it once that has run.
        async with started(served):
            domains = {name: served.state.domain}
            async with kept_for_domains(runtime, domains, pricing):
                yield

    app.router.lifespan_context = lifespan
    return app
