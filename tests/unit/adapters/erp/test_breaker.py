from __future__ import annotations

from erp.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_timeout=10.0, clock=clock)


def test_breaker_opens_after_the_threshold_of_consecutive_failures() -> None:
    clock = Clock()
    guard = breaker(clock)
    guard.record_failure()
    guard.record_failure()
    assert guard.state is BreakerState.CLOSED
    assert guard.permits(4) == 4
    guard.record_failure()
    assert guard.state is BreakerState.OPEN
    assert guard.permits(4) == 0
    assert guard.retry_in() == 10.0


def test_breaker_success_resets_the_failure_count() -> None:
    guard = breaker(Clock())
    guard.record_failure()
    guard.record_failure()
    guard.record_success()
    guard.record_failure()
    assert guard.state is BreakerState.CLOSED


def test_breaker_lets_one_probe_through_when_half_open() -> None:
    clock = Clock()
    guard = breaker(clock)
    for _ in range(3):
        guard.record_failure()
    clock.now += 10.0
    assert guard.state is BreakerState.HALF_OPEN
    assert guard.permits(4) == 1
    assert guard.permits(4) == 0  # the probe is still out


def test_breaker_closes_when_the_probe_succeeds() -> None:
    clock = Clock()
    guard = breaker(clock)
    for _ in range(3):
        guard.record_failure()
    clock.now += 10.0
    guard.permits(1)
    guard.record_success()
    assert guard.state is BreakerState.CLOSED
    assert guard.permits(4) == 4


def test_breaker_reopens_for_a_full_timeout_when_the_probe_fails() -> None:
    clock = Clock()
    guard = breaker(clock)
    for _ in range(3):
        guard.record_failure()
    clock.now += 10.0
    guard.permits(1)
    guard.record_failure()
    assert guard.state is BreakerState.OPEN
    assert guard.retry_in() == 10.0


def test_breaker_unused_probe_can_be_taken_again() -> None:
    clock = Clock()
    guard = breaker(clock)
    for _ in range(3):
        guard.record_failure()
    clock.now += 10.0
    assert guard.permits(1) == 1
    guard.abandon_probe()
    assert guard.permits(1) == 1
