"""Token buckets that keep our calls to the ERP under the rate it can bear.

``rate`` tokens per second refill a bucket of ``capacity`` (the burst); a call takes one
token, or waits until there is one. Tokens are reserved (the count may go below zero),
so waiting callers are served in turn instead of racing for each new token.

Scope: ``LocalRateLimiter`` limits one process. With several worker processes the ERP
sees the sum, so with ``REDIS_URL`` set ``RedisRateLimiter`` keeps one bucket in Redis
for every worker: the limit is then what the ERP receives in total.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


class TokenBucket:
    """The bucket's arithmetic, on an injected clock (seconds)."""

    def __init__(
        self, *, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("A token bucket needs a positive rate and a capacity of 1 or more")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def reserve(self) -> float:
        """Takes a token; returns how many seconds the caller must wait before using it."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class LocalRateLimiter:
    def __init__(
        self,
        *,
        rate: float,
        capacity: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bucket = TokenBucket(rate=rate, capacity=capacity, clock=clock)
        self._sleep = sleep
        # One caller waits for its token at a time. Were every caller to reserve a slot and
        # sleep, a busy event loop would wake them all at once after a stall, and the ERP
        # would see them together (a flash sale in the embedded shape showed 6 posts in
        # 0.44 s at 5 a second); in turn, a stall costs at most the bucket's burst.
        self._turn = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._turn:
            wait = self.bucket.reserve()
            if wait > 0:
                await self._sleep(wait)


# The same arithmetic as TokenBucket.reserve, on Redis's clock, atomically for every
# process sharing the key. The wait comes back as a string: Lua numbers become integers.
_RESERVE = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 60)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


class RedisRateLimiter:
    def __init__(
        self,
        client: Any,
        *,
        key: str,
        rate: float,
        capacity: float,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("A token bucket needs a positive rate and a capacity of 1 or more")
        self._client = client
        self._script = client.register_script(_RESERVE)
        self.key = key
        self.rate = rate
        self.capacity = capacity
        self._sleep = sleep

    async def reserve(self) -> float:
        answer = await self._script(keys=[self.key], args=[self.rate, self.capacity])
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    async def acquire(self) -> None:
        wait = await self.reserve()
        if wait > 0:
            await self._sleep(wait)

    async def close(self) -> None:
        """Closes the Redis client (for a limiter that owns it, as a worker process's does)."""
        await self._client.aclose()
