"""GraphQL over Server-Sent Events, graphql-sse's "distinct connections" mode.

A GET or POST to the GraphQL endpoint with ``Accept: text/event-stream`` gets one event
stream for its one operation: a ``next`` event per result, then ``complete``. Problems
with the request itself (bad JSON, a missing query) are GraphQL-over-HTTP 4xx answers;
GraphQL request errors (parse, validation, variables) arrive as a ``next`` event, as the
protocol asks, so an ``EventSource`` can read them. Closing the connection ends the
operation and releases its subgraph subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.engine import Engine, ExecutionResult, GraphQLError, RequestError
from gateway.http.authentication import refusal
from gateway.http.media import APPLICATION_JSON, parse_accept
from gateway.http.params import HttpError, Limits, params_from_get, params_from_post
from gateway.http.rate_limits import over_quota, too_many_streams
from gateway.http.responses import errors_body, graphql_response
from gateway.metrics import GatewayMetrics
from gateway.security.clients import Caller, ClientDirectory, Unauthenticated, anonymous_only
from gateway.security.persisted import PersistedDocuments, default_documents
from gateway.security.quotas import Quotas, Slot
from gateway.security.ratelimit import ratelimit_headers

EVENT_STREAM = "text/event-stream"
_COMPLETE = b"event: complete\ndata: \n\n"
_KEEP_ALIVE = b": keep-alive\n\n"
_log = logging.getLogger("gateway.subscriptions")


def wants_event_stream(accept: str | None) -> bool:
    """True when the client lists ``text/event-stream`` itself (not through a wildcard)."""
    if not accept or "event-stream" not in accept:
        return False
    return any(r.matches_exactly(EVENT_STREAM) and r.quality > 0 for r in parse_accept(accept))


class GraphQLEventStream:
    """``keep_alive``: seconds of quiet after which a comment line is sent, so proxies and
    load balancers with idle timeouts keep a quiet subscription open."""

    def __init__(
        self,
        engine: Engine,
        limits: Limits,
        clients: ClientDirectory | None = None,
        keep_alive: float = 15.0,
        quotas: Quotas | None = None,
        documents: PersistedDocuments | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        self.documents = documents or default_documents()
        self.limits = limits
        self.clients = clients or anonymous_only()
        self.keep_alive = keep_alive
        # None: no client is limited.
        self.quotas = quotas

    async def handle(self, request: Request) -> Response:
        try:
            caller = await self.clients.caller(request.headers)
        except Unauthenticated as refused:
            return _http_error(refusal(refused))
        request.state.caller = caller
        if self.quotas is None:
            return await self._answer(request, caller, "")
        peer = request.client.host if request.client else None
        holder = self.quotas.holder(caller, peer, request.headers)
        policy = caller.client.rate_limit
        if policy is None:
            return await self._answer(request, caller, holder)
        decision = await self.quotas.charge(policy, holder)
        if not decision.allowed:
            return _http_error(over_quota(policy, decision))
        response = await self._answer(request, caller, holder)
        response.headers.update(ratelimit_headers(policy, decision))
        return response

    async def _answer(self, request: Request, caller: Caller, holder: str) -> Response:
        try:
            if request.method == "GET":
                params = params_from_get(request, self.limits)
            elif request.method == "POST":
                params = await params_from_post(request, self.limits)
            else:
                raise HttpError(405, "Use GET or POST for an event stream.", "METHOD_NOT_ALLOWED")
        except HttpError as error:
            return _http_error(error)
        try:
            document = await self.documents.resolve(params.document_names(), caller.client)
            prepared = self.engine.prepare(
                document.query,
                params.operation_name or document.operation_name,
                caller,
                params.variables,
            )
        except RequestError as error:
            return _stream(_refused(error))
        if prepared.operation_type == "mutation" and request.method == "GET":
            return _http_error(
                HttpError(
                    405,
                    "A mutation cannot be sent with GET; use POST.",
                    "METHOD_NOT_ALLOWED",
                    {"Allow": "POST"},
                )
            )
        # A stream is a connection, and a subscription's stream a subscription too.
        slots = await self._open(caller, holder, prepared.operation_type == "subscription")
        if isinstance(slots, HttpError):
            return _http_error(slots)
        try:
            results = self.engine.subscribe(prepared, params.variables, request.headers)
        except RequestError as error:
            await self._close(slots)
            return _stream(_refused(error))
        subscription = prepared.operation_type == "subscription"
        self._opened(subscription, +1)
        closed = partial(self._close, slots, subscription)
        return _stream(_events(results, self.keep_alive, closed))

    async def _open(
        self, caller: Caller, holder: str, subscription: bool
    ) -> tuple[Slot, ...] | HttpError:
        if self.quotas is None:
            return ()
        client = caller.client
        connection = await self.quotas.open_connection(caller, holder)
        if connection is None:
            return too_many_streams("connections", client.max_connections)
        if not subscription:
            return (connection,)
        running = await self.quotas.open_subscription(caller, holder)
        if running is None:
            await self.quotas.close(connection)
            return too_many_streams("subscriptions", client.max_subscriptions)
        return (connection, running)

    def _opened(self, subscription: bool, change: int) -> None:
        """Counts a stream (and its subscription) in as it starts, or out as it ends."""
        if self.metrics is not None:
            self.metrics.connections["sse"].inc(change)
            if subscription:
                self.metrics.subscriptions["sse"].inc(change)

    async def _close(self, slots: tuple[Slot, ...], subscription: bool | None = None) -> None:
        """Gives the stream's slots back; ``subscription`` (not None): the stream had
        started, and ran a subscription or not."""
        if subscription is not None:
            self._opened(subscription, -1)
        if self.quotas is not None:
            for slot in slots:
                await self.quotas.close(slot)


def _stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _refused(error: RequestError) -> AsyncIterator[bytes]:
    yield _next(errors_body(error.errors))
    yield _COMPLETE


async def _events(
    results: AsyncIterator[ExecutionResult],
    keep_alive: float,
    on_close: Callable[[], Awaitable[None]],
) -> AsyncIterator[bytes]:
    try:
        try:
            async with contextlib.aclosing(results):  # type: ignore[type-var]
                async for frame in _with_keep_alive(results, keep_alive):
                    yield frame
        except Exception:
            _log.exception("an event stream failed")
            internal = GraphQLError("Internal server error", "INTERNAL_SERVER_ERROR")
            yield _next({"errors": [internal.to_dict()], "data": None})
        yield _COMPLETE
    finally:
        # Shielded: when the client leaves, the server cancels the response's task at
        # every await until it ends, and the stream's slots must still be given back.
        await asyncio.shield(on_close())


async def _with_keep_alive(
    results: AsyncIterator[ExecutionResult], keep_alive: float
) -> AsyncIterator[bytes]:
    """Each result as an event, and ``: keep-alive`` after ``keep_alive`` quiet seconds.

    The wait for the next result is never cancelled by the timer (cancelling it would end
    the subscription); only the client leaving cancels it.
    """
    waiting: asyncio.Future[ExecutionResult] | None = None
    try:
        while True:
            if waiting is None:
                waiting = asyncio.ensure_future(anext(results))
            done, _ = await asyncio.wait({waiting}, timeout=keep_alive)
            if not done:
                yield _KEEP_ALIVE
                continue
            try:
                result = waiting.result()
            except StopAsyncIteration:
                return
            finally:
                waiting = None
            yield b"event: next\ndata: " + result.to_json() + b"\n\n"
    finally:
        if waiting is not None:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting


def _next(body: object) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


def _http_error(error: HttpError) -> Response:
    return graphql_response(
        errors_body([error.error]),
        status=error.status,
        media_type=APPLICATION_JSON,
        headers=error.headers,
    )
