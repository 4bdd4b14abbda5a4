from __future__ import annotations

import pytest

from erp.rate_limit import LocalRateLimiter, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_of_its_capacity_then_paces_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, capacity=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)  # waiting callers queue in turn


def test_bucket_refills_over_time_but_never_beyond_its_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, capacity=2, clock=clock)
    bucket.reserve()
    bucket.reserve()
    clock.now += 100.0
    assert [bucket.reserve() for _ in range(2)] == [0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)


def test_bucket_refuses_a_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, capacity=1)


async def test_local_limiter_sleeps_for_the_reserved_wait() -> None:
    clock = Clock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = LocalRateLimiter(rate=5, capacity=1, clock=clock, sleep=sleep)
    for _ in range(3):
        await limiter.acquire()
    assert slept == [pytest.approx(0.2), pytest.approx(0.2)]
