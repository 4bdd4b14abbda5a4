"""Per-client limits kept in Redis: every gateway replica enforces one limit between them.

Each replica is its own Redis client; each test uses its own key prefix. The limiter reads
Redis's clock, so the tests wait real (short) time where the quota must come back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from gateway.security.ratelimit import (
    MAX_KEY_BYTES,
    LocalRateLimiter,
    RatePolicy,
    RedisConnectionCounter,
    RedisRateLimiter,
)
from kernel.clock import SettableClock
from tests.services import require_redis
from tests.support import TEST_NOW

pytestmark = pytest.mark.redis

# A quota that does not come back while a test runs: one request every 6 seconds.
TEN_PER_MINUTE = RatePolicy("graph", quota=10, window=60)


@pytest.fixture
def prefix() -> str:
    return f"test:ratelimit:{uuid.uuid4().hex}"


@pytest.fixture
async def other_replica() -> AsyncIterator[redis.Redis]:
    """A second gateway replica's own connection to the same Redis."""
    client = redis.Redis.from_url(require_redis())
    yield client
    await client.aclose()


async def test_replicas_share_a_clients_limit(
    redis_client: redis.Redis, other_replica: redis.Redis, prefix: str
) -> None:
    replicas = [RedisRateLimiter(redis_client, prefix), RedisRateLimiter(other_replica, prefix)]
    burst = await asyncio.gather(
        *(replicas[n % 2].decide("shop-1", TEN_PER_MINUTE) for n in range(25))
    )
    assert sum(decision.allowed for decision in burst) == 10
    assert sorted(decision.remaining for decision in burst if decision.allowed) == list(range(10))
    refused = [decision for decision in burst if not decision.allowed]
    assert len(refused) == 15
    assert all(d.retry_after is not None and 0 < d.retry_after <= 6 for d in refused)


async def test_clients_do_not_share_a_limit(redis_client: redis.Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, prefix)
    for _ in range(11):
        await limiter.decide("shop-1", TEN_PER_MINUTE)
    assert (await limiter.decide("shop-2", TEN_PER_MINUTE)).remaining == 9


async def test_a_costly_request_spends_more_of_the_quota(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix)
    costly = await limiter.decide("shop-1", TEN_PER_MINUTE, cost=7)
    assert (costly.allowed, costly.remaining) == (True, 3)
    too_costly = await limiter.decide("shop-1", TEN_PER_MINUTE, cost=4)
    assert (too_costly.allowed, too_costly.remaining) == (False, 3)
    assert (await limiter.decide("shop-1", TEN_PER_MINUTE, cost=3)).allowed
    beyond = await limiter.decide("shop-2", TEN_PER_MINUTE, cost=11)
    assert (beyond.allowed, beyond.retry_after) == (False, None)


async def test_waiting_the_retry_after_lets_exactly_one_more_request_through(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix)
    policy = RatePolicy("graph", quota=5, window=2)  # one back every 0.4 seconds
    assert [(await limiter.decide("shop-1", policy)).allowed for _ in range(5)] == [True] * 5
    refused = await limiter.decide("shop-1", policy)
    assert not refused.allowed
    assert refused.retry_after is not None
    await asyncio.sleep(refused.retry_after)
    assert [(await limiter.decide("shop-1", policy)).allowed for _ in range(2)] == [True, False]


async def test_the_quota_comes_back_at_quota_per_window(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix)
    policy = RatePolicy("graph", quota=10, window=4)  # one back every 0.4 seconds
    for _ in range(10):
        await limiter.decide("shop-1", policy)
    await asyncio.sleep(1.0)  # two back, the third due at 1.2
    assert [(await limiter.decide("shop-1", policy)).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]


async def test_redis_and_the_process_decide_alike(redis_client: redis.Redis, prefix: str) -> None:
    shared = RedisRateLimiter(redis_client, prefix)
    local = LocalRateLimiter(SettableClock(TEST_NOW))
    costs = [1, 3, 2, 5, 1, 1, 12, 2]
    in_redis = [await shared.decide("shop-1", TEN_PER_MINUTE, cost=c) for c in costs]
    in_process = [await local.decide("shop-1", TEN_PER_MINUTE, cost=c) for c in costs]
    assert [(d.allowed, d.remaining) for d in in_redis] == [
        (d.allowed, d.remaining) for d in in_process
    ]


async def test_a_clients_state_is_one_short_key_that_lapses_when_its_quota_is_whole(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, prefix)
    long_key = "partner:" + "x" * 10_000
    await limiter.decide(long_key, TEN_PER_MINUTE, cost=2)
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    assert keys == [limiter.storage_key(long_key, TEN_PER_MINUTE).encode()]
    assert len(keys[0]) <= len(prefix) + len(":graph:") + MAX_KEY_BYTES
    assert 11_000 < await redis_client.pttl(keys[0]) <= 12_000  # two units, 6 s each


# --- Long-lived connections across replicas.


async def test_replicas_share_a_clients_connection_limit(
    redis_client: redis.Redis, other_replica: redis.Redis, prefix: str
) -> None:
    first = RedisConnectionCounter(redis_client, prefix)
    second = RedisConnectionCounter(other_replica, prefix)
    assert await first.acquire("shop-1", "ws-a", limit=3)
    assert await second.acquire("shop-1", "ws-b", limit=3)
    assert await first.acquire("shop-1", "ws-c", limit=3)
    assert not await second.acquire("shop-1", "ws-d", limit=3)
    assert await second.acquire("shop-2", "ws-e", limit=3)  # another client's own count
    await first.release("shop-1", "ws-a")
    assert await second.acquire("shop-1", "ws-d", limit=3)
    assert await first.count("shop-1") == 3


async def test_a_connection_counted_twice_takes_one_place(
    redis_client: redis.Redis, prefix: str
) -> None:
    counter = RedisConnectionCounter(redis_client, prefix)
    assert await counter.acquire("shop-1", "ws-a", limit=2)
    assert await counter.acquire("shop-1", "ws-a", limit=2)
    assert await counter.acquire("shop-1", "ws-b", limit=2)
    assert await counter.count("shop-1") == 2


async def test_the_connections_of_a_replica_that_vanished_lapse(
    redis_client: redis.Redis, other_replica: redis.Redis, prefix: str
) -> None:
    crashed = RedisConnectionCounter(redis_client, prefix, ttl=0.3)
    alive = RedisConnectionCounter(other_replica, prefix, ttl=0.3)
    assert await crashed.acquire("shop-1", "ws-lost", limit=2)
    assert await alive.acquire("shop-1", "ws-kept", limit=2)
    assert not await alive.acquire("shop-1", "ws-new", limit=2)
    for _ in range(4):  # the live replica refreshes its connection; the crashed one cannot
        await asyncio.sleep(alive.refresh_interval)
        assert await alive.refresh("shop-1", "ws-kept")
    assert await alive.acquire("shop-1", "ws-new", limit=2)
    assert not await crashed.refresh("shop-1", "ws-lost")  # it has lost its place


async def test_a_client_with_no_connections_leaves_nothing_in_redis(
    redis_client: redis.Redis, prefix: str
) -> None:
    counter = RedisConnectionCounter(redis_client, prefix, ttl=30)
    await counter.acquire("shop-1", "ws-a", limit=1)
    assert 29_000 < await redis_client.pttl(counter.storage_key("shop-1")) <= 30_000
    await counter.release("shop-1", "ws-a")
    assert not await redis_client.exists(counter.storage_key("shop-1"))
