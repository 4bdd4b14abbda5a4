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
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.engine import Engine, ExecutionResult, GraphQLError, RequestError
from gateway.http.authentication import refusal
from gateway.http.media import APPLICATION_JSON, parse_accept
from gateway.http.params import HttpError, Limits, params_from_get, params_from_post
from gateway.http.responses import errors_body, graphql_response
from gateway.security.clients import ClientDirectory, Unauthenticated, anonymous_only

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
    ) -> None:
        self.engine = engine
        self.limits = limits
        self.clients = clients or anonymous_only()
        self.keep_alive = keep_alive

    async def handle(self, request: Request) -> Response:
        try:
            request.state.caller = await self.clients.caller(request.headers)
        except Unauthenticated as refused:
            return _http_error(refusal(refused))
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
            prepared = self.engine.prepare(
                params.query, params.operation_name, request.state.caller, params.variables
            )
            if prepared.operation_type == "mutation" and request.method == "GET":
                return _http_error(
                    HttpError(
                        405,
                        "A mutation cannot be sent with GET; use POST.",
                        "METHOD_NOT_ALLOWED",
                        {"Allow": "POST"},
                    )
                )
            results = self.engine.subscribe(prepared, params.variables, request.headers)
        except RequestError as error:
            return _stream(_refused(error))
        return _stream(_events(results, self.keep_alive))


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
    results: AsyncIterator[ExecutionResult], keep_alive: float
) -> AsyncIterator[bytes]:
    try:
        async with contextlib.aclosing(results):  # type: ignore[type-var]
            async for frame in _with_keep_alive(results, keep_alive):
                yield frame
    except Exception:
        _log.exception("an event stream failed")
        internal = GraphQLError("Internal server error", "INTERNAL_SERVER_ERROR")
        yield _next({"errors": [internal.to_dict()], "data": None})
    yield _COMPLETE


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
