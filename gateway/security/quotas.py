"""What each client may spend, on every transport: requests per window, and the
connections and subscriptions it holds at once.

The front doors (HTTP, SSE, WebSocket) ask ``Quotas`` after authentication; the limits
themselves are ``ratelimit``'s. Who is counted:

- a configured client, as one, whichever replica, key or token it calls with;
- the anonymous client per address (``addresses``): one scraper spends its own quota, not
  that of every shopper reading the catalogue.

With Redis, every replica counts in it (``shared_quotas``); without, each replica counts
for itself (``local_quotas``).

Redis failing must not take the graph down with it: the limits protect the subgraphs from
one client, and refusing everyone, or making everyone wait, would do that client's harm
for it. So on a Redis error or timeout the replica logs it once and, for the next
``OUTAGE_PAUSE`` seconds, asks Redis nothing: requests are limited by the replica's own
(in-process) limiter, each replica allowing a client its whole quota, and connections and
subscriptions are admitted uncounted. Only the requests in flight when Redis went away
wait, and for at most the Redis client's timeout (``gateway.shared_redis``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.metrics import GatewayMetrics
from gateway.security.addresses import TrustedProxies, caller_address
from gateway.security.clients import ANONYMOUS, Caller
from gateway.security.clock import Clock
from gateway.security.ratelimit import (
    ConnectionCounter,
    Decision,
    LocalConnectionCounter,
    LocalRateLimiter,
    RatePolicy,
    RedisConnectionCounter,
    RedisRateLimiter,
)
from gateway.shared_redis import redis_failures

if TYPE_CHECKING:
    import redis.asyncio as redis

RATE_LIMITED = "RATE_LIMITED"
# Seconds a replica leaves Redis alone after it failed: long enough not to pay a timeout
# per request through an outage, short enough that shared limits come back soon after.
OUTAGE_PAUSE = 5.0

log = logging.getLogger("gateway.quotas")


@dataclass(frozen=True, slots=True)
class Slot:
    """One connection or subscription counted for ``key`` under ``limit``; ``counter``
    None: not counted (no cap, or Redis was away when it opened)."""

    key: str
    id: str
    counter: ConnectionCounter | None = None
    limit: int = 0


UNCOUNTED = Slot("", "")


class Quotas:
    """``local`` limits requests when there is no ``shared`` limiter, or while Redis is
    away. ``refresh_interval``: how often the counted slots are kept alive (Redis), None
    when they need not be. ``metrics`` counts each refusal, whichever front door makes it.
    """

    def __init__(
        self,
        local: LocalRateLimiter,
        *,
        connections: ConnectionCounter,
        subscriptions: ConnectionCounter,
        shared: RedisRateLimiter | None = None,
        refresh_interval: float | None = None,
        trusted_proxies: TrustedProxies | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._local = local
        self._metrics = metrics
        self._trusted = trusted_proxies or TrustedProxies()
        self._shared = shared
        self._connections = connections
        self._subscriptions = subscriptions
        self._refresh_interval = refresh_interval
        # Redis is left alone until this monotonic time, after a failure.
        self._away_until = 0.0
        self._held: dict[str, Slot] = {}
        self._refresher: asyncio.Task[None] | None = None

    def holder(self, caller: Caller, peer: str | None, headers: Mapping[str, str]) -> str:
        """Whose quota a request spends: its client's, or for anonymous, its address's
        (``peer``: the socket's; ``headers`` for ``X-Forwarded-For``). Client names with
        limits are policy names (no ``/``), so the two never collide."""
        if caller.client.name != ANONYMOUS:
            return caller.client.name
        forwarded = headers.get("x-forwarded-for") if self._trusted else None
        return f"{ANONYMOUS}/{caller_address(peer, forwarded, self._trusted)}"

    async def charge(self, policy: RatePolicy, key: str) -> Decision:
        """Spends one request of ``key``'s quota under ``policy`` (its client's)."""
        decision = await self._decide(policy, key)
        if not decision.allowed and self._metrics is not None:
            self._metrics.rate_limited(policy.name, "requests")
        return decision

    async def _decide(self, policy: RatePolicy, key: str) -> Decision:
        if self._shared is not None and time.monotonic() >= self._away_until:
            try:
                return await self._shared.decide(key, policy)
            except redis_failures() as error:
                self._redis_failed(error)
        return await self._local.decide(key, policy)

    async def open_connection(self, caller: Caller, key: str) -> Slot | None:
        """Counts a WebSocket or SSE stream; None when the client holds its most already."""
        slot = await self._acquire(self._connections, key, caller.client.max_connections)
        if slot is None and self._metrics is not None:
            self._metrics.rate_limited(caller.client.name, "connections")
        return slot

    async def open_subscription(self, caller: Caller, key: str) -> Slot | None:
        """Counts a subscription; None when the client runs its most already."""
        slot = await self._acquire(self._subscriptions, key, caller.client.max_subscriptions)
        if slot is None and self._metrics is not None:
            self._metrics.rate_limited(caller.client.name, "subscriptions")
        return slot

    async def close(self, slot: Slot) -> None:
        """Stops counting ``slot``; if Redis cannot be told, the slot lapses on its own."""
        if slot.counter is None:
            return
        self._held.pop(slot.id, None)
        try:
            await slot.counter.release(slot.key, slot.id)
        except redis_failures() as error:
            self._redis_failed(error)

    async def _acquire(
        self, counter: ConnectionCounter, key: str, limit: int | None
    ) -> Slot | None:
        if limit is None:
            return UNCOUNTED
        if time.monotonic() < self._away_until:
            return UNCOUNTED  # only ever set with Redis: see the module's docstring
        slot = Slot(key, uuid.uuid4().hex, counter, limit)
        try:
            if not await counter.acquire(key, slot.id, limit=limit):
                return None
        except redis_failures() as error:
            self._redis_failed(error)
            return UNCOUNTED
        self._held[slot.id] = slot
        return slot

    def start(self) -> None:
        """Keeps this replica's slots counted while they are open (Redis only)."""
        if self._refresh_interval is not None and self._refresher is None:
            self._refresher = asyncio.create_task(self._refresh_forever(self._refresh_interval))

    async def aclose(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None

    async def _refresh_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.refresh()

    async def refresh(self) -> None:
        """Tells the counters that every slot held here is still open. A slot that lapsed
        (Redis restarted, a refresh was missed) is counted again, within its limit if it
        can be; the connection stays open either way."""
        for slot in list(self._held.values()):
            if slot.counter is None or time.monotonic() < self._away_until:
                return
            try:
                if not await slot.counter.refresh(slot.key, slot.id):
                    await slot.counter.acquire(slot.key, slot.id, limit=slot.limit)
            except redis_failures() as error:
                self._redis_failed(error)

    def _redis_failed(self, error: BaseException) -> None:
        now = time.monotonic()
        if now >= self._away_until:
            log.warning(
                "Redis is unreachable for rate limits (%s: %s); for %.0f seconds each "
                "replica limits requests on its own and counts no connections",
                type(error).__name__,
                error,
                OUTAGE_PAUSE,
            )
        self._away_until = now + OUTAGE_PAUSE


def local_quotas(
    clock: Clock,
    trusted_proxies: TrustedProxies | None = None,
    metrics: GatewayMetrics | None = None,
) -> Quotas:
    """Each replica counts for itself (no Redis)."""
    return Quotas(
        LocalRateLimiter(clock),
        connections=LocalConnectionCounter(),
        subscriptions=LocalConnectionCounter(),
        trusted_proxies=trusted_proxies,
        metrics=metrics,
    )


def shared_quotas(
    clock: Clock,
    client: redis.Redis,
    prefix: str = "rg",
    trusted_proxies: TrustedProxies | None = None,
    metrics: GatewayMetrics | None = None,
) -> Quotas:
    """Every replica on ``client``'s Redis and ``prefix`` counts together."""
    connections = RedisConnectionCounter(client, f"{prefix}:connections")
    return Quotas(
        LocalRateLimiter(clock),
        shared=RedisRateLimiter(client, f"{prefix}:ratelimit"),
        connections=connections,
        subscriptions=RedisConnectionCounter(client, f"{prefix}:subscriptions"),
        refresh_interval=connections.refresh_interval,
        trusted_proxies=trusted_proxies,
        metrics=metrics,
    )
