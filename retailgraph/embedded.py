"""The embedded default: the whole system in one process.

The four subgraphs run in-process on SQLite with an in-process bus and cache, the demo
retailer is loaded on first start, and the gateway (GraphiQL on ``/graphql``) calls the
subgraphs through in-process ASGI transports. An ERP sync worker posts orders to the
ERP simulator in the same process. Each subgraph is also served on
``/subgraphs/<name>/graphql`` so an operator can inspect it on its own (a subgraph
trusts its caller to have passed the gateway's checks, so no one else reaches it).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as redis
from opentelemetry.trace import Tracer
from pydantic import SecretStr
from starlette.applications import Starlette

from adapters.runtime import Runtime
from erp.port import ErpPort
from erp.posting.running import embedded_worker
from erp.posting.worker_settings import WorkerSettings
from erp.settings import PostingWorkerSettings, ReconcileSettings
from erp.simulator import SimulatedErp
from erp.simulator_store import SIMULATOR_FILE, StoredSimulator
from erp.sync.schedule import reconciling
from erp.sync.stock import StockPoller
from gateway.commands import federated_engine, gateway_app
from gateway.executor import SubgraphOptions
from gateway.security.clients import key_hash
from gateway.server import serve as serve_app
from gateway.settings import GatewaySettings
from retailgraph import wiring
from retailgraph.demo import LOADERS
from retailgraph.demo.erp import post_history
from retailgraph.domains import DOMAINS
from retailgraph.kpis import REFRESH_INTERVAL, kept_for_domains
from retailgraph.observability import RUN_FORMAT, Observed
from retailgraph.readiness import databases_check, redis_check
from retailgraph.settings import PricingSettings, Settings
from retailgraph.supergraph import SCHEMA_PATH
from retailgraph.wiring import runtime as process_runtime

log = logging.getLogger("retailgraph")


def subgraph_apps(runtime: Runtime, pricing: PricingSettings | None = None) -> dict[str, Starlette]:
    """The four apps; each reaches the others in process (checkout calls pricing and
    inventory this way). ``pricing``: the settings the pricing domain runs with."""
    chosen = pricing or PricingSettings()
    apps = {
        name: parts.create_app(runtime, **wiring.domain_options(chosen, name))
        for name, parts in DOMAINS.items()
    }
    runtime.subgraphs.update(apps)
    return apps


@contextlib.asynccontextmanager
async def running_subgraphs(apps: dict[str, Starlette]) -> AsyncIterator[dict[str, Any]]:
    """Run each subgraph's lifespan; yield each started domain by name."""
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield {name: app.state.domain for name, app in apps.items()}


async def load_demo(
    domains: dict[str, Any], on_loaded: Callable[[str], None] | None = None
) -> None:
    """Load the demo retailer, domain by domain; each loader is a no-op once loaded."""
    from retailgraph.demo.catalog import demo_catalog

    catalog = demo_catalog()
    for name in DOMAINS:
        log.info("loading the demo %s", name)
        await LOADERS[name](domains[name], catalog)
        if on_loaded is not None:
            on_loaded(name)


async def load_demo_with_progress(runtime: Runtime) -> None:
    """``retailgraph demo``: the demo retailer into the configured databases, with progress."""
    from rich.progress import Progress

    apps = subgraph_apps(runtime)
    with Progress() as progress:
        task = progress.add_task("Loading the demo retailer", total=len(DOMAINS))

        def loaded(name: str) -> None:
            progress.update(task, advance=1, description=f"Loaded {name}")

        try:
            async with running_subgraphs(apps) as domains:
                await load_demo(domains, loaded)
        finally:
            await runtime.close()


