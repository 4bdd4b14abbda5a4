"""The server span of one GraphQL request over HTTP.

It continues a caller's W3C ``traceparent`` when the request brings one. Its name and
attributes come from what the request's way through learnt (``request.state``): the
operation, the client, the outcome. The endpoint makes one only when it has a tracer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.requests import Request

from gateway.http.correlation import HEADER as CORRELATION_HEADER
from gateway.http.multipart import IncrementalResponse
from gateway.http.responses import GraphQLResponse
from gateway.metrics import UNKNOWN_CLIENT

INTERNAL_ERROR = "INTERNAL_SERVER_ERROR"
_PROPAGATOR = TraceContextTextMapPropagator()
_CORRELATION = CORRELATION_HEADER.decode()


@contextmanager
def server_span(tracer: Tracer, request: Request) -> Iterator[Span]:
    with tracer.start_as_current_span(
        "graphql",
        context=_PROPAGATOR.extract(request.headers),
        kind=SpanKind.SERVER,
        attributes={"retailgraph.correlation_id": request.headers.get(_CORRELATION, "")},
    ) as span:
        yield span


def describe(span: Span, request: Request, response: GraphQLResponse | IncrementalResponse) -> None:
    """Name the span after the operation and record who asked and how it ended."""
    state = request.scope.get("state", {})
    caller = state.get("caller")
    operation = state.get("operation")
    operation_type = state.get("operation_type")
    if operation_type:
        span.update_name(f"{operation_type} {operation}" if operation else operation_type)
        span.set_attribute("graphql.operation.type", operation_type)
    if operation:
        span.set_attribute("graphql.operation.name", operation)
    span.set_attribute(
        "retailgraph.client", UNKNOWN_CLIENT if caller is None else caller.client.name
    )
    span.set_attribute("retailgraph.outcome", response.outcome)
    span.set_attribute("http.response.status_code", response.status_code)
    if response.outcome == INTERNAL_ERROR:
        span.set_status(Status(StatusCode.ERROR, INTERNAL_ERROR))
