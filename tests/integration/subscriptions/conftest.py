"""Every subscription test runs on both buses: in-process (embedded) and Redis Streams."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from adapters.bus import InProcessBus, RedisStreamsBus
from adapters.cache import MemoryStore, RedisStore
from adapters.runtime import Runtime
from tests.services import require_redis
from tests.support import suite_clock

RuntimeFactory = Callable[..., Runtime]


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
async def make_runtime(request: pytest.FixtureRequest) -> AsyncIterator[RuntimeFactory]:
    """Makes runtimes (replicas) on one bus: one random stream family on Redis, short
    timings; or a fresh in-process bus (a single process, so every runtime shares it)."""
    runtimes: list[Runtime] = []
    clients: list[redis.Redis] = []
    prefix = f"test-subs-{uuid.uuid4().hex}"
    shared_bus, shared_cache = InProcessBus(), MemoryStore()

    def make(*, migrate_on_start: bool = True) -> Runtime:
        if request.param == "inprocess":
            runtime = Runtime(
                bus=shared_bus,
                cache=shared_cache,
                migrate_on_start=migrate_on_start,
                clock=suite_clock(),
            )
        else:
            client = redis.Redis.from_url(require_redis())
            clients.append(client)
            bus = RedisStreamsBus(client, prefix=prefix, shards=4, block=0.05, lease=0.3)
            runtime = Runtime(
                bus=bus,
                cache=RedisStore(client, prefix=f"{prefix}:"),
                migrate_on_start=migrate_on_start,
                clock=suite_clock(),
            )
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        await runtime.close()
    for client in clients:
        await client.aclose()
