"""W3C ``traceparent`` values: of the span being run, into headers, and back to a context.

The trace a request runs in travels with what it causes: in the headers of the calls it
makes to other subgraphs, and stored with the events and ERP postings it writes, so that
the work done later for them (an ERP post) links back to it. Only the OpenTelemetry API
is used here; without a tracer, no span is ever current and each function does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

HEADER = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span being run, None outside a recorded trace."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return f"00-{span.trace_id:032x}-{span.span_id:016x}-{int(span.trace_flags):02x}"


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current span's ``traceparent`` (and ``tracestate``) to ``headers``."""
    _PROPAGATOR.inject(headers)


def extract(headers: Mapping[str, str]) -> Context:
    """The context a caller's ``traceparent`` header names (empty when it has none)."""
    return _PROPAGATOR.extract(headers)


def span_context(traceparent: str | None) -> trace.SpanContext | None:
    """The span a stored ``traceparent`` names, to link to; None when there is none."""
    if not traceparent:
        return None
    context = trace.get_current_span(extract({HEADER: traceparent})).get_span_context()
    return context if context.is_valid else None
