"""The gateway's one Redis client, for what its replicas share (rate limits, connection
counts; persisted queries next).

It is asked on a request's path, so every call is bounded: a Redis command answers in
well under a millisecond on a local network, and ``TIMEOUT`` seconds pass only in an
outage or a stall (a fork for a snapshot of a large dataset stalls Redis for tens of
milliseconds). No retries either: redis-py's default retries three times with backoff,
which would multiply that bound, and the callers have a better answer than waiting (the
rate limits fall back to the replica's own, ``gateway.security.quotas``). Nothing may
use this client for blocking commands (``XREAD BLOCK``, ``BLPOP``): the timeout would
cut them short.

redis-py is imported only by a gateway that has a Redis: importing it loads its
OpenTelemetry instrumentation and the installed packages' metadata with it, 21 MB of the
gateway's resident memory (the bench gateway's 134 MiB after load), for nothing when each
replica counts for itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis.asyncio as redis

# Seconds a command, or a new connection, may take.
TIMEOUT = 0.25


def shared_redis(url: str) -> redis.Redis:
    """A client of ``url``; the app closes it when it stops."""
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.Redis.from_url(
        url,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def redis_failures() -> tuple[type[BaseException], ...]:
    """What a call to the shared Redis raises when Redis is away or too slow. Called in an
    ``except`` clause, so redis-py is imported only once something was raised."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)
