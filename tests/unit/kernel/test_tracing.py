"""A span's traceparent, stored and read back, names the same span; outside a trace there
is none."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider

from kernel.tracing import current_traceparent, inject, span_context


def test_outside_a_trace_there_is_no_traceparent() -> None:
    headers: dict[str, str] = {}
    inject(headers)
    assert current_traceparent() is None
    assert headers == {}
    assert span_context(None) is None
    assert span_context("not-a-traceparent") is None


def test_a_stored_traceparent_names_the_span_it_was_taken_in() -> None:
    with TracerProvider().get_tracer("tests").start_as_current_span("request") as span:
        stored = current_traceparent()
        headers: dict[str, str] = {}
        inject(headers)
    assert stored is not None
    assert headers["traceparent"] == stored
    linked = span_context(stored)
    assert linked is not None
    assert linked.trace_id == span.get_span_context().trace_id
    assert linked.span_id == span.get_span_context().span_id
