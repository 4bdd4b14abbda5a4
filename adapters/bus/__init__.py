"""The event bus: Redis Streams in production, in-process in the embedded mode."""

from __future__ import annotations

import os

import redis.asyncio as redis

from adapters.bus.dedupe import EventInFlight, Idempotent, idempotent
from adapters.bus.inprocess import Bus, Handler, InProcessBus
from adapters.bus.redis_streams import RedisStreamsBus


def bus_from_env() -> Bus:
    """Redis Streams when ``REDIS_URL`` is set, otherwise the in-process bus."""
    url = os.environ.get("REDIS_URL")
    if url:
        return RedisStreamsBus(redis.Redis.from_url(url))
    return InProcessBus()


__all__ = [
    "Bus",
    "EventInFlight",
    "Handler",
    "Idempotent",
    "InProcessBus",
    "RedisStreamsBus",
    "bus_from_env",
    "idempotent",
]
