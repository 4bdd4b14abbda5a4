"""Read models serve from cache, load misses once, and survive stampedes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.cache import MemoryStore, ReadModel
from kernel.clock import SettableClock
from tests.support import TEST_NOW


class CountingSource:
    def __init__(self, values: dict[str, int], delay: float = 0.0) -> None:
        self.values = values
        self.delay = delay
        self.calls: list[list[str]] = []

    async def load(self, keys: Sequence[str]) -> dict[str, int]:
        self.calls.append(list(keys))
        await asyncio.sleep(self.delay)
        return {k: self.values[k] for k in keys if k in self.values}


async def test_read_model_loads_a_miss_once_and_then_serves_from_cache() -> None:
    source = CountingSource({"a": 1, "b": 2})
    model = ReadModel(MemoryStore(), "demo", source.load, clock=SettableClock(TEST_NOW))
    assert await model.get_many(["a", "b", "zz"]) == [1, 2, None]
    assert await model.get_many(["b", "a", "zz"]) == [2, 1, None]
    assert source.calls == [["a", "b", "zz"]]


async def test_read_model_concurrent_misses_share_one_load() -> None:
    source = CountingSource({"hot": 7}, delay=0.05)
    model = ReadModel(MemoryStore(), "demo", source.load, clock=SettableClock(TEST_NOW))
    results = await asyncio.gather(*(model.get("hot") for _ in range(200)))
    assert results == [7] * 200
    assert source.calls == [["hot"]]


async def test_read_model_stale_entry_is_refreshed_by_one_reader_only() -> None:
    source = CountingSource({"k": 1}, delay=0.02)
    clock = SettableClock(TEST_NOW)
    model = ReadModel(
        MemoryStore(), "demo", source.load, clock=clock, fresh_for=1.0, serve_stale_for=60
    )
    assert await model.get("k") == 1
    source.values["k"] = 2
    clock.advance(timedelta(seconds=2))  # past fresh_for and its jitter, within stale
    results = await asyncio.gather(*(model.get("k") for _ in range(50)))
    assert len(source.calls) == 2
    assert set(results) <= {1, 2}
    assert 2 in results


async def test_read_model_invalidation_shows_the_new_value() -> None:
    source = CountingSource({"k": 1})
    model = ReadModel(MemoryStore(), "demo", source.load, clock=SettableClock(TEST_NOW))
    assert await model.get("k") == 1
    source.values["k"] = 5
    await model.invalidate(["k"])
    assert await model.get("k") == 5


async def test_read_model_load_failure_reaches_every_waiter() -> None:
    async def broken(keys: Sequence[str]) -> dict[str, int]:
        await asyncio.sleep(0.01)
        raise ConnectionError("db down")

    model = ReadModel(MemoryStore(), "demo", broken, clock=SettableClock(TEST_NOW))
    results = await asyncio.gather(*(model.get("k") for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await model.get("k")


class SlowBeforeAChange:
    """A source whose first read sees the value before a change that commits (and is
    invalidated) while that read is still on its way back."""

    def __init__(self) -> None:
        self.value = "before"
        self.read = asyncio.Event()
        self.answer = asyncio.Event()

    async def load(self, keys: Sequence[str]) -> dict[str, str]:
        seen = self.value
        self.read.set()
        await self.answer.wait()
        return dict.fromkeys(keys, seen)


async def test_a_load_begun_before_an_invalidation_neither_caches_nor_answers_later_readers() -> (
    None
):
    source = SlowBeforeAChange()
    model = ReadModel(MemoryStore(), "demo", source.load, clock=SettableClock(TEST_NOW))
    early = asyncio.create_task(model.get("k"))
    await source.read.wait()
    source.value = "after"  # the change commits, then invalidates
    await model.invalidate(["k"])
    late = asyncio.create_task(model.get("k"))
    await asyncio.sleep(0)
    source.answer.set()

    assert await early == "before"  # it asked before the change
    assert await late == "after"
    assert await model.get("k") == "after"
