"""Per-client rate limits in one gateway process, and the RateLimit headers a client reads.

Time is a ``SettableClock`` standing still: only the test moves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.security.ratelimit import (
    MAX_KEY_BYTES,
    Decision,
    LocalConnectionCounter,
    LocalRateLimiter,
    RatePolicy,
    client_key,
    ratelimit_headers,
)
from kernel.clock import SettableClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Five requests per ten seconds: the quota comes back one request every two seconds.
FIVE_PER_TEN = RatePolicy("shop", quota=5, window=10)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture
def limiter(clock: SettableClock) -> LocalRateLimiter:
    return LocalRateLimiter(clock)


async def spend(limiter: LocalRateLimiter, key: str, policy: RatePolicy, n: int) -> list[bool]:
    return [(await limiter.decide(key, policy)).allowed for _ in range(n)]


async def test_a_client_may_spend_its_whole_quota_at_once_and_is_then_refused(
    limiter: LocalRateLimiter,
) -> None:
    assert await spend(limiter, "shop-1", FIVE_PER_TEN, 5) == [True] * 5
    refused = await limiter.decide("shop-1", FIVE_PER_TEN)
    assert refused == Decision(allowed=False, remaining=0, reset_after=2.0, retry_after=2.0)


async def test_waiting_the_retry_after_lets_exactly_one_more_request_through(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    refused = await limiter.decide("shop-1", FIVE_PER_TEN)
    assert refused.retry_after is not None
    clock.advance(timedelta(seconds=refused.retry_after))
    assert await spend(limiter, "shop-1", FIVE_PER_TEN, 2) == [True, False]


async def test_waiting_less_than_the_retry_after_is_still_refused(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    clock.advance(timedelta(seconds=1.9))
    again = await limiter.decide("shop-1", FIVE_PER_TEN)
    assert not again.allowed
    assert again.retry_after == pytest.approx(0.1)


async def test_the_quota_comes_back_at_quota_per_window(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    clock.advance(timedelta(seconds=6))  # three intervals of two seconds
    assert await spend(limiter, "shop-1", FIVE_PER_TEN, 4) == [True, True, True, False]


async def test_an_idle_client_gets_back_no_more_than_its_quota(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    clock.advance(timedelta(hours=1))
    assert await spend(limiter, "shop-1", FIVE_PER_TEN, 6) == [True] * 5 + [False]


async def test_remaining_counts_down_as_the_client_spends(limiter: LocalRateLimiter) -> None:
    remaining = [(await limiter.decide("shop-1", FIVE_PER_TEN)).remaining for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]


async def test_clients_do_not_share_a_limit(limiter: LocalRateLimiter) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 6)
    assert await spend(limiter, "shop-2", FIVE_PER_TEN, 5) == [True] * 5


async def test_policies_do_not_share_a_clients_count(limiter: LocalRateLimiter) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    mutations = RatePolicy("mutations", quota=5, window=10)
    assert (await limiter.decide("shop-1", mutations)).allowed


async def test_a_costly_request_spends_more_of_the_quota(limiter: LocalRateLimiter) -> None:
    costly = await limiter.decide("shop-1", FIVE_PER_TEN, cost=3)
    assert (costly.allowed, costly.remaining) == (True, 2)
    too_costly = await limiter.decide("shop-1", FIVE_PER_TEN, cost=3)
    assert (too_costly.allowed, too_costly.remaining) == (False, 2)
    assert too_costly.retry_after == pytest.approx(2.0)  # one more unit must come back
    assert (await limiter.decide("shop-1", FIVE_PER_TEN, cost=2)).allowed


async def test_a_refused_request_is_not_charged(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    await spend(limiter, "shop-1", FIVE_PER_TEN, 5)
    await spend(limiter, "shop-1", FIVE_PER_TEN, 10)  # all refused
    clock.advance(timedelta(seconds=2))
    assert (await limiter.decide("shop-1", FIVE_PER_TEN)).allowed


async def test_a_request_costing_more_than_the_quota_is_refused_without_a_retry_after(
    limiter: LocalRateLimiter,
) -> None:
    decision = await limiter.decide("shop-1", FIVE_PER_TEN, cost=6)
    assert decision == Decision(allowed=False, remaining=5, reset_after=0.0, retry_after=None)
    assert "Retry-After" not in ratelimit_headers(FIVE_PER_TEN, decision)
    assert (await limiter.decide("shop-1", FIVE_PER_TEN)).remaining == 4  # nothing charged


async def test_a_request_costs_at_least_one_unit(limiter: LocalRateLimiter) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await limiter.decide("shop-1", FIVE_PER_TEN, cost=0)


async def test_a_flood_of_new_clients_cannot_grow_the_store_past_its_cap(
    clock: SettableClock,
) -> None:
    limiter = LocalRateLimiter(clock, max_clients=8)
    for n in range(100):
        await limiter.decide(f"scraper-{n}", FIVE_PER_TEN)
        assert len(limiter) <= 8


async def test_clients_whose_quota_is_whole_again_are_forgotten_before_active_ones(
    clock: SettableClock,
) -> None:
    limiter = LocalRateLimiter(clock, max_clients=4)
    one_per_ten = RatePolicy("strict", quota=1, window=10)
    for n in range(2):
        await limiter.decide(f"idle-{n}", one_per_ten)
    clock.advance(timedelta(seconds=10))  # the idle clients' quotas are whole again
    for n in range(2):
        await limiter.decide(f"busy-{n}", one_per_ten)
    await limiter.decide("newcomer", one_per_ten)
    assert len(limiter) == 3
    for n in range(2):  # the busy clients were remembered: still limited
        assert not (await limiter.decide(f"busy-{n}", one_per_ten)).allowed


async def test_a_very_long_client_key_is_kept_as_a_short_digest(
    limiter: LocalRateLimiter,
) -> None:
    long_key, other_long_key = "x" * 10_000 + "a", "x" * 10_000 + "b"
    assert len(client_key(long_key)) <= MAX_KEY_BYTES
    await spend(limiter, long_key, FIVE_PER_TEN, 5)
    assert not (await limiter.decide(long_key, FIVE_PER_TEN)).allowed
    assert (await limiter.decide(other_long_key, FIVE_PER_TEN)).allowed


def test_a_client_cannot_pick_a_key_that_collides_with_another_clients_digest() -> None:
    long_key = "y" * 1_000
    assert client_key(client_key(long_key)) != client_key(long_key)
    assert client_key(client_key(long_key)[2:]) != client_key(long_key)


@pytest.mark.parametrize(
    ("name", "quota", "window", "message"),
    [
        ("", 10, 60, "name"),
        ("per:client", 10, 60, "name"),
        ('say "hi"', 10, 60, "name"),
        ("default", 0, 60, "quota"),
        ("default", 10, 0, "window"),
        ("default", 10, float("inf"), "window"),
    ],
)
def test_a_policy_that_could_not_be_enforced_or_announced_is_refused(
    name: str, quota: int, window: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        RatePolicy(name, quota=quota, window=window)


# --- The headers, as draft-ietf-httpapi-ratelimit-headers-10 writes them.


async def test_an_allowed_response_announces_the_policy_and_what_is_left(
    limiter: LocalRateLimiter,
) -> None:
    policy = RatePolicy("default", quota=100, window=60)
    for _ in range(58):
        decision = await limiter.decide("shop-1", policy)
    assert ratelimit_headers(policy, decision) == {
        "RateLimit-Policy": '"default";q=100;w=60',
        "RateLimit": '"default";r=42;t=1',
    }


async def test_t_is_the_wait_until_more_quota_is_available_in_whole_seconds(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    policy = RatePolicy("hourly", quota=2, window=3600)  # one back every 30 minutes
    await limiter.decide("partner-7", policy)
    clock.advance(timedelta(seconds=0.5))
    decision = await limiter.decide("partner-7", policy)
    assert ratelimit_headers(policy, decision)["RateLimit"] == '"hourly";r=0;t=1800'


async def test_a_refusal_adds_a_retry_after_rounded_up_and_not_before_t(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    policy = RatePolicy("default", quota=100, window=60)  # one back every 0.6 seconds
    await spend(limiter, "shop-1", policy, 100)
    clock.advance(timedelta(seconds=0.1))
    refused = await limiter.decide("shop-1", policy)
    assert refused.retry_after == 0.5
    assert ratelimit_headers(policy, refused) == {
        "RateLimit-Policy": '"default";q=100;w=60',
        "RateLimit": '"default";r=0;t=1',
        "Retry-After": "1",
    }


async def test_exact_waits_stay_exact_after_many_requests(
    limiter: LocalRateLimiter, clock: SettableClock
) -> None:
    # Time is kept in whole microseconds: a thousand requests leave no rounding drift.
    policy = RatePolicy("default", quota=1000, window=3)
    await spend(limiter, "shop-1", policy, 1000)
    refused = await limiter.decide("shop-1", policy)
    assert refused.retry_after == 0.003
    clock.advance(timedelta(seconds=1.5))
    assert await spend(limiter, "shop-1", policy, 501) == [True] * 500 + [False]


def test_a_window_of_a_fraction_of_a_second_is_not_announced() -> None:
    # The draft's "w" is whole seconds, and optional: better absent than wrong.
    policy = RatePolicy("burst", quota=10, window=0.5)
    decision = Decision(allowed=True, remaining=9, reset_after=0.05, retry_after=None)
    assert ratelimit_headers(policy, decision) == {
        "RateLimit-Policy": '"burst";q=10',
        "RateLimit": '"burst";r=9;t=1',
    }


def test_a_client_with_its_whole_quota_is_told_t_0() -> None:
    policy = RatePolicy("default", quota=10, window=60)
    whole = Decision(allowed=True, remaining=10, reset_after=0.0, retry_after=None)
    assert ratelimit_headers(policy, whole)["RateLimit"] == '"default";r=10;t=0'


# --- Long-lived connections in one process.


async def test_a_client_may_hold_up_to_its_limit_of_connections() -> None:
    counter = LocalConnectionCounter()
    held = [await counter.acquire("shop-1", f"ws-{n}", limit=3) for n in range(4)]
    assert held == [True, True, True, False]
    assert await counter.count("shop-1") == 3


async def test_closing_a_connection_frees_its_place() -> None:
    counter = LocalConnectionCounter()
    for n in range(3):
        await counter.acquire("shop-1", f"ws-{n}", limit=3)
    await counter.release("shop-1", "ws-1")
    assert await counter.acquire("shop-1", "ws-3", limit=3)
    assert not await counter.refresh("shop-1", "ws-1")
    assert await counter.refresh("shop-1", "ws-3")


async def test_a_connection_counted_twice_takes_one_place() -> None:
    counter = LocalConnectionCounter()
    assert await counter.acquire("shop-1", "ws-0", limit=2)
    assert await counter.acquire("shop-1", "ws-0", limit=2)
    assert await counter.acquire("shop-1", "ws-1", limit=2)
    assert await counter.count("shop-1") == 2


async def test_connections_of_different_clients_are_counted_apart() -> None:
    counter = LocalConnectionCounter()
    assert await counter.acquire("shop-1", "ws-0", limit=1)
    assert await counter.acquire("shop-2", "ws-0", limit=1)
    await counter.release("shop-1", "ws-0")
    await counter.release("shop-1", "ws-0")  # closing twice is harmless
    assert (await counter.count("shop-1"), await counter.count("shop-2")) == (0, 1)


async def test_a_connection_limit_below_one_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await LocalConnectionCounter().acquire("shop-1", "ws-0", limit=0)