# The demo retailer's clients and their keys (printed at start, shown in the README): a
# web shop that places orders, a store's associate app, a partner, and the operator.
DEMO_KEYS = {
    "storefront": "demo-storefront-key",
    "store-berlin": "demo-store-berlin-key",
    "partner": "demo-partner-key",
    "operator": "demo-operator-key",
}
DEMO_SCOPES = {
    "storefront": ["orders:place"],
    "store-berlin": ["orders:read", "inventory:reserve"],
    "partner": ["orders:place", "orders:read"],
    "operator": ["operator"],
}
# The partner runs the operations of its manifest only, as partners do in production,
# and calls from its own systems, so it gets a rate limit to show one: its answers carry
# the RateLimit fields.
DEMO_PARTNER_MANIFEST = Path(__file__).parent / "demo" / "partner-operations.json"
DEMO_RIGHTS: dict[str, dict[str, Any]] = {
    "store-berlin": {"locations": ["STORE-BERLIN"]},
    "partner": {
        "arbitrary_documents": False,
        "manifests": [str(DEMO_PARTNER_MANIFEST)],
        "rate_limit": {"quota": 600, "window": 60, "max_connections": 10},
    },
}
DEMO_CLIENTS: dict[str, Any] = {
    name: {
        "api_key_hashes": [key_hash(DEMO_KEYS[name])],
        "scopes": scopes,
        **DEMO_RIGHTS.get(name, {}),
    }
    for name, scopes in DEMO_SCOPES.items()
}
# A newcomer exploring the embedded system gets GraphiQL (holding the storefront's key:
# the catalogue and checkout; the README says when to switch to the operator's), query
# plans, introspection and the demo clients.
NEWCOMER: dict[str, Any] = {
    "graphiql": True,
    "graphiql_headers": {"X-API-Key": DEMO_KEYS["storefront"]},
    "expose_query_plans": True,
    "introspection": True,
    "clients": DEMO_CLIENTS,
}


def shared_identity_secret(settings: GatewaySettings, runtime: Runtime) -> GatewaySettings:
    """The gateway and its subgraphs in one process sign and check the caller's identity
    with one secret: the configured one (the gateway's, else the subgraphs'), else one
    made up now, which lives as long as the process (nothing outside it needs to know it).
    ``runtime`` is given it; the settings returned hold it."""
    configured = settings.identity_secret
    if configured is not None:
        secret = configured.get_secret_value()
    elif runtime.identity_secret is not None:
        secret = runtime.identity_secret.decode()
    else:
        secret = secrets.token_hex(32)
    runtime.identity_secret = secret.encode()
    return settings.model_copy(update={"identity_secret": SecretStr(secret)})


