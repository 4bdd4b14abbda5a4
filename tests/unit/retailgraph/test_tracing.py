"""Tracing is off unless an endpoint is set; the spans go to the endpoint's /v1/traces."""

from __future__ import annotations

from retailgraph.settings import TracingSettings
from retailgraph.tracing import tracer, tracer_provider, traces_url


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracer_provider(TracingSettings(), "gateway") is None
    assert tracer(None) is None


def test_the_spans_go_to_the_collectors_traces_path() -> None:
    assert traces_url(TracingSettings(endpoint="http://collector:4318")) == (
        "http://collector:4318/v1/traces"
    )
    assert traces_url(TracingSettings(endpoint="http://collector:4318/v1/traces/")) == (
        "http://collector:4318/v1/traces"
    )


def test_each_process_is_its_own_service() -> None:
    provider = tracer_provider(TracingSettings(endpoint="http://127.0.0.1:9"), "worker-erp")
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "retailgraph-worker-erp"
    finally:
        provider.shutdown()
