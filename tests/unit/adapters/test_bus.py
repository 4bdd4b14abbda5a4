"""The bus a process gets, and the options every bus takes."""

from __future__ import annotations

import pytest

from adapters.bus import InProcessBus
from adapters.bus.redis_streams import RedisStreamsBus, shard_of
from adapters.cache import MemoryStore, RedisStore
from kernel.events import Event
from retailgraph.settings import load_settings
from retailgraph.wiring import bus_and_cache
from tests.support import EVENT_TIME


def order_placed() -> Event:
    return Event(type="OrderPlaced", partition_key="ORDER-1", payload={}, occurred_at=EVENT_TIME)


def test_shard_of_a_partition_key_is_stable_and_in_range() -> None:
    # CRC32 is fixed by its spec: every replica and Python version picks the same shard.
    assert shard_of("SKU-1@DC-NORTH", 8) == 0
    assert {shard_of(f"SKU-{n}", 8) for n in range(200)} == set(range(8))


def test_a_process_uses_redis_for_its_bus_and_cache_only_with_a_redis_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    bus, cache = bus_and_cache(load_settings())
    assert isinstance(bus, InProcessBus)
    assert isinstance(cache, MemoryStore)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    bus, cache = bus_and_cache(load_settings())
    assert isinstance(bus, RedisStreamsBus)
    assert isinstance(cache, RedisStore)


async def test_in_process_bus_takes_the_streams_bus_subscription_options() -> None:
    seen: list[str] = []

    async def shared(event: Event) -> None:
        seen.append("shared")

    async def every_replica(event: Event) -> None:
        seen.append("fanout")

    bus = InProcessBus()
    bus.subscribe(shared, types=["OrderPlaced"], group="orders")
    bus.subscribe(every_replica, fanout=True)
    await bus.publish([order_placed()])
    assert seen == ["shared", "fanout"]
