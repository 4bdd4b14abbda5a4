"""How a failed post is retried, and when it is given up (dead-lettered); free of I/O."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.postings import PostingStatus


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; dead-letter after ``max_attempts``."""

    base_delay: float = 1.0
    max_delay: float = 300.0
    max_attempts: int = 10

    def ceiling(self, attempts: int) -> float:
        """The upper bound of the wait after the ``attempts``-th failed attempt."""
        exponent = min(max(attempts - 1, 0), 60)  # 2**60 seconds is past any cap
        return float(min(self.max_delay, self.base_delay * 2**exponent))

    def delay(self, attempts: int, draw: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, ceiling), so retrying workers spread out instead of
        hammering a recovering ERP together. ``draw`` gives a number in [0, 1)."""
        return self.ceiling(attempts) * draw()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: PostingStatus
    next_attempt_at: datetime | None
    last_error: str
    # False when the attempt is not held against the posting (see ``after_failure``).
    charged: bool = True


def after_failure(
    policy: RetryPolicy,
    *,
    attempts: int,
    error: str,
    retryable: bool,
    now: datetime,
    retry_after: float | None = None,
    probe: bool = False,
    draw: Callable[[], float] = random.random,
) -> Outcome:
    """What a failed attempt leads to. ``attempts`` counts this one.

    A refusal for good (not retryable) is dead-lettered at once: retrying it only delays
    the operator who must fix it. The ERP's own ``retry_after`` is a floor on the wait.
    A ``probe`` (the one call a half-open breaker lets through during an outage) that
    fails transiently is not held against its posting: otherwise a long outage would
    dead-letter the oldest orders one probe at a time, though nothing is wrong with them.
    """
    if not retryable:
        return Outcome(PostingStatus.DEAD_LETTERED, None, error)
    charged = not probe
    if charged and attempts >= policy.max_attempts:
        return Outcome(PostingStatus.DEAD_LETTERED, None, error)
    wait = policy.delay(attempts if charged else max(attempts - 1, 1), draw)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return Outcome(PostingStatus.PENDING, now + timedelta(seconds=wait), error, charged)
