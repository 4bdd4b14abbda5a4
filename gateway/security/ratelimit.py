"""Per-client rate limits, shared by every gateway replica, and what we tell the client.

A retailer's graph is called by its shops, stores and partners; one of them looping or
scraping must not take the graph from the others. Each client gets a quota per window
(``RatePolicy``: 100 requests a minute, say) and may spend the whole quota at once, then
earns it back evenly: a request every ``window / quota`` seconds. That is the generic cell
rate algorithm (GCRA): per client it keeps a single timestamp, the moment the client's
quota would be whole again, so a check is one read and one write, and there is no window
edge where a client can spend two quotas back to back.

Where the limit lives:

- ``RedisRateLimiter`` keeps every client's state in Redis, so the replicas behind a load
  balancer enforce one limit between them, not one each. The check and the update run in
  one Lua script (atomic, cached by the server and called with EVALSHA), and the script
  reads Redis's own clock (``TIME``), so replicas whose clocks disagree still agree on
  the limit. Redis 5 or later (scripts replicate their effects, so they may read TIME).
- ``LocalRateLimiter`` keeps them in the process, for a gateway running without Redis
  (the embedded mode, development). It holds a bounded number of clients.

Long-lived connections (WebSockets, SSE streams, subscriptions) are not requests: what
they cost is being open. ``ConnectionCounter`` caps how many a client holds at once,
across replicas in Redis (``RedisConnectionCounter``: a sorted set of the client's
connections scored by when each lapses, so the connections of a replica that crashed
lapse on their own) or in the process (``LocalConnectionCounter``).

What we tell the client follows the IETF HTTPAPI working group's "RateLimit header
fields for HTTP", draft-ietf-httpapi-ratelimit-headers-10 (27 September 2025; the
datatracker lists revisions 11 and 12 since, whose text was not compared):
``RateLimit-Policy: "name";q=100;w=60`` announces the quota and its window, and
``RateLimit: "name";r=42;t=1`` the quota left and the seconds until more is available;
a refusal adds ``Retry-After`` (RFC 9110), whole seconds rounded up, never earlier than
``t`` as the draft asks. A well-behaved client can pace itself instead of being refused.

Keys: a client's key (an API key's id, an address) is used as given up to
``MAX_KEY_BYTES``; a longer one is replaced by its SHA-256, so no caller can make us keep
long keys, and the two forms never collide.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from gateway.security.clock import Clock

if TYPE_CHECKING:
    import redis.asyncio as redis

# A client's key longer than this (in UTF-8) is stored as its SHA-256.
MAX_KEY_BYTES = 128

# Time is counted in whole microseconds since the Unix epoch (Redis's clock has that
# resolution, and such counts stay exact both as Python integers and as the doubles of
# Redis's Lua): a client that waits exactly its Retry-After is never refused by a rounding
# error, however many requests it has made.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS = 1_000_000

# A policy's name goes into Redis keys and, as a String, into the RateLimit fields: a short
# token keeps both unambiguous (no ':' to confuse a key, no quote to escape in a header).
_POLICY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """``quota`` requests (quota units) per ``window`` seconds; a client may spend the whole
    quota at once (the burst is the quota). ``name`` identifies the policy to the client in
    the RateLimit fields, and separates its counts from other policies' in the store.

    A unit comes back every ``window / quota`` seconds, rounded up to the microsecond: 100
    per minute is one per 600,000 microseconds; 3 per second, one per 333,334 (the window is
    then longer by a microsecond or two, never shorter).
    """

    name: str
    quota: int
    window: float

    def __post_init__(self) -> None:
        if not _POLICY_NAME.fullmatch(self.name):
            raise ValueError(
                f"a rate policy's name is 1 to 64 letters, digits, '.', '_' or '-', "
                f"starting with a letter or digit: {self.name!r}"
            )
        if self.quota < 1:
            raise ValueError(f"a rate policy's quota must be at least 1: {self.quota}")
        if not (math.isfinite(self.window) and round(self.window * _MICROSECONDS) >= 1):
            raise ValueError(
                f"a rate policy's window must be a positive time, of a microsecond or more: "
                f"{self.window}"
            )

    @property
    def interval(self) -> int:
        """Microseconds for one unit of quota to come back."""
        return -(-round(self.window * _MICROSECONDS) // self.quota)

    @property
    def burst(self) -> int:
        """Microseconds of debt a client may run up: the whole quota's worth."""
        return self.interval * self.quota


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a request may go ahead, and what to tell the client either way.

    ``remaining``: quota units the client may still spend right now.
    ``reset_after``: seconds until the client has more quota than ``remaining`` (the next
    unit comes back); 0 when its quota is whole. This is the draft's ``t``.
    ``retry_after``: for a refusal, seconds until this request would be allowed; ``None``
    when allowed, and when waiting cannot help (the request costs more than the quota).
    """

    allowed: bool
    remaining: int
    reset_after: float
    retry_after: float | None


class RateLimiter(Protocol):
    async def decide(self, key: str, policy: RatePolicy, *, cost: int = 1) -> Decision:
        """Charges ``cost`` units to the client ``key`` under ``policy`` if it has them;
        a refused request is not charged."""
        ...


def ratelimit_headers(policy: RatePolicy, decision: Decision) -> dict[str, str]:
    """The response header fields that tell the client its policy and where it stands.

    The window goes out as ``w`` only when it is whole seconds: the draft allows no
    fractions, and ``w`` is optional. ``Retry-After`` only on a refusal a wait can cure.
    """
    announced = f'"{policy.name}";q={policy.quota}'
    if float(policy.window).is_integer():
        announced += f";w={int(policy.window)}"
    headers = {
        "RateLimit-Policy": announced,
        "RateLimit": (
            f'"{policy.name}";r={decision.remaining};t={_whole_seconds(decision.reset_after)}'
        ),
    }
    if not decision.allowed and decision.retry_after is not None:
        headers["Retry-After"] = str(max(1, _whole_seconds(decision.retry_after)))
    return headers


def _whole_seconds(seconds: float) -> int:
    """Rounded up, so that a client waiting this long is not early."""
    return max(0, math.ceil(seconds))


def client_key(key: str) -> str:
    """How a client's key is stored: as given when short, else as its SHA-256. The two
    forms carry different prefixes, so a caller cannot pick a key equal to another
    client's hashed one."""
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_KEY_BYTES:
        return f"k:{key}"
    return f"h:{hashlib.sha256(encoded).hexdigest()}"


