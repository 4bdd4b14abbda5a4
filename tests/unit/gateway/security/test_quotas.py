"""``Quotas`` on fakes: a Redis outage falls back to the replica's own limits and admits
connections uncounted, and a slot that lapsed is counted again when refreshed."""

from __future__ import annotations

import pytest
import redis.asyncio as redis

from gateway.security.clients import ANONYMOUS, Caller, Client
from gateway.security.quotas import UNCOUNTED, Quotas
from gateway.security.ratelimit import (
    Decision,
    LocalConnectionCounter,
    LocalRateLimiter,
    RatePolicy,
)
from kernel.clock import SettableClock
from tests.support import TEST_NOW

POLICY = RatePolicy("shop", quota=2, window=60)
SHOP = Caller(Client("shop", rate_limit=POLICY, max_connections=1, max_subscriptions=1))


class BrokenRedis:
    """Stands for the Redis limiter and counters while Redis is away."""

    calls = 0

    async def decide(self, key: str, policy: RatePolicy, *, cost: int = 1) -> Decision:
        self.calls += 1
        raise redis.ConnectionError("Connection refused")

    async def acquire(self, key: str, connection: str, *, limit: int) -> bool:
        self.calls += 1
        raise redis.TimeoutError("Timeout reading from socket")


def test_a_named_client_spends_its_own_quota_and_anonymous_its_address() -> None:
    quotas = Quotas(
        LocalRateLimiter(SettableClock(TEST_NOW)),
        connections=LocalConnectionCounter(),
        subscriptions=LocalConnectionCounter(),
    )
    anonymous = Caller(Client(ANONYMOUS))
    assert quotas.holder(SHOP, "192.0.2.1", {}) == "shop"
    assert quotas.holder(anonymous, "192.0.2.1", {}) == "anonymous/192.0.2.1"
    # No proxy is trusted: the header is not read.
    forwarded = {"x-forwarded-for": "198.51.100.1"}
    assert quotas.holder(anonymous, "192.0.2.1", forwarded) == "anonymous/192.0.2.1"


async def test_while_redis_is_away_the_replica_limits_on_its_own_and_leaves_redis_alone() -> None:
    broken = BrokenRedis()
    quotas = Quotas(
        LocalRateLimiter(SettableClock(TEST_NOW)),
        shared=broken,  # type: ignore[arg-type]
        connections=broken,  # type: ignore[arg-type]
        subscriptions=broken,  # type: ignore[arg-type]
        refresh_interval=20,
    )
    decisions = [await quotas.charge(POLICY, "shop") for _ in range(3)]
    connection = await quotas.open_connection(SHOP, "shop")

    assert [d.allowed for d in decisions] == [True, True, False]
    assert connection is UNCOUNTED
    assert broken.calls == 1


@pytest.mark.parametrize("kind", ["connection", "subscription"])
async def test_a_slot_is_counted_until_closed(kind: str) -> None:
    counter = LocalConnectionCounter()
    quotas = Quotas(
        LocalRateLimiter(SettableClock(TEST_NOW)), connections=counter, subscriptions=counter
    )
    open_slot = quotas.open_connection if kind == "connection" else quotas.open_subscription
    held = await open_slot(SHOP, "shop")
    refused = await open_slot(SHOP, "shop")
    assert held is not None
    await quotas.close(held)
    again = await open_slot(SHOP, "shop")

    assert refused is None
    assert again is not None
    assert await counter.count("shop") == 1


async def test_a_client_without_caps_is_not_counted() -> None:
    counter = LocalConnectionCounter()
    quotas = Quotas(
        LocalRateLimiter(SettableClock(TEST_NOW)), connections=counter, subscriptions=counter
    )
    free = Caller(Client("free"))
    assert await quotas.open_connection(free, "free") is UNCOUNTED
    assert await counter.count("free") == 0


async def test_a_slot_that_lapsed_is_counted_again_on_refresh() -> None:
    counter = LocalConnectionCounter()
    quotas = Quotas(
        LocalRateLimiter(SettableClock(TEST_NOW)),
        connections=counter,
        subscriptions=LocalConnectionCounter(),
        refresh_interval=20,
    )
    held = await quotas.open_connection(SHOP, "shop")
    assert held is not None
    await counter.release("shop", held.id)  # as if Redis had forgotten it

    await quotas.refresh()

    assert await counter.count("shop") == 1
