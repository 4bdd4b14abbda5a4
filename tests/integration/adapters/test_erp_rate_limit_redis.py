"""The shared ERP token bucket in Redis: every worker process draws from one bucket."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis

from erp.rate_limit import RedisRateLimiter

pytestmark = pytest.mark.redis


def limiter(client: redis.Redis, key: str) -> RedisRateLimiter:
    return RedisRateLimiter(client, key=key, rate=1.0, capacity=3)


async def test_workers_sharing_a_redis_bucket_share_its_burst_and_rate(
    redis_client: redis.Redis,
) -> None:
    key = f"test:erp-bucket:{uuid.uuid4().hex}"
    first, second = limiter(redis_client, key), limiter(redis_client, key)
    waits = [await first.reserve(), await second.reserve(), await first.reserve()]
    assert waits == [0.0, 0.0, 0.0]  # the burst is shared, not 3 per worker
    fourth, fifth = await second.reserve(), await first.reserve()
    assert 0.0 < fourth <= 1.0
    assert 1.0 < fifth <= 2.0  # callers queue behind each other at the bucket's rate


async def test_buckets_under_other_keys_are_independent(redis_client: redis.Redis) -> None:
    busy = limiter(redis_client, f"test:erp-bucket:{uuid.uuid4().hex}")
    for _ in range(5):
        await busy.reserve()
    idle = limiter(redis_client, f"test:erp-bucket:{uuid.uuid4().hex}")
    assert await idle.reserve() == 0.0


async def test_redis_limiter_sleeps_for_its_reserved_wait(redis_client: redis.Redis) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    shared = RedisRateLimiter(
        redis_client, key=f"test:erp-bucket:{uuid.uuid4().hex}", rate=1.0, capacity=1, sleep=sleep
    )
    await shared.acquire()
    await shared.acquire()
    assert len(slept) == 1
    assert 0.0 < slept[0] <= 1.0