def create_app(
    runtime: Runtime,
    *,
    demo: bool = True,
    settings: GatewaySettings | None = None,
    redis_url: str | None = None,
    pricing: PricingSettings | None = None,
    kpi_interval: float = REFRESH_INTERVAL,
    tracer: Tracer | None = None,
    erp: ErpPort | None = None,
    worker: WorkerSettings | None = None,
    reconcile: ReconcileSettings | None = None,
) -> Starlette:
    """The whole system on ``runtime``; the app closes the runtime when it stops. With
    ``redis_url`` (the runtime's bus and cache are there too) the gateway counts its rate
    limits in that Redis. The KPI gauges are read every ``kpi_interval`` seconds.
    ``tracer`` traces the gateway, the ERP worker and the subgraphs (the runtime's, when
    ``runtime.tracer`` is unset).

    Orders are posted to ``erp`` (by default the simulator kept in the runtime's data
    folder, which the commands see too) by one worker with ``worker``'s settings (by
    default production's rate limit). With ``reconcile`` the whole reconciliation runs
    on its schedule; without it, never (tests ask for it)."""
    erp = erp or embedded_simulator(runtime)
    worker = worker or PostingWorkerSettings().worker_settings("")
    if runtime.tracer is None:
        runtime.tracer = tracer
    settings = shared_identity_secret(settings or GatewaySettings.model_validate(NEWCOMER), runtime)
    apps = subgraph_apps(runtime, pricing)
    engine = federated_engine(
        SCHEMA_PATH.read_text(),
        settings,
        {name: SubgraphOptions(app=app) for name, app in apps.items()},
        clock=runtime.clock,
        tracer=tracer,
    )

    started: dict[str, Any] = {}
    checks = [databases_check(started)]
    # Redis holds the bus and the cache: without it the domains cannot work.
    probe_client = None if redis_url is None else redis.from_url(redis_url, socket_timeout=1)
    if probe_client is not None:
        checks.append(redis_check(probe_client))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with running_subgraphs(apps) as domains:
                if demo:
                    await load_demo(domains)
                    # The demo's stock is one snapshot in our inventory and in the ERP
                    # simulator's seed: the ERP's stock-move feed starts there, and the demo
                    # orders, its past, reach the simulator as history (retailgraph.demo.erp).
                    # The feed starts last, so a start cut short does it all again.
                    poller = StockPoller(erp, domains["inventory"])
                    if (await poller.position()).watermark is None:
                        if isinstance(erp, SimulatedErp | StoredSimulator):
                            await post_history(domains["orders"].engine, erp, runtime.clock)
                        await poller.start_at_erp_position()
                app.state.domains = domains
                started.update(domains)
                # Orders, and the movements a WMS sends, reach the ERP simulator as they
                # would reach a real ERP.
                async with (
                    embedded_worker(
                        domains["orders"].engine,
                        erp,
                        worker,
                        runtime.clock,
                        tracer,
                        movements=domains["inventory"].engine,
                    ),
                    kept_for_domains(
                        runtime, domains, pricing or PricingSettings(), interval=kpi_interval
                    ),
                    contextlib.AsyncExitStack() as scheduled,
                ):
                    if reconcile is not None:
                        await scheduled.enter_async_context(
                            reconciling(
                                erp,
                                domains["inventory"],
                                reconcile,
                                orders=domains["orders"].engine,
                                reference_prefix=worker.reference_prefix,
                            )
                        )
                    app.state.erp = erp
                    yield
        finally:
            started.clear()
            await erp.close()
            if probe_client is not None:
                await probe_client.aclose()
            await runtime.close()

    return gateway_app(
        engine,
        settings,
        clock=runtime.clock,
        redis_url=redis_url,
        lifespan=lifespan,
        readiness_checks=checks,
        operator_mounts={f"/subgraphs/{name}": app for name, app in apps.items()},
        tracer=tracer,
    )


def embedded_simulator(runtime: Runtime) -> ErpPort:
    """The simulator kept in the runtime's data folder (a new one holds the demo
    retailer), or one in memory when there is no data folder."""
    from retailgraph.demo.erp import demo_simulator

    folder = runtime.databases.data_dir
    if folder is None:
        return SimulatedErp(clock=runtime.clock)
    return StoredSimulator(folder / SIMULATOR_FILE, clock=runtime.clock, seed=demo_simulator)


def serve(*, host: str, port: int, demo: bool, settings: Settings) -> None:
    tracer = Observed.of(settings, "run", RUN_FORMAT)()
    log.info("RetailGraph on http://%s:%d/graphql (GraphiQL in a browser)", host, port)
    for name, key in DEMO_KEYS.items():
        if name in settings.gateway.clients:
            log.info("demo client %s: X-API-Key: %s", name, key)
    runtime = process_runtime(settings, migrate_by_default=True, tracer=tracer)
    serve_app(
        create_app(
            runtime,
            demo=demo,
            settings=settings.gateway,
            redis_url=settings.redis.url,
            pricing=settings.pricing,
            tracer=tracer,
            erp=wiring.erp(settings, clock=runtime.clock),
            worker=wiring.posting_worker_settings(settings),
            reconcile=settings.erp.reconcile if settings.erp.reconcile.in_run else None,
        ),
        host=host,
        port=port,
        max_message_bytes=settings.gateway.limits.max_body_bytes,
        logging_configured=True,
    )
