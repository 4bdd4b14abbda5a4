"""The GraphQL endpoint: transport rules around ``Engine.prepare`` and ``Engine.execute``.

Status codes follow the GraphQL-over-HTTP spec. A request that is not well-formed (bad
JSON, missing query, wrong parameter types, wrong method or media type) gets a 4xx. A
GraphQL request error (parse, validation, operation name, variable coercion) gets 400
over ``application/graphql-response+json`` and 200 over ``application/json``. Once
execution starts the answer is 200, with partial data and errors as the engine returns
them. An unexpected exception is logged and answered as a GraphQL error, never as a 500
with a stack trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Tracer
from starlette.requests import Request
from starlette.responses import Response

from gateway.engine import Engine, GraphQLError, Prepared, RequestError
from gateway.http.authentication import refusal
from gateway.http.graphiql import graphiql_page
from gateway.http.media import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    accepts_incremental_delivery,
    choose_response_type,
    prefers_html,
)
from gateway.http.multipart import IncrementalResponse
from gateway.http.params import (
    GraphQLParams,
    HttpError,
    Limits,
    params_from_get,
    params_from_post,
)
from gateway.http.plan_exposure import HEADER as EXPOSE_PLAN_HEADER
from gateway.http.plan_exposure import exposure_mode, plan_extension
from gateway.http.rate_limits import over_quota
from gateway.http.request_log import log_request
from gateway.http.responses import GraphQLResponse, errors_body, graphql_response
from gateway.http.tracing import describe, server_span
from gateway.metrics import ERRORS, OK, UNKNOWN_CLIENT, GatewayMetrics
from gateway.security.clients import ClientDirectory, Unauthenticated, anonymous_only
from gateway.security.documents import DocumentError
from gateway.security.persisted import PersistedDocuments, default_documents
from gateway.security.quotas import Quotas
from gateway.security.ratelimit import ratelimit_headers

log = logging.getLogger("gateway.http")

INTERNAL_ERROR = GraphQLError(message="Internal server error", code="INTERNAL_SERVER_ERROR")


class GraphQLEndpoint:
    def __init__(
        self,
        engine: Engine,
        *,
        limits: Limits | None = None,
        graphiql: bool = True,
        expose_query_plan: bool = True,
        clients: ClientDirectory | None = None,
        graphiql_headers: Mapping[str, str] | None = None,
        documents: PersistedDocuments | None = None,
        quotas: Quotas | None = None,
        metrics: GatewayMetrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        # None: tracing is off, and no span object is made.
        self.tracer = tracer
        self.documents = documents or default_documents()
        # None: no client is limited.
        self.quotas = quotas
        self.graphiql_headers = dict(graphiql_headers or {})
        self.clients = clients or anonymous_only()
        self.limits = limits or Limits()
        self.graphiql = graphiql
        self.expose_query_plan = expose_query_plan

    async def handle(self, request: Request) -> Response:
        if self.tracer is None:
            return await self._recorded(request)
        with server_span(self.tracer, request) as span:
            response = await self._recorded(request)
            if isinstance(response, GraphQLResponse | IncrementalResponse):
                describe(span, request, response)
            return response

    async def _recorded(self, request: Request) -> Response:
        """The answer, counted in the metrics and logged in one line."""
        started = time.perf_counter()
        response = await self._handle(request)
        if isinstance(response, GraphQLResponse | IncrementalResponse):  # not GraphiQL's page
            elapsed = time.perf_counter() - started
            # What the request's way through set: its caller and its prepared operation.
            state = request.scope.get("state", {})
            caller = state.get("caller")
            client = UNKNOWN_CLIENT if caller is None else caller.client.name
            operation = state.get("operation")
            if self.metrics is not None:
                self.metrics.request(
                    client, self.metrics.operation(operation), response.outcome, elapsed
                )
            log_request(client, operation, response.outcome, response.status_code, elapsed)
        return response

    async def _handle(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return self._http_error(
                HttpError(
                    405,
                    f"The method {request.method} is not allowed; use GET or POST.",
                    "METHOD_NOT_ALLOWED",
                    {"Allow": "GET, POST"},
                ),
                APPLICATION_JSON,
            )
        accept = request.headers.get("accept")
        if (
            self.graphiql
            and request.method == "GET"
            and "query" not in request.query_params
            and prefers_html(accept)
        ):
            return graphiql_page(request.url.path, self.graphiql_headers)
        media_type = choose_response_type(accept)
        if media_type is None:
            return self._http_error(
                HttpError(
                    406,
                    f"None of the accepted media types is available; accept "
                    f"{GRAPHQL_RESPONSE_JSON!r} or {APPLICATION_JSON!r}.",
                    "NOT_ACCEPTABLE",
                ),
                APPLICATION_JSON,
            )
        if not self.engine.ready:
            return self._http_error(
                HttpError(503, "The gateway is starting; try again shortly.", "NOT_READY"),
                media_type,
            )
        try:
            caller = await self.clients.caller(request.headers)
        except Unauthenticated as refused:
            return self._http_error(refusal(refused), media_type)
        request.state.caller = caller
        policy = caller.client.rate_limit
        if policy is None or self.quotas is None:
            return await self._answer(request, media_type)
        peer = request.client.host if request.client else None
        holder = self.quotas.holder(caller, peer, request.headers)
        decision = await self.quotas.charge(policy, holder)
        if not decision.allowed:
            return self._http_error(over_quota(policy, decision), media_type)
        response = await self._answer(request, media_type)
        # Every answer to a limited client tells it where it stands, errors included.
        response.headers.update(ratelimit_headers(policy, decision))
        return response

    async def _answer(self, request: Request, media_type: str) -> Response:
        try:
            if request.method == "GET":
                params = params_from_get(request, self.limits)
            else:
                params = await params_from_post(request, self.limits)
        except HttpError as error:
            return self._http_error(error, media_type)
        return await self._run(request, params, media_type)

    async def _run(self, request: Request, params: GraphQLParams, media_type: str) -> Response:
        caller = request.state.caller
        try:
            document = await self.documents.resolve(params.document_names(), caller.client)
            prepared = self.engine.prepare(
                document.query,
                params.operation_name or document.operation_name,
                caller,
                params.variables,
            )
        except RequestError as error:
            return self._request_error(error, media_type)
        except Exception:
            return self._internal_error(request, media_type, "preparing")
        request.state.operation = prepared.operation_name
        request.state.operation_type = prepared.operation_type
        if prepared.operation_type != "query" and request.method == "GET":
            return self._http_error(
                HttpError(
                    405,
                    f"A {prepared.operation_type} cannot be sent with GET; use POST.",
                    "METHOD_NOT_ALLOWED",
                    {"Allow": "POST"},
                ),
                media_type,
            )
        if prepared.operation_type == "subscription":
            return self._http_error(
                HttpError(
                    400,
                    "Subscriptions are served over WebSocket (graphql-transport-ws) and "
                    "over SSE (Accept: text/event-stream), not as a single HTTP response.",
                    "SUBSCRIPTION_NOT_SUPPORTED",
                ),
                media_type,
            )
        return await self._execute(request, params, prepared, media_type)

    async def _execute(
        self, request: Request, params: GraphQLParams, prepared: Prepared, media_type: str
    ) -> Response:
        mode = exposure_mode(request.headers.get(EXPOSE_PLAN_HEADER))
        query_plan = self.engine.query_plan(prepared) if mode and self.expose_query_plan else None
        plan = plan_extension(query_plan) if query_plan is not None else None
        if plan is not None and mode == "dry-run":
            body: dict[str, Any] = {"data": None, "extensions": {"apolloQueryPlan": plan}}
            return graphql_response(body, status=200, media_type=media_type, outcome=OK)
        if prepared.deferred and accepts_incremental_delivery(request.headers.get("accept")):
            return await self._execute_incrementally(request, params, prepared, media_type)
        # A client that cannot take parts gets the whole answer in one (the incremental
        # delivery RFC lets a server ignore @defer).
        try:
            result = await self.engine.execute(prepared, params.variables, request.headers)
        except RequestError as error:
            return self._request_error(error, media_type)
        except Exception:
            return self._internal_error(request, media_type, "executing")
        body = result.to_dict()
        if plan is not None:
            body["extensions"] = {**(body.get("extensions") or {}), "apolloQueryPlan": plan}
        # A GET answer may be cached, and its media type depends on the Accept header.
        headers = {"Vary": "Accept"} if request.method == "GET" else None
        outcome = ERRORS if result.errors else OK
        return graphql_response(
            body, status=200, media_type=media_type, headers=headers, outcome=outcome
        )

    async def _execute_incrementally(
        self, request: Request, params: GraphQLParams, prepared: Prepared, media_type: str
    ) -> Response:
        """@defer's parts as a multipart/mixed body, the initial part sent as soon as it
        is ready; refusals before it (variables, cost) are ordinary JSON answers."""
        try:
            parts = self.engine.execute_incrementally(prepared, params.variables, request.headers)
            first = await anext(parts)
        except RequestError as error:
            return self._request_error(error, media_type)
        except Exception:
            return self._internal_error(request, media_type, "executing")
        return IncrementalResponse(first, parts)

    @staticmethod
    def _http_error(error: HttpError, media_type: str) -> Response:
        return graphql_response(
            errors_body([error.error]),
            status=error.status,
            media_type=media_type,
            headers=error.headers,
            outcome=error.error.code,
        )

    @staticmethod
    def _request_error(error: RequestError, media_type: str) -> Response:
        outcome = error.errors[0].code if error.errors else ERRORS
        if isinstance(error, DocumentError):
            # Not-found and not-in-list answers must not be cached (a hashed GET may pass
            # a CDN): the next request may succeed.
            status = error.status if media_type == GRAPHQL_RESPONSE_JSON else 200
            return graphql_response(
                errors_body(error.errors),
                status=status,
                media_type=media_type,
                headers=error.headers,
                outcome=outcome,
            )
        if error.status >= 500:
            # The engine's own failure (planning, say): answered like an internal error,
            # with its code and message, as 200 and ``data: null`` rather than a 5xx.
            log.warning("engine failure: %s", error)
            body = {"errors": [e.to_dict() for e in error.errors], "data": None}
            return graphql_response(body, status=200, media_type=media_type, outcome=outcome)
        status = error.status if media_type == GRAPHQL_RESPONSE_JSON else 200
        return graphql_response(
            errors_body(error.errors), status=status, media_type=media_type, outcome=outcome
        )

    @staticmethod
    def _internal_error(request: Request, media_type: str, stage: str) -> Response:
        log.exception(
            "unexpected error while %s an operation (correlation id %s)",
            stage,
            request.headers.get("x-correlation-id"),
        )
        # Execution may have begun, so this is a field-less execution result, not a 5xx.
        body = {"errors": [INTERNAL_ERROR.to_dict()], "data": None}
        return graphql_response(
            body, status=200, media_type=media_type, outcome=INTERNAL_ERROR.code
        )
