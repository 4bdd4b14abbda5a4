"""What ``retailgraph gateway`` and ``retailgraph compose`` do, apart from option parsing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry.trace import Tracer
from rich.console import Console
from starlette.applications import Starlette

from gateway.app import Lifespan, create_app
from gateway.console.app import OperatorConsole
from gateway.console.history import KpiHistory
from gateway.console.kpis import KpiSource, RegistrySource, ScrapeSource
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.http.health import ReadinessCheck
from gateway.http.metrics import multiprocess_folder
from gateway.security.clients import ANONYMOUS, Client, ClientDirectory
from gateway.security.clock import Clock
from gateway.security.documents import ApqStore, MemoryApqStore, RedisApqStore
from gateway.security.identity import IdentitySigner
from gateway.security.jwt import JwksVerifier
from gateway.security.persisted import ManifestsRefused, PersistedDocuments, client_manifests
from gateway.security.quotas import local_quotas, shared_quotas
from gateway.server import serve, tune_garbage_collector
from gateway.settings import GatewaySettings
from gateway.shared_redis import shared_redis

if TYPE_CHECKING:
    import redis.asyncio as redis

log = logging.getLogger("gateway")

# What a gateway process runs first: it sets up the process's logging and returns its
# tracer (None: tracing is off). Called again in each worker process, so it is pickled.
ProcessSetup = Callable[[], Tracer | None]


class CommandError(Exception):
    """A user error: printed as one line, exit status 1, no traceback."""


def parse_subgraph_urls(values: Sequence[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values:
        name, separator, url = value.partition("=")
        if not separator or not name.strip() or not url.strip():
            raise CommandError(f"expected NAME=URL, got {value!r}")
        urls[name.strip()] = url.strip()
    return urls


def federated_engine(
    sdl: str,
    settings: GatewaySettings,
    subgraphs: Mapping[str, SubgraphOptions],
    *,
    clock: Clock,
    tracer: Tracer | None = None,
) -> FederatedEngine:
    """The engine as ``settings`` say (limits, demand control, introspection, timeouts,
    the secret the caller's identity is signed with for the subgraphs, metrics), tracing
    its subgraph fetches with ``tracer``."""
    secret = settings.identity_secret
    if secret is None:
        log.warning(
            "no [gateway] identity_secret: the subgraphs will see every request as anonymous"
        )
    return FederatedEngine(
        sdl,
        subgraphs=subgraphs,
        default_timeout=settings.subgraph_timeout,
        introspection=settings.introspection,
        limits=settings.limits.operation_limits(),
        cost=settings.cost.cost_limits(),
        proxies=settings.proxy.proxies(),
        unauthorized=settings.authorization.unauthorized,
        metrics=settings.metrics.gateway_metrics(),
        tracer=tracer,
        deduplicate=settings.deduplicate_fetches,
        identity=None
        if secret is None
        else IdentitySigner(secret.get_secret_value().encode(), clock),
    )


def configured_clients(settings: GatewaySettings) -> list[Client]:
    """Every client ``settings`` name, and the anonymous one."""
    clients = [client.client(name) for name, client in settings.clients.items()]
    clients.append(settings.anonymous.client(ANONYMOUS))
    return clients


def client_directory(settings: GatewaySettings, clock: Clock) -> ClientDirectory:
    """The clients ``settings`` configure, and the identity provider whose tokens name them."""
    provider = settings.identity_provider
    return ClientDirectory(
        [client.client(name) for name, client in settings.clients.items()],
        anonymous=settings.anonymous.client(ANONYMOUS) if settings.anonymous.enabled else None,
        tokens=None
        if provider is None
        else JwksVerifier(
            provider.jwt_settings(),
            clock=clock,
            proxy=settings.proxy.proxies().for_url(provider.jwks_url),
        ),
        client_claim="azp" if provider is None else provider.client_claim,
    )


def persisted_documents(
    engine: FederatedEngine, settings: GatewaySettings, shared: redis.Redis | None = None
) -> PersistedDocuments:
    """Every client's manifests, checked against the engine's supergraph, and the APQ
    store (in ``shared`` Redis, for every replica, when there is one); raises
    ``CommandError`` naming each client and operation the schema breaks."""
    try:
        manifests = client_manifests(configured_clients(settings), engine.supergraph.api_schema)
    except ManifestsRefused as refused:
        raise CommandError(
            "the clients' persisted documents do not run against the supergraph: "
            + "; ".join(refused.problems)
        ) from None
    apq = settings.apq
    store: ApqStore | None = None
    if apq.enabled and shared is not None:
        store = RedisApqStore(shared, ttl=apq.ttl, prefix=f"{settings.redis_prefix}:apq:")
    elif apq.enabled:
        store = MemoryApqStore(max_entries=apq.max_entries)
    return PersistedDocuments(manifests, store)


def gateway_app(
    engine: FederatedEngine,
    settings: GatewaySettings,
    *,
    clock: Clock,
    redis_url: str | None = None,
    lifespan: Lifespan | None = None,
    readiness_checks: Sequence[ReadinessCheck] = (),
    metrics_folder: Path | None = None,
    kpi_sources: Sequence[str] = (),
    tracer: Tracer | None = None,
    **options: Any,
) -> Starlette:
    """The front door as ``settings`` say; ``options`` go to ``create_app`` as they are.

    With ``redis_url`` the replicas share what they count in that Redis (rate limits,
    connections); without, each counts for itself. The app closes its Redis client when
    it stops, after ``lifespan``. ``/ready`` asks every subgraph, then runs
    ``readiness_checks``; the gateway's own use of Redis fails open (docs/security.md),
    so Redis being away does not make it unready. ``metrics_folder``: where the worker
    processes keep their metrics (``--workers`` > 1). The console reads the KPIs from
    ``[gateway.console] kpi_sources``, else from ``kpi_sources`` (the subgraphs' /metrics
    for a standalone gateway), else from this process's registry.
    """
    trusted = settings.trusted_proxy_networks()
    shared = None if redis_url is None else shared_redis(redis_url)
    metrics = settings.metrics.gateway_metrics()
    console = None
    if settings.console.enabled:
        kpis = KpiHistory(
            _kpi_sources(settings.console.kpi_sources or kpi_sources, settings),
            clock,
            settings.console.kpi_interval,
        )
        console = OperatorConsole(kpis)
    return create_app(
        engine,
        limits=settings.limits.transport_limits(),
        graphiql=settings.graphiql,
        graphiql_headers=settings.graphiql_headers,
        expose_query_plan=settings.expose_query_plans,
        clients=client_directory(settings, clock),
        documents=persisted_documents(engine, settings, shared),
        quotas=local_quotas(clock, trusted, metrics)
        if shared is None
        else shared_quotas(clock, shared, settings.redis_prefix, trusted, metrics),
        lifespan=lifespan if shared is None else _closing(shared, lifespan),
        readiness_checks=[
            ReadinessCheck("subgraphs", engine.unreachable_subgraphs),
            *readiness_checks,
        ],
        metrics=metrics,
        metrics_folder=metrics_folder,
        public_metrics=settings.metrics.public,
        console=console,
        tracer=tracer,
        **options,
    )


def _kpi_sources(urls: Sequence[str], settings: GatewaySettings) -> list[KpiSource]:
    if not urls:
        return [RegistrySource()]
    proxies = settings.proxy.proxies()
    return [ScrapeSource(url, proxy=proxies.for_url(url)) for url in urls]


def subgraph_metrics_urls(engine: FederatedEngine, settings: GatewaySettings) -> list[str]:
    """Where each subgraph of a standalone gateway serves its metrics: ``/metrics`` on the
    origin of its GraphQL URL, as ``retailgraph subgraph NAME`` serves them."""
    urls = []
    for name, subgraph in sorted(engine.supergraph.subgraphs.items()):
        url = urlsplit(settings.subgraph_urls.get(name, subgraph.url))
        if url.scheme in ("http", "https"):
            urls.append(urlunsplit((url.scheme, url.netloc, "/metrics", "", "")))
    return urls


def _closing(client: redis.Redis, lifespan: Lifespan | None) -> Lifespan:
    """``lifespan``, then closing ``client``."""

    @contextlib.asynccontextmanager
    async def closing(app: Starlette) -> AsyncIterator[None]:
        try:
            async with contextlib.AsyncExitStack() as stack:
                if lifespan is not None:
                    await stack.enter_async_context(lifespan(app))
                yield
        finally:
            await client.aclose()

    return closing


def build_gateway(
    supergraph: Path,
    settings: GatewaySettings,
    *,
    clock: Clock,
    redis_url: str | None = None,
    metrics_folder: Path | None = None,
    tracer: Tracer | None = None,
) -> Starlette:
    from gateway.supergraph import SupergraphError

    try:
        sdl = supergraph.read_text()
    except OSError as error:
        raise CommandError(f"cannot read the supergraph {supergraph}: {error}") from None
    try:
        subgraphs = {n: SubgraphOptions(url=u) for n, u in settings.subgraph_urls.items()}
        engine = federated_engine(sdl, settings, subgraphs, clock=clock, tracer=tracer)
    except SupergraphError as error:
        raise CommandError(f"invalid supergraph {supergraph}: {error}") from None
    unknown = set(settings.subgraph_urls) - set(engine.supergraph.subgraphs)
    if unknown:
        raise CommandError(f"no such subgraph in the supergraph: {', '.join(sorted(unknown))}")
    return gateway_app(
        engine,
        settings,
        clock=clock,
        redis_url=redis_url,
        metrics_folder=metrics_folder,
        kpi_sources=subgraph_metrics_urls(engine, settings),
        tracer=tracer,
    )


@dataclass(frozen=True)
class GatewayFactory:
    """Builds the app in each worker process (``--workers`` > 1): it travels to the
    workers as it is, pickled, so they need no environment or file to know the settings.
    Each worker makes its own Redis client (``redis_url``), writes its metrics to
    ``metrics_folder``, where any worker's ``/metrics`` adds them all up, and sets up its
    own logging and tracer (``setup``)."""

    supergraph: Path
    settings: GatewaySettings
    clock: Clock
    redis_url: str | None = None
    metrics_folder: Path | None = None
    setup: ProcessSetup | None = None

    def __call__(self) -> Starlette:
        tune_garbage_collector()
        tracer = None if self.setup is None else self.setup()
        return build_gateway(
            self.supergraph,
            self.settings,
            clock=self.clock,
            redis_url=self.redis_url,
            metrics_folder=self.metrics_folder,
            tracer=tracer,
        )


def serve_gateway(
    supergraph: Path,
    settings: GatewaySettings,
    *,
    clock: Clock,
    host: str,
    port: int,
    workers: int = 1,
    redis_url: str | None = None,
    setup: ProcessSetup | None = None,
) -> None:
    """``redis_url``: the Redis every replica (and worker) shares its counts in. ``setup``
    sets up the logging and the tracer of this process and of each worker process; None
    leaves the logging to uvicorn, as it configures it, and traces nothing."""
    largest = settings.limits.max_body_bytes
    tracer = None if setup is None else setup()
    configured = setup is not None
    if workers <= 1:
        app = build_gateway(supergraph, settings, clock=clock, redis_url=redis_url, tracer=tracer)
        serve(app, host=host, port=port, max_message_bytes=largest, logging_configured=configured)
        return
    # Fail here, once, on bad input (building connects to nothing).
    build_gateway(supergraph, settings, clock=clock, redis_url=redis_url)
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(multiprocess_folder()) if settings.metrics.enabled else None
        serve(
            GatewayFactory(supergraph.resolve(), settings, clock, redis_url, folder, setup),
            host=host,
            port=port,
            workers=workers,
            factory=True,
            max_message_bytes=largest,
            logging_configured=configured,
        )


def run_compose(
    subgraphs: Sequence[str],
    output: Path | None,
    *,
    check: bool = False,
    console: Console,
    compose_default: Callable[[], Coroutine[Any, Any, str]] | None = None,
    clients: Sequence[Client] = (),
) -> int:
    """Compose from live subgraphs; write ``output`` (or print), or with ``check`` compare.

    Without ``--subgraph`` options, ``compose_default`` composes (the product's own
    subgraphs, for ``retailgraph compose``). Every manifest of ``clients`` is checked
    against the new supergraph: one it would break fails the command, naming the client
    and the operation, and nothing is written.
    """
    from gateway.supergraph.compose import CompositionError, compose_from_urls
    from gateway.supergraph.compose.report import print_errors

    endpoints = parse_subgraph_urls(subgraphs)

    async def compose_live() -> str:
        return await compose_from_urls(endpoints)

    compose_now = compose_live if endpoints else compose_default
    if compose_now is None:
        raise CommandError("give at least one --subgraph NAME=URL")
    try:
        supergraph = asyncio.run(compose_now())
    except CompositionError as error:
        print_errors(error, console)
        return 1
    if not _manifests_run(supergraph, clients, console):
        return 1
    if check:
        if output is None:
            raise CommandError("--check needs --output, the file to compare with")
        current = output.read_text() if output.exists() else ""
        if current != supergraph:
            console.print(f"[red]{output} is out of date[/red]: run retailgraph compose again.")
            return 1
        console.print(f"[green]{output} is up to date.[/green]")
        return 0
    if output is None:
        print(supergraph, end="")
    else:
        output.write_text(supergraph)
        console.print(f"[green]Wrote {output}[/green].")
    return 0


def _manifests_run(supergraph: str, clients: Sequence[Client], console: Console) -> bool:
    """True when every client's trusted documents run against ``supergraph``."""
    from gateway.supergraph import load_supergraph

    if not any(client.manifests for client in clients):
        return True
    try:
        client_manifests(clients, load_supergraph(supergraph).api_schema)
    except ManifestsRefused as refused:
        console.print("[red]The supergraph would break these clients' persisted documents:[/red]")
        for problem in refused.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        return False
    console.print("[green]Every client's persisted documents run against it.[/green]")
    return True
