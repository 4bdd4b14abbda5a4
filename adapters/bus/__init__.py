"""The event bus: Redis Streams in production, in-process in the embedded mode."""

from __future__ import annotations

from adapters.bus.consumers import Consumer
from adapters.bus.dedupe import EventInFlight, Idempotent, idempotent
from adapters.bus.inprocess import Bus, Handler, InProcessBus
from adapters.bus.redis_streams import RedisStreamsBus

__all__ = [
    "Bus",
    "Consumer",
    "EventInFlight",
    "Handler",
    "Idempotent",
    "InProcessBus",
    "RedisStreamsBus",
    "idempotent",
]
