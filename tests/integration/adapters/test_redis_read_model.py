"""On real Redis, replicas share cached values and only one refreshes a stale entry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import redis.asyncio as redis

from adapters.cache import ReadModel, RedisStore
from tests.support import suite_clock


async def test_read_models_on_two_replicas_share_one_redis(redis_client: redis.Redis) -> None:
    name = f"test-{uuid.uuid4().hex}"
    loads: list[str] = []

    async def load(keys: Sequence[str]) -> dict[str, str]:
        loads.extend(keys)
        await asyncio.sleep(0.01)
        return {k: k.upper() for k in keys}

    replica_a = ReadModel(RedisStore(redis_client), name, load, clock=suite_clock())
    replica_b = ReadModel(RedisStore(redis_client), name, load, clock=suite_clock())
    assert await replica_a.get_many(["x", "y"]) == ["X", "Y"]
    assert await replica_b.get_many(["y", "x"]) == ["Y", "X"]
    assert sorted(loads) == ["x", "y"]
    await replica_b.invalidate(["x"])
    assert await replica_a.get("x") == "X"
    assert sorted(loads) == ["x", "x", "y"]
    # fresh for 30 s plus up to 10% jitter, then served stale for 30 s more
    assert 60_000 <= await redis_client.pttl(replica_a.key("x")) + 1000 <= 64_000
