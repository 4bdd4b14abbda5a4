"""The consumers of the Redis Streams bus: a group member that leases shards, and a
fan-out reader. ``RedisStreamsBus.subscribe`` makes them; nothing else should."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, cast

import orjson
from redis.exceptions import ResponseError

from adapters.bus.inprocess import Handler
from kernel.events import Event

if TYPE_CHECKING:
    from adapters.bus.redis_streams import RedisStreamsBus

log = logging.getLogger(__name__)

# Read replies, as the client (built without decode_responses) gives them. An entry
# re-read from the pending list after trimming has no fields.
Fields = dict[bytes, bytes]
Entries = list[tuple[bytes, Fields | None]]

# Holds this consumer's fair share of the shard leases: heartbeat in the group's member
# set, drop leases above ceil(shards / live members), then take free ones up to it.
# KEYS[1] is the member set, KEYS[2..] the shard leases; returns the held shard numbers.
_BALANCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 10)
local target = math.ceil((#KEYS - 1) / redis.call('ZCARD', KEYS[1]))
local held = {}
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    if #held < target then
      redis.call('PEXPIRE', KEYS[i], ttl)
      table.insert(held, i - 2)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
for i = 2, #KEYS do
  if #held >= target then break end
  if redis.call('SET', KEYS[i], ARGV[1], 'PX', ttl, 'NX') then table.insert(held, i - 2) end
end
return held
"""

