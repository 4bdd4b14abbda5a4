"""Gateway replicas on one Redis enforce one rate limit between them, not one each.

Each replica is its own app with its own Redis client, built as ``retailgraph gateway``
builds it; each test counts under a key prefix of its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest
import redis.asyncio as redis

from kernel.clock import SettableClock
from tests.e2e.gateway.test_rate_limits import QUERY, SHOP, gateway, settings
from tests.services import require_redis
from tests.support import TEST_NOW

pytestmark = pytest.mark.redis


async def test_a_burst_split_across_two_replicas_gets_exactly_the_quota(
    redis_client: redis.Redis,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    chosen = settings(redis_prefix=prefix)
    clock = SettableClock(TEST_NOW)  # not read: Redis keeps the time
    url = require_redis()
    async with (
        gateway(chosen, clock, redis_url=url) as replica_a,
        gateway(chosen, clock, redis_url=url) as replica_b,
    ):
        burst = await asyncio.gather(
            *(
                (replica_a, replica_b)[n % 2].post("/graphql", json=QUERY, headers=SHOP)
                for n in range(10)
            )
        )

    statuses = sorted(answer.status_code for answer in burst)
    assert statuses == [200] * 3 + [429] * 7
    remaining = sorted(answer.headers["ratelimit"] for answer in burst if answer.status_code == 200)
    assert remaining == ['"shop";r=0;t=20', '"shop";r=1;t=20', '"shop";r=2;t=20']
    refused = [answer for answer in burst if answer.status_code == 429]
    assert all(
        answer.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED" for answer in refused
    )
    assert all(1 <= int(answer.headers["retry-after"]) <= 20 for answer in refused)
    assert await redis_client.exists(f"{prefix}:ratelimit:shop:k:shop") == 1
    await redis_client.delete(f"{prefix}:ratelimit:shop:k:shop")


async def test_a_document_registered_by_apq_on_one_replica_runs_by_its_hash_on_another(
    redis_client: redis.Redis,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    query = f"query Shared{uuid.uuid4().hex} {{ products {{ sku }} }}"
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    chosen = settings(redis_prefix=prefix)
    url = require_redis()
    async with (
        gateway(chosen, SettableClock(TEST_NOW), redis_url=url) as replica_a,
        gateway(chosen, SettableClock(TEST_NOW), redis_url=url) as replica_b,
    ):
        registered = await replica_a.post("/graphql", json={"query": query, **by_hash})
        found = await replica_b.post("/graphql", json=by_hash)

    assert registered.json() == found.json()
    assert "errors" not in found.json()
    assert await redis_client.exists(f"{prefix}:apq:{sha256}") == 1
    await redis_client.delete(f"{prefix}:apq:{sha256}", *await redis_client.keys(f"{prefix}:*"))