def _check_cost(cost: int) -> None:
    if cost < 1:
        raise ValueError(f"a request costs at least 1 quota unit: {cost}")


def _gcra(
    stored: int | None, now: int, policy: RatePolicy, cost: int
) -> tuple[Decision, int | None]:
    """The decision for a client whose quota is whole again at ``stored`` (microseconds;
    ``None``: never seen), and the new such moment to store (``None``: nothing to store).
    ``cost`` 0 looks without charging. The Lua script below is this same arithmetic."""
    interval, burst = policy.interval, policy.burst
    whole_at = now if stored is None else max(stored, now)
    charged = whole_at + cost * interval
    allowed = charged - now <= burst
    if allowed:
        whole_at = charged
    owed = whole_at - now
    remaining = min(policy.quota, max(0, (burst - owed) // interval))
    reset_after = 0 if remaining >= policy.quota else owed - (burst - (remaining + 1) * interval)
    decision = Decision(
        allowed=allowed,
        remaining=remaining,
        reset_after=max(0, reset_after) / _MICROSECONDS,
        retry_after=None if allowed else (charged - burst - now) / _MICROSECONDS,
    )
    return decision, (charged if allowed and cost > 0 else None)


def _beyond_quota(decision: Decision) -> Decision:
    """A request costing more than the whole quota: refused, and no wait would help."""
    return Decision(False, decision.remaining, decision.reset_after, None)


class LocalRateLimiter:
    """Limits in this process alone (each replica would allow the full quota).

    Remembers at most ``max_clients`` clients. A client whose quota is whole again is
    the same as one never seen, so when full it first forgets those; if that frees too
    little, the clients seen least recently are forgotten (they start again with a whole
    quota): a flood of new keys costs a few precise limits, never unbounded memory.
    """

    def __init__(self, clock: Clock, *, max_clients: int = 100_000) -> None:
        if max_clients < 1:
            raise ValueError("a local rate limiter must remember at least one client")
        self._clock = clock
        self._max_clients = max_clients
        self._whole_at: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        """How many clients' states are held."""
        return len(self._whole_at)

    async def decide(self, key: str, policy: RatePolicy, *, cost: int = 1) -> Decision:
        _check_cost(cost)
        now = (self._clock.now() - _EPOCH) // _MICROSECOND
        stored_key = f"{policy.name}:{client_key(key)}"
        charged = 0 if cost > policy.quota else cost
        decision, whole_at = _gcra(self._whole_at.get(stored_key), now, policy, charged)
        if whole_at is not None:
            self._remember(stored_key, whole_at, now)
        return _beyond_quota(decision) if cost > policy.quota else decision

    def _remember(self, key: str, whole_at: int, now: int) -> None:
        if key not in self._whole_at and len(self._whole_at) >= self._max_clients:
            self._make_room(now)
        self._whole_at[key] = whole_at
        self._whole_at.move_to_end(key)

    def _make_room(self, now: int) -> None:
        for key in [k for k, whole_at in self._whole_at.items() if whole_at <= now]:
            del self._whole_at[key]
        # Leave an eighth free, so that this sweep runs once per many new clients.
        keep = self._max_clients - max(1, self._max_clients // 8)
        while len(self._whole_at) > keep:
            self._whole_at.popitem(last=False)


# _gcra on Redis's clock, for every replica at once. KEYS[1]: the client's state (the
# microsecond its quota is whole again). ARGV: quota, interval, burst (microseconds), cost
# (0 looks without charging). Every number is a whole number of microseconds, exact in
# Lua's doubles (epoch microseconds stay below 2^53 until the year 2255).
_DECIDE = """
local quota = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local whole_at = now
local stored = redis.call('GET', KEYS[1])
if stored then whole_at = math.max(tonumber(stored), now) end
local charged = whole_at + cost * interval
local allowed = charged - now <= burst
if allowed then
  whole_at = charged
  if cost > 0 then
    local ttl = math.max(1, math.ceil((charged - now) / 1000))
    redis.call('SET', KEYS[1], string.format('%.0f', charged), 'PX', ttl)
  end
end
local owed = whole_at - now
local remaining = math.min(quota, math.max(0, math.floor((burst - owed) / interval)))
local reset_after = 0
if remaining < quota then
  reset_after = math.max(0, owed - (burst - (remaining + 1) * interval))
end
local retry_after = -1
if not allowed then retry_after = charged - burst - now end
return {allowed and 1 or 0, remaining, reset_after, retry_after}
"""


class RedisRateLimiter:
    """Limits shared by every replica using the same Redis and ``prefix``.

    A client's state is one string key, ``{prefix}:{policy}:{client}``, expiring when the
    client's quota is whole again: idle clients cost Redis nothing.
    """

    def __init__(self, client: redis.Redis, prefix: str = "rg:ratelimit") -> None:
        self._client = client
        self._prefix = prefix
        self._decide = client.register_script(_DECIDE)

    def storage_key(self, key: str, policy: RatePolicy) -> str:
        """The Redis key holding ``key``'s state under ``policy``."""
        return f"{self._prefix}:{policy.name}:{client_key(key)}"

    async def decide(self, key: str, policy: RatePolicy, *, cost: int = 1) -> Decision:
        _check_cost(cost)
        charged = 0 if cost > policy.quota else cost
        reply = await self._decide(
            keys=[self.storage_key(key, policy)],
            args=[policy.quota, policy.interval, policy.burst, charged],
        )
        allowed, remaining, reset_after, retry_after = (int(value) for value in reply)
        decision = Decision(
            allowed=allowed == 1,
            remaining=remaining,
            reset_after=reset_after / _MICROSECONDS,
            retry_after=None if retry_after < 0 else retry_after / _MICROSECONDS,
        )
        return _beyond_quota(decision) if cost > policy.quota else decision


class ConnectionCounter(Protocol):
    """How many long-lived connections (WebSockets, SSE streams, subscriptions) a client
    holds at once. ``connection`` identifies one connection (a UUID the replica makes);
    acquiring one already held is not counted twice."""

    async def acquire(self, key: str, connection: str, *, limit: int) -> bool:
        """Counts ``connection`` for ``key`` unless ``key`` already holds ``limit``."""
        ...

    async def refresh(self, key: str, connection: str) -> bool:
        """Keeps ``connection`` counted; ``False`` if it no longer is (it lapsed)."""
        ...

    async def release(self, key: str, connection: str) -> None:
        """Stops counting ``connection`` (it closed)."""
        ...

    async def count(self, key: str) -> int: ...


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"a connection limit must be at least 1: {limit}")


class LocalConnectionCounter:
    """Counts this process's connections: they die with it, so nothing needs to lapse.
    A client with no connection open takes no room."""

    def __init__(self) -> None:
        self._open: dict[str, set[str]] = {}

    async def acquire(self, key: str, connection: str, *, limit: int) -> bool:
        _check_limit(limit)
        stored = client_key(key)
        held = self._open.get(stored, set())
        if connection not in held and len(held) >= limit:
            return False
        self._open.setdefault(stored, held).add(connection)
        return True

    async def refresh(self, key: str, connection: str) -> bool:
        return connection in self._open.get(client_key(key), ())

    async def release(self, key: str, connection: str) -> None:
        stored = client_key(key)
        held = self._open.get(stored)
        if held is None:
            return
        held.discard(connection)
        if not held:
            del self._open[stored]

    async def count(self, key: str) -> int:
        return len(self._open.get(client_key(key), ()))


# KEYS[1]: the client's connections, each scored by the Redis time it lapses at.
# ARGV: connection, limit (0: only refresh one already held), ttl in seconds.
# Lapsed connections are dropped first; the key itself lapses with its last connection.
_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local limit = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held then
  if limit == 0 or redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
end
redis.call('ZADD', KEYS[1], string.format('%.6f', now + ttl), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000))
return 1
"""

_COUNT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
return redis.call('ZCARD', KEYS[1])
"""


class RedisConnectionCounter:
    """Counts a client's connections across every replica using the same Redis.

    Each connection is counted for ``ttl`` seconds and must be refreshed before then (its
    replica calls ``refresh`` every ``refresh_interval``). A replica that dies without
    releasing its connections stops refreshing them, and they stop counting within
    ``ttl``: a crash never locks a client out for good.
    """

    def __init__(
        self, client: redis.Redis, prefix: str = "rg:connections", *, ttl: float = 60.0
    ) -> None:
        if not (math.isfinite(ttl) and ttl > 0):
            raise ValueError(f"a connection's time to live must be positive: {ttl}")
        self._client = client
        self._prefix = prefix
        self._ttl = ttl
        self._acquire = client.register_script(_ACQUIRE)
        self._count = client.register_script(_COUNT)

    @property
    def refresh_interval(self) -> float:
        """How often a replica refreshes its connections: a third of the time to live, so
        one missed refresh (a slow event loop, a Redis failover) does not drop them."""
        return self._ttl / 3

    def storage_key(self, key: str) -> str:
        """The Redis key holding ``key``'s connections."""
        return f"{self._prefix}:{client_key(key)}"

    async def acquire(self, key: str, connection: str, *, limit: int) -> bool:
        _check_limit(limit)
        return await self._held(key, connection, limit)

    async def refresh(self, key: str, connection: str) -> bool:
        return await self._held(key, connection, 0)

    async def release(self, key: str, connection: str) -> None:
        await self._client.zrem(self.storage_key(key), connection)

    async def count(self, key: str) -> int:
        return int(await self._count(keys=[self.storage_key(key)]))

    async def _held(self, key: str, connection: str, limit: int) -> bool:
        answer = await self._acquire(
            keys=[self.storage_key(key)], args=[connection, limit, repr(float(self._ttl))]
        )
        return int(answer) == 1
