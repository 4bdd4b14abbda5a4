"""The OpenTelemetry tracer of a process, when ``[tracing] endpoint`` is set.

Nothing traces unless it is handed a tracer: with tracing off every part gets ``None`` and
makes no span object at all, so the cost is an ``is None`` test per request.
"""

from __future__ import annotations

import atexit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Tracer

from retailgraph.settings import TracingSettings

TRACES_PATH = "/v1/traces"


def tracer_provider(settings: TracingSettings, service: str) -> TracerProvider | None:
    """Spans of ``service`` (``gateway``, ``orders``, ``worker-erp``, ...) exported in
    batches over OTLP/HTTP to the configured collector; None when tracing is off. The
    batch still queued is sent when the process exits."""
    if not settings.endpoint:
        return None
    name = f"{settings.service_prefix}-{service}" if settings.service_prefix else service
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings))))
    atexit.register(provider.shutdown)
    return provider


def traces_url(settings: TracingSettings) -> str:
    """Where the spans are posted: the endpoint's ``/v1/traces``, as the OTLP
    specification builds it from ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
    endpoint = (settings.endpoint or "").rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def tracer(provider: TracerProvider | None) -> Tracer | None:
    return None if provider is None else provider.get_tracer("retailgraph")
