"""The ASGI app around one domain's strawberry federation schema."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, GraphQLUnionType
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionResult, Info

from adapters.bus import Consumer
from adapters.graphql.errors import format_error
from adapters.graphql.identity import ANONYMOUS, IdentityVerifier, VerifiedIdentity
from adapters.graphql.internal import InternalEndpoint, internal_routes
from adapters.graphql.metrics import ERRORS, OK, REFUSED, SubgraphMetrics
from adapters.graphql.shielded import ShieldedResolvers
from adapters.metrics.exposition import metrics_route
from adapters.runtime import Runtime
from kernel import correlation, tracing
from kernel.clock import SystemClock
from kernel.errors import InvalidInput

# Distinct operation texts whose parse and validation a subgraph process keeps.
DOCUMENT_CACHE = 512


class SpecGrammar(SchemaExtension):
    """Parse by the spec's grammar: a selection set holds at least one selection.

    graphql-core 3.3 accepts ``{ item {} }`` by default; the gateway refuses it, and so
    does a subgraph asked directly. Strawberry's ``ParseOptions`` names only
    ``max_tokens``, though it passes every option on to graphql-core's ``parse``.
    """

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["allow_empty_selection_sets"] = False  # type: ignore[typeddict-unknown-key]
        yield


class FederatedSchema(strawberry.federation.Schema):
    """A federation schema whose ``_entities`` rejects malformed representations cleanly.

    Strawberry looks the ``__typename`` up without checking it; an unknown or missing one
    would surface as an internal error instead of the client's mistake.

    Parsed and validated documents are cached by their text: the gateway and checkout send
    the same few operations over and over, and validating one against a domain's schema
    costs milliseconds of CPU each time (the largest part of a checkout's).
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault(
            "extensions",
            [
                SpecGrammar,
                lambda: ParserCache(maxsize=DOCUMENT_CACHE),
                lambda: ValidationCache(maxsize=DOCUMENT_CACHE),
                ShieldedResolvers,
            ],
        )
        super().__init__(*args, **options)

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        entity_types = self._entity_type_names
        for index, representation in enumerate(representations):
            typename = (
                representation.get("__typename") if isinstance(representation, Mapping) else None
            )
            if typename not in entity_types:
                raise InvalidInput(
                    f"representations[{index}] must be an object with a __typename "
                    f"naming one of: {', '.join(sorted(entity_types))}"
                )
        return super().entities_resolver(info, representations)

    async def stream(self, *args: Any, **options: Any) -> StreamResult:
        """Strawberry's, with every error in our format (``format_error``): its WebSocket
        handlers send ``error.formatted`` as it is, so a failure inside a subscription
        field would reach the client with the exception's own text and no code."""
        return _formatted_results(await super().stream(*args, **options))

    @functools.cached_property
    def _entity_type_names(self) -> frozenset[str]:
        entity_union = self._schema.type_map.get("_Entity")
        if not isinstance(entity_union, GraphQLUnionType):
            return frozenset()
        return frozenset(member.name for member in entity_union.types)


class _FormattedError(GraphQLError):
    """An error already in the client's view: ``formatted`` is what ``format_error`` made."""

    def __init__(self, formatted: dict[str, Any]) -> None:
        super().__init__(str(formatted.get("message", "")))
        self._formatted = formatted

    @property
    def formatted(self) -> dict[str, Any]:  # type: ignore[override]
        return self._formatted


async def _formatted_results(results: StreamResult) -> StreamResult:
    async for result in results:
        if isinstance(result, ExecutionResult) and result.errors:
            errors: list[GraphQLError] = [_FormattedError(format_error(e)) for e in result.errors]
            result = dataclasses.replace(result, errors=errors)
        yield result


ContextFactory = Callable[[], Awaitable[dict[str, Any]]]


class SubgraphGraphQL(GraphQL):
    """Strawberry's ASGI view with our error format, per-request context, metrics and,
    with a ``tracer``, a server span per request that continues the caller's trace."""

    def __init__(
        self,
        schema: strawberry.Schema,
        context: ContextFactory,
        metrics: SubgraphMetrics | None = None,
        *,
        name: str = "subgraph",
        tracer: Tracer | None = None,
        **options: Any,
    ):
        super().__init__(schema, **options)
        self._context = context
        self._metrics = metrics
        self._name = name
        self._tracer = tracer

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, timed and counted: an HTTP operation's one execution."""
        if self._tracer is None:
            return await self._measured(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        operation = request_data.operation_name
        with self._tracer.start_as_current_span(
            f"{self._name} {operation or 'operation'}",
            context=tracing.extract(request.headers),
            kind=SpanKind.SERVER,
            attributes={
                "retailgraph.subgraph": self._name,
                "graphql.operation.name": operation or "",
                "retailgraph.correlation_id": correlation.current() or "",
            },
        ) as span:
            result = await self._measured(
                request, request_adapter, sub_response, context, root_value, request_data
            )
            if result.errors:
                span.set_attribute("error.type", "GRAPHQL_ERRORS")
            return result

    async def _measured(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if self._metrics is None:
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        started = time.perf_counter()
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException:
            self._metrics.request(None, REFUSED, time.perf_counter() - started)
            raise
        outcome = ERRORS if result.errors else OK
        self._metrics.request(request_data.operation_name, outcome, time.perf_counter() - started)
        return result

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Any:
        correlation.bind(request.headers.get(correlation.HEADER))
        context = await self._context()
        # Verified before the request reached the view (``VerifiedIdentity``).
        identity = request.scope.get("state", {}).get("identity", ANONYMOUS)
        context.update(request=request, response=response, identity=identity)
        return context

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(e) for e in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response


def _no_schema_errors_in_logs(schema: strawberry.Schema) -> None:
    # format_error logs what matters; strawberry would print every client mistake again.
    def process_errors(errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None

    schema.process_errors = process_errors  # type: ignore[method-assign]


def subgraph_app(
    schema: strawberry.Schema,
    context: ContextFactory,
    *,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None,
    identity: IdentityVerifier | None = None,
    name: str = "subgraph",
    tracer: Tracer | None = None,
    internal: Sequence[InternalEndpoint] = (),
) -> Starlette:
    """Serve ``schema`` at ``/graphql``, with ``/health`` for probes and ``/metrics`` for
    Prometheus (the requests are counted under the subgraph ``name``). ``identity`` checks
    the caller the gateway signed; without it no caller header is believed (a request
    carrying one is refused, one without is anonymous). ``tracer``: a span per request.
    ``internal``: the domain's endpoints for other domains, under ``/internal/``, with
    the same identity check, metrics and tracing (``adapters/graphql/internal.py``)."""
    _no_schema_errors_in_logs(schema)
    verifier = identity or IdentityVerifier(None, SystemClock())
    metrics = SubgraphMetrics(name)
    graphql_app = VerifiedIdentity(
        SubgraphGraphQL(schema, context, metrics, name=name, tracer=tracer), verifier
    )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            *internal_routes(list(internal), verifier, metrics, name=name, tracer=tracer),
            Route("/health", health),
            metrics_route(),
        ],
        lifespan=lifespan,
    )


class RunningDomain(Protocol):
    """What a domain's ``start`` returns, as far as its app is concerned."""

    def consumers(self) -> list[Consumer]: ...

    async def close(self) -> None: ...


DomainT = TypeVar("DomainT", bound=RunningDomain)


def domain_subgraph_app(
    schema: strawberry.Schema,
    start: Callable[..., Awaitable[DomainT]],
    make_loaders: Callable[[DomainT], Any],
    runtime: Runtime,
    engine: AsyncEngine | None = None,
    *,
    name: str,
    owns_runtime: bool = False,
    internal: Sequence[InternalEndpoint] = (),
) -> Starlette:
    """A domain's subgraph, ``name``: the domain runs for the app's lifespan
    (``app.state.domain``), its reactions to events subscribed, and every request gets
    ``{"domain": ..., "loaders": make_loaders(domain)}``.

    ``start(runtime, engine=engine)`` is the domain's bootstrap; ``engine`` (tests)
    replaces the database the runtime names. ``owns_runtime``: the app is the process
    (``retailgraph subgraph``), so it closes the runtime when it stops; a shared runtime
    (the embedded mode's) is closed by its owner. ``internal``: endpoints other domains
    call, each handed the running domain.
    """
    running_on = runtime

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        domain = await start(running_on, engine=engine)
        running_on.consume(domain.consumers())
        app.state.domain = domain
        try:
            yield
        finally:
            await domain.close()
            if owns_runtime:
                await running_on.close()

    async def context() -> dict[str, Any]:
        domain: DomainT = app.state.domain
        return {
            "domain": domain,
            "loaders": make_loaders(domain),
            "make_loaders": lambda: make_loaders(domain),
            "hub": running_on.hub,
        }

    verifier = IdentityVerifier(runtime.identity_secret, runtime.clock)
    app = subgraph_app(
        schema,
        context,
        lifespan=lifespan,
        identity=verifier,
        name=name,
        tracer=runtime.tracer,
        internal=internal,
    )
    return app
