"""The gateway's ASGI application: GraphQL over HTTP in front of an ``Engine``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.trace import Tracer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from gateway.console.app import OperatorConsole
from gateway.engine import Engine
from gateway.http.correlation import CorrelationIdMiddleware
from gateway.http.endpoint import GraphQLEndpoint
from gateway.http.graphiql import graphiql_assets, graphiql_page
from gateway.http.health import ReadinessCheck, health, readiness
from gateway.http.media import prefers_html
from gateway.http.metrics import metrics_endpoint, worker_stopped
from gateway.http.operator_only import (
    METRICS_SCOPE,
    OPERATOR_SCOPE,
    operator_only,
    operator_only_app,
)
from gateway.http.params import Limits
from gateway.metrics import GatewayMetrics
from gateway.security.clients import ClientDirectory, anonymous_only
from gateway.security.persisted import PersistedDocuments, default_documents
from gateway.security.quotas import Quotas
from gateway.subscriptions.sse import GraphQLEventStream, wants_event_stream
from gateway.subscriptions.websocket import GraphQLWebSocket

log = logging.getLogger("gateway")

Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[Any]]


def create_app(
    engine: Engine,
    *,
    path: str = "/graphql",
    limits: Limits | None = None,
    graphiql: bool = True,
    expose_query_plan: bool = True,
    lifespan: Lifespan | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    operator_mounts: Mapping[str, ASGIApp] | None = None,
    clients: ClientDirectory | None = None,
    graphiql_headers: Mapping[str, str] | None = None,
    connection_init_timeout: float = 10.0,
    sse_keep_alive: float = 15.0,
    documents: PersistedDocuments | None = None,
    readiness_checks: Sequence[ReadinessCheck] = (),
    quotas: Quotas | None = None,
    metrics: GatewayMetrics | None = None,
    metrics_folder: Path | None = None,
    public_metrics: bool = False,
    console: OperatorConsole | None = None,
    tracer: Tracer | None = None,
) -> Starlette:
    """Serve ``engine`` on ``path`` (GET and POST), with GraphiQL, /health and /ready.

    Subscriptions (and any operation) are served on ``path`` too: over WebSocket with
    graphql-transport-ws, and over SSE to requests that accept ``text/event-stream``.
    ``clients`` says who each caller is, from its credentials (headers over HTTP and SSE,
    the ``connection_init`` payload over WebSocket; none: every caller is anonymous);
    ``connection_init_timeout`` is how long a socket may wait before ``connection_init``;
    ``sse_keep_alive`` is how many quiet seconds pass before an SSE comment keeps a
    stream open through proxies. ``quotas`` count what each client spends (requests,
    connections, subscriptions); without them no client may have limits. ``metrics``
    records the requests, connections and subscriptions, and ``/metrics`` serves them
    with the rest of the process's (``metrics_folder``: the folder every worker process
    writes its values to, ``gateway.http.metrics``); none: no ``/metrics``. ``/metrics``
    answers callers with the ``operator`` or ``metrics:read`` scope, or anyone with
    ``public_metrics`` (a listener only trusted scrapers reach). ``console``: the
    operators' console on ``/console`` (``gateway.console``); none: no console. ``tracer``
    makes a server span of each GraphQL request over HTTP (none: tracing is off).

    ``lifespan`` runs around the gateway's own (the embedded mode starts its subgraphs
    there), and ``extra_routes`` are served beside it. ``operator_mounts`` are whole apps
    served under their path prefix to operators only (the embedded mode's subgraphs, for
    inspection: a subgraph trusts its caller to have passed the gateway's checks).
    On shutdown the engine's ``aclose()`` closes its HTTP pools.
    """
    limits = limits or Limits()
    directory = clients or anonymous_only()
    documents = documents or default_documents()
    if quotas is None and _limited(directory):
        raise ValueError("a client has limits: the app needs the quotas that count them")
    endpoint = GraphQLEndpoint(
        engine,
        limits=limits,
        graphiql=graphiql,
        expose_query_plan=expose_query_plan,
        clients=directory,
        graphiql_headers=graphiql_headers,
        documents=documents,
        quotas=quotas,
        metrics=metrics,
        tracer=tracer,
    )
    event_stream = GraphQLEventStream(
        engine,
        limits,
        directory,
        sse_keep_alive,
        quotas=quotas,
        documents=documents,
        metrics=metrics,
    )
    websocket = GraphQLWebSocket(
        engine,
        clients=directory,
        init_timeout=connection_init_timeout,
        limits=limits,
        documents=documents,
        quotas=quotas,
        metrics=metrics,
    )

    async def graphql(request: Request) -> Response:
        if wants_event_stream(request.headers.get("accept")):
            return await event_stream.handle(request)
        return await endpoint.handle(request)

    async def root(request: Request) -> Response:
        if graphiql and prefers_html(request.headers.get("accept")):
            return graphiql_page(path, graphiql_headers)
        return RedirectResponse(path, status_code=307)

    @contextlib.asynccontextmanager
    async def gateway_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan(app))
            if quotas is not None:
                quotas.start()
            if console is not None:
                console.start()
            try:
                yield
            finally:
                if console is not None:
                    await console.aclose()
                if quotas is not None:
                    await quotas.aclose()
                await _close(engine)
                # The identity provider's key fetches hold a connection pool.
                await directory.aclose()
                if metrics_folder is not None:
                    worker_stopped(metrics_folder)

    routes: list[BaseRoute] = [
        Route(path, graphql, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        WebSocketRoute(path, websocket),
        Route("/health", health, methods=["GET"]),
        Route("/ready", readiness(engine, readiness_checks), methods=["GET"]),
    ]
    if metrics is not None:
        scrape = metrics_endpoint(metrics_folder)
        if not public_metrics:
            scrape = operator_only(scrape, directory, (OPERATOR_SCOPE, METRICS_SCOPE))
        routes.append(Route("/metrics", scrape, methods=["GET"]))
    if console is not None:
        routes.extend(console.routes(directory))
    if path != "/":
        routes.append(Route("/", root, methods=["GET"]))
    if graphiql:
        routes.append(graphiql_assets())
    routes.extend(extra_routes)
    for prefix, mounted in (operator_mounts or {}).items():
        routes.append(Mount(prefix, app=operator_only_app(mounted, directory)))
    app = Starlette(
        routes=routes,
        middleware=[Middleware(CorrelationIdMiddleware)],
        lifespan=gateway_lifespan,
    )
    app.state.engine = engine
    return app


def _limited(directory: ClientDirectory) -> bool:
    clients = [*directory.clients.values(), directory.anonymous]
    return any(
        client is not None
        and (client.rate_limit or client.max_connections or client.max_subscriptions)
        for client in clients
    )


async def _close(engine: Engine) -> None:
    try:
        await engine.aclose()
    except Exception:
        log.exception("closing the engine failed")
