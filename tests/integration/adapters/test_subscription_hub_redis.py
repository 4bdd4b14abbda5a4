"""The subscription hub on real Redis Streams: a cursor older than what the streams still
hold is refused rather than resumed with a gap."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as redis

from adapters.bus import RedisStreamsBus
from adapters.bus.feeds import CursorExpired
from adapters.bus.hub import SubscriptionHub
from kernel.events import Event
from tests.support import EVENT_TIME

pytestmark = pytest.mark.redis


def stock(on_hand: int) -> Event:
    return Event(
        "StockChanged", "SKU-1@DC", {"sku": "SKU-1", "onHand": on_hand}, occurred_at=EVENT_TIME
    )


async def test_a_cursor_from_before_the_streams_were_trimmed_has_expired(
    redis_client: redis.Redis,
) -> None:
    prefix = f"test-hub-{uuid.uuid4().hex}"
    bus = RedisStreamsBus(redis_client, prefix=prefix, shards=1, block=0.05, lease=0.3, maxlen=5)
    hub = SubscriptionHub(bus)
    try:
        feed = await hub.start()
        cursor = feed.format(feed.head())
        await bus.publish([stock(n) for n in range(1, 4)])
        async with hub.subscribe(["StockChanged"], lambda e: True, after=cursor) as fresh:
            async for delivery in fresh:  # still held: resumes
                assert delivery.event.payload["onHand"] == 1
                seen = delivery.cursor
                break
        # Approximate trimming drops whole nodes of 100 entries: publish well past one.
        for start in range(4, 400, 100):
            await bus.publish([stock(n) for n in range(start, start + 100)])
        for stale in (cursor, seen):  # from an empty stream, and from its first event
            with pytest.raises(CursorExpired):
                async with hub.subscribe(["StockChanged"], lambda e: True, after=stale):
                    pass
    finally:
        await hub.close()
        await bus.close()
        await redis_client.delete(bus.stream(0))


async def test_a_cursor_too_many_events_behind_has_expired(redis_client: redis.Redis) -> None:
    prefix = f"test-hub-{uuid.uuid4().hex}"
    bus = RedisStreamsBus(redis_client, prefix=prefix, shards=1, block=0.05, lease=0.3)
    hub = SubscriptionHub(bus)
    try:
        feed = await hub.start()
        feed.max_replay = 2  # type: ignore[attr-defined]
        cursor = feed.format(feed.head())
        await bus.publish([stock(n) for n in range(1, 6)])
        ((last_id, _),) = await redis_client.xrevrange(bus.stream(0), count=1)
        last = feed.parse(last_id.decode())
        while tuple(hub._head) != last:  # noqa: ASYNC110 - until the hub has read all five
            await asyncio.sleep(0.01)
        with pytest.raises(CursorExpired):
            async with hub.subscribe(["StockChanged"], lambda e: True, after=cursor):
                pass
    finally:
        await hub.close()
        await bus.close()
        await redis_client.delete(bus.stream(0))
