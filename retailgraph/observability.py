"""What a process sets up first so that it can be watched: its log lines and its tracer."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.trace import Tracer

from retailgraph.logs import configure_logging
from retailgraph.settings import LogFormat, LoggingSettings, Settings, TracingSettings

# ``retailgraph run`` is read by a person at a terminal; every other process by a collector.
RUN_FORMAT: LogFormat = "console"
SERVICE_FORMAT: LogFormat = "json"


@dataclass(frozen=True)
class Observed:
    """Sets up one process's logs and tracer for ``service`` (``gateway``, ``orders``,
    ``worker-erp``, ...). Plain data, so that it travels pickled to each worker process of
    ``retailgraph gateway --workers N``, which calls it again."""

    logging: LoggingSettings
    tracing: TracingSettings
    service: str
    default_format: LogFormat = SERVICE_FORMAT

    @classmethod
    def of(
        cls, settings: Settings, service: str, default_format: LogFormat = SERVICE_FORMAT
    ) -> Observed:
        return cls(settings.logging, settings.tracing, service, default_format)

    def __call__(self) -> Tracer | None:
        """The process's tracer, None when tracing is off."""
        traced = bool(self.tracing.endpoint)
        configure_logging(self.logging, default_format=self.default_format, traced=traced)
        if not traced:
            return None
        # The OpenTelemetry SDK and its OTLP exporter (protobuf) are loaded only by a
        # process that traces.
        from retailgraph.tracing import tracer, tracer_provider

        return tracer(tracer_provider(self.tracing, self.service))
