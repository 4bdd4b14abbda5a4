"""A ``Fetcher`` that runs each subgraph fetch in a client span and sends its context on.

The subgraph continues the trace from the ``traceparent`` header added here, so one
request is one trace across the gateway and every subgraph it asks. The engine wraps its
fetcher in this only when it has a tracer: with tracing off no span object is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.executor.fetching import Fetcher, FetchFailed

SUBGRAPH_ATTRIBUTE = "retailgraph.subgraph"
_PROPAGATOR = TraceContextTextMapPropagator()


class TracedFetcher:
    """Wraps any fetcher (HTTP, in process, a test's), so every transport is traced."""

    __slots__ = ("_fetcher", "_tracer")

    def __init__(self, fetcher: Fetcher, tracer: Tracer) -> None:
        self._fetcher = fetcher
        self._tracer = tracer

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        with self._tracer.start_as_current_span(
            f"fetch {service}",
            kind=SpanKind.CLIENT,
            attributes={SUBGRAPH_ATTRIBUTE: service},
            record_exception=False,
        ) as span:
            # The headers are shared by every fetch of the request; each carries its own span.
            traced = dict(headers)
            _PROPAGATOR.inject(traced)
            try:
                response = await self._fetcher.fetch(service, body, traced, mutation=mutation)
            except FetchFailed as failure:
                span.set_status(Status(StatusCode.ERROR, failure.message))
                span.set_attribute("error.type", failure.code)
                raise
            if response.get("errors"):
                span.set_attribute("error.type", "GRAPHQL_ERRORS")
            return response
