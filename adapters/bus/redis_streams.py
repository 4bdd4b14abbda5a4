"""The production event bus: Redis Streams, sharded by partition key, with consumer groups.

Layout (docs/adr/0005-events-on-redis-streams.md says why):
- every event goes to ``<prefix>:<shard>``, the shard a stable CRC32 of its partition key,
  so one key always lands on one stream and keeps its order there;
- one family of streams for all domains: the Bus protocol does not say which domain
  publishes, and a consumer group skips (acks unread) the types it did not ask for;
- work sharing: one consumer group per handler; within a group each shard is leased to
  one live consumer at a time, so a key's events are handled one after the other even
  with many replicas; shards are rebalanced as replicas come and go;
- fan-out: plain XREAD from the tail, every replica sees every event (gateway fan-out).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson
import redis.asyncio as redis

from adapters.bus.dedupe import handler_name
from adapters.bus.inprocess import Handler
from adapters.bus.stream_consumers import Consumer, FanoutConsumer, GroupConsumer
from kernel.events import Event

if TYPE_CHECKING:
    from adapters.bus.feeds import Feed


def shard_of(partition_key: str, shards: int) -> int:
    """The shard of a partition key: stable across processes and Python versions."""
    return zlib.crc32(partition_key.encode()) % shards


class RedisStreamsBus:
    """One replica's view of the bus: publishes events and runs its consumers.

    ``subscribe`` shares work with the same handler on other replicas (the group is the
    handler's qualified name unless given); ``subscribe(..., fanout=True)`` gives this
    replica every event. Consumers start with the running loop (or ``start()``) and stop
    with ``close()``. Timings are in seconds; tests shorten them.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "rg:events",
        shards: int = 8,
        batch_size: int = 100,
        block: float = 1.0,
        lease: float = 10.0,
        max_deliveries: int = 5,
        retry_delay: float = 0.5,
        maxlen: int | None = 100_000,
        consumer_name: str | None = None,
    ) -> None:
        if block * 3 > lease:
            raise ValueError("block must be well under the lease, or leases lapse mid-read")
        self.client = client
        self.prefix = prefix
        self.shards = shards
        self.batch_size = batch_size
        self.block = block
        self.lease = lease
        self.max_deliveries = max_deliveries
        self.retry_delay = retry_delay
        self.maxlen = maxlen
        self.consumer_name = consumer_name or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self.consumers: list[Consumer] = []
        self._started = False

    def feed(self, *, keep: int = 10_000) -> Feed:
        """Tails every shard; replays from Redis, which keeps what its streams retain."""
        # The feed module builds on this bus, so it is imported where it is used.
        from adapters.bus.feeds import RedisStreamsFeed

        return RedisStreamsFeed(self)

    def stream(self, shard: int) -> str:
        return f"{self.prefix}:{shard}"

    def dead_letter_stream(self, group: str) -> str:
        return f"{self.prefix}:dead:{group}"

    async def publish(self, events: Sequence[Event]) -> None:
        """XADD each event to its shard, in order, in one round trip."""
        if not events:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(
                    self.stream(shard_of(event.partition_key, self.shards)),
                    {"type": event.type, "event": orjson.dumps(event.to_dict())},
                    maxlen=self.maxlen,
                    approximate=True,
                )
            await pipe.execute()

    def subscribe(
        self,
        handler: Handler,
        *,
        types: Sequence[str] | None = None,
        group: str | None = None,
        fanout: bool = False,
    ) -> None:
        wanted = frozenset(types) if types is not None else None
        consumer: Consumer
        if fanout:
            consumer = FanoutConsumer(self, handler, wanted)
        else:
            name = group or handler_name(handler)
            consumer = GroupConsumer(self, handler, wanted, name)
        self.consumers.append(consumer)
        with contextlib.suppress(RuntimeError):  # no running loop: start() will do it
            asyncio.get_running_loop()
            self._started = True
        if self._started:
            consumer.start()

    async def start(self) -> None:
        """Start every consumer and wait until each is reading (its group exists)."""
        self._started = True
        for consumer in self.consumers:
            consumer.start()
        await asyncio.gather(*(consumer.ready.wait() for consumer in self.consumers))

    async def close(self) -> None:
        """Stop the consumers after their current batch, and hand their shards back."""
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers))
        self.consumers.clear()
        self._started = False