_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0
"""


class Consumer:
    def __init__(self, bus: RedisStreamsBus, handler: Handler, types: frozenset[str] | None):
        self.bus = bus
        self.handler = handler
        self.types = types
        self.ready = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"bus-consumer-{id(self)}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        try:
            async with asyncio.timeout(self.bus.block + 5):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._leave()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if not self.ready.is_set():
                    await self._prepare()
                    self.ready.set()
                await self._round()
            except Exception:  # Redis hiccups must not end the consumer; try again shortly
                log.exception("bus consumer round failed")
                await asyncio.sleep(self.bus.retry_delay)

    async def _prepare(self) -> None: ...

    async def _round(self) -> None: ...

    async def _leave(self) -> None: ...

    def _wants(self, fields: Fields) -> bool:
        return self.types is None or fields[b"type"].decode() in self.types


def _event(fields: Fields) -> Event:
    return Event.from_dict(orjson.loads(fields[b"event"]))


def _by_stream(response: Any) -> list[tuple[str, Entries]]:
    """An XREAD/XREADGROUP reply as (stream name, entries) pairs."""
    return [(stream.decode(), entries) for stream, entries in response or []]


class GroupConsumer(Consumer):
    """Shares a group's work: handles the shards it leases, acks after the handler.

    A failing entry stays pending and blocks its shard (later events of the same keys
    wait) until a retry succeeds or it has failed ``max_deliveries`` times, when
    it moves to the group's dead-letter stream. Entries left pending by a consumer that
    died are taken over with XAUTOCLAIM once idle for a lease period.
    """

    def __init__(
        self, bus: RedisStreamsBus, handler: Handler, types: frozenset[str] | None, group: str
    ):
        super().__init__(bus, handler, types)
        self.group = group
        self.held: list[int] = []
        self._balance = bus.client.register_script(_BALANCE)
        self._leave_script = bus.client.register_script(_LEAVE)
        self._failures: dict[tuple[str, bytes], int] = {}
        self._renewed_at = 0.0
        self._shard_by_stream = {bus.stream(shard): shard for shard in range(bus.shards)}
        self._keys = [f"{bus.prefix}:members:{group}"] + [
            f"{bus.prefix}:lease:{group}:{shard}" for shard in range(bus.shards)
        ]

    async def _prepare(self) -> None:
        # From the start of the retained stream: events published before the group's
        # first consumer ever ran are still delivered (the group persists afterwards).
        for shard in range(self.bus.shards):
            try:
                await self.bus.client.xgroup_create(
                    self.bus.stream(shard), self.group, id="0", mkstream=True
                )
            except ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    async def _renew(self) -> None:
        """Heartbeat, and hold this consumer's fair share of the shards (``self.held``)."""
        lease_ms = int(self.bus.lease * 1000)
        held = await self._balance(keys=self._keys, args=[self.bus.consumer_name, lease_ms])
        self.held = [int(shard) for shard in held]
        self._renewed_at = asyncio.get_running_loop().time()

    async def _still_holds(self, stream: str) -> bool:
        """Renew the leases if a third of the lease has passed (a long batch); False once
        the shard has gone to another consumer, which then owns what is left of it."""
        if asyncio.get_running_loop().time() - self._renewed_at > self.bus.lease / 3:
            await self._renew()
        return self._shard_by_stream[stream] in self.held

    async def _round(self) -> None:
        bus = self.bus
        await self._renew()
        if not self.held:
            await asyncio.sleep(bus.block)
            return
        clear = [shard for shard in self.held if await self._settle_pending(shard)]
        if not clear:
            await asyncio.sleep(bus.retry_delay)
            return
        response = await bus.client.xreadgroup(
            self.group,
            bus.consumer_name,
            {bus.stream(shard): ">" for shard in clear},
            count=bus.batch_size,
            block=int(bus.block * 1000),
        )
        for stream, entries in _by_stream(response):
            await self._handle(stream, entries)

    async def _settle_pending(self, shard: int) -> bool:
        """Retry this consumer's pending entries, then claim a dead one's; True when the
        shard has nothing pending left and new entries may be read."""
        bus, stream = self.bus, self.bus.stream(shard)
        own = await bus.client.xreadgroup(
            self.group, bus.consumer_name, {stream: "0"}, count=bus.batch_size
        )
        entries = _by_stream(own)[0][1] if own else []
        if not entries:
            claimed = await bus.client.xautoclaim(
                stream,
                self.group,
                bus.consumer_name,
                min_idle_time=int(bus.lease * 1000),
                count=bus.batch_size,
            )
            entries = cast(Entries, claimed[1])
        if not entries:
            return True
        return await self._handle(stream, entries) and len(entries) < bus.batch_size

    async def _handle(self, stream: str, entries: Entries) -> bool:
        """Handle entries in order; stop at the first failure. True when all succeeded.

        Each handled entry is acked at once (with the skipped ones before it): a replica
        that hangs mid-batch leaves only what it had not finished for another to redo.
        """
        skipped: list[bytes] = []
        try:
            for entry_id, fields in entries:
                if not fields or not self._wants(fields):  # trimmed, or not for us
                    skipped.append(entry_id)
                    continue
                if not await self._still_holds(stream):
                    return False
                try:
                    await self.handler(_event(fields))
                except Exception as error:
                    log.exception("handler %r failed on %s %s", self.handler, stream, entry_id)
                    if await self._dead_letter_if_spent(stream, entry_id, fields, error):
                        skipped.append(entry_id)
                    return False
                await self.bus.client.xack(stream, self.group, *skipped, entry_id)
                skipped = []
            return True
        finally:
            if skipped:
                await self.bus.client.xack(stream, self.group, *skipped)

    async def _dead_letter_if_spent(
        self, stream: str, entry_id: bytes, fields: Fields, error: Exception
    ) -> bool:
        """Move the entry to the dead-letter stream once its handler has failed
        ``max_deliveries`` times here, or it has been delivered twice that often in all
        (its handler keeps killing consumers: claims count, local failures die with them).
        Redis's delivery count alone overcounts: entries read after a failure in the same
        batch count as delivered without being tried."""
        key = (stream, entry_id)
        self._failures[key] = failures = self._failures.get(key, 0) + 1
        pending = await self.bus.client.xpending_range(
            stream, self.group, min=entry_id, max=entry_id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 0
        limit = self.bus.max_deliveries
        if failures < limit and deliveries < 2 * limit:
            return False
        del self._failures[key]
        dead: dict[Any, Any] = {
            **fields,
            b"stream": stream,
            b"entry": entry_id,
            b"failures": str(failures),
            b"deliveries": str(deliveries),
            b"error": repr(error),
        }
        await self.bus.client.xadd(self.bus.dead_letter_stream(self.group), dead)
        return True

    async def _leave(self) -> None:
        await self._leave_script(keys=self._keys, args=[self.bus.consumer_name])
        self.held = []


class FanoutConsumer(Consumer):
    """Sees every event published after it started, on every replica (no group, no ack).

    A failing handler is logged and skipped: fan-out serves live views, which a later
    event or a re-query corrects; durable work belongs in a group.
    """

    def __init__(self, bus: RedisStreamsBus, handler: Handler, types: frozenset[str] | None):
        super().__init__(bus, handler, types)
        self._last: dict[Any, Any] = {}  # stream name -> last id seen

    async def _prepare(self) -> None:
        # The concrete last id of each shard, not "$": "$" between two reads would drop
        # whatever arrived in between.
        for shard in range(self.bus.shards):
            stream = self.bus.stream(shard)
            last = await self.bus.client.xrevrange(stream, count=1)
            self._last[stream] = last[0][0] if last else "0-0"

    async def _round(self) -> None:
        response = await self.bus.client.xread(
            self._last, count=self.bus.batch_size, block=int(self.bus.block * 1000)
        )
        for stream, entries in _by_stream(response):
            for entry_id, fields in entries:
                self._last[stream] = entry_id
                if not fields or not self._wants(fields):
                    continue
                try:
                    await self.handler(_event(fields))
                except Exception:
                    log.exception("fan-out handler %r failed on %s", self.handler, entry_id)
