"""The fan-out: one producer per key, shared; per-subscriber inboxes; stop on last leave."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gateway.subscriptions.fanout import Fanout, SubscriberTooSlow


class Source:
    """A producer the test feeds; counts how often it was started and whether it runs."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[int | None] = asyncio.Queue()
        self.started = 0
        self.running = 0

    async def produce(self) -> AsyncIterator[int]:
        self.started += 1
        self.running += 1
        try:
            while (item := await self.queue.get()) is not None:
                yield item
        finally:
            self.running -= 1


async def take(stream: AsyncIterator[int], count: int) -> list[int]:
    return [await anext(stream) for _ in range(count)]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_subscribers_of_one_key_share_one_producer_and_each_get_every_item() -> None:
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    first = fanout.subscribe("k", source.produce)
    second = fanout.subscribe("k", source.produce)
    pending = [asyncio.ensure_future(take(first, 2)), asyncio.ensure_future(take(second, 2))]
    await settle()

    for item in (1, 2):
        source.queue.put_nowait(item)

    assert await asyncio.gather(*pending) == [[1, 2], [1, 2]]
    assert source.started == 1
    await first.aclose()
    await second.aclose()


async def test_the_last_subscriber_leaving_stops_the_producer() -> None:
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    first = fanout.subscribe("k", source.produce)
    second = fanout.subscribe("k", source.produce)
    pending = [asyncio.ensure_future(anext(first)), asyncio.ensure_future(anext(second))]
    source.queue.put_nowait(1)
    await asyncio.gather(*pending)

    await first.aclose()
    assert source.running == 1
    await second.aclose()

    assert source.running == 0
    assert len(fanout) == 0


async def test_the_producer_ending_ends_every_subscriber() -> None:
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    stream = fanout.subscribe("k", source.produce)
    pending = asyncio.ensure_future(take(stream, 1))
    source.queue.put_nowait(7)
    assert await pending == [7]

    source.queue.put_nowait(None)

    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert len(fanout) == 0


async def test_a_producer_failure_reaches_the_subscribers() -> None:
    async def failing() -> AsyncIterator[int]:
        raise ValueError("upstream broke")
        yield 0  # pragma: no cover - makes this an async generator

    fanout: Fanout[str, int] = Fanout()
    stream = fanout.subscribe("k", failing)

    with pytest.raises(ValueError, match="upstream broke"):
        await anext(stream)


async def test_a_subscriber_that_falls_behind_is_dropped_alone() -> None:
    fanout: Fanout[str, int] = Fanout(inbox_limit=2)
    source = Source()
    slow = fanout.subscribe("k", source.produce)
    fast = fanout.subscribe("k", source.produce)
    slow_first = asyncio.ensure_future(anext(slow))
    fast_items = asyncio.ensure_future(take(fast, 4))
    await settle()
    source.queue.put_nowait(0)
    assert await slow_first == 0

    for item in (1, 2, 3):
        source.queue.put_nowait(item)
        await settle()

    assert await fast_items == [0, 1, 2, 3]
    with pytest.raises(SubscriberTooSlow):
        await anext(slow)
    assert source.running == 1
    await fast.aclose()
    with contextlib.suppress(StopAsyncIteration):
        await slow.aclose()


async def test_different_keys_get_their_own_producers() -> None:
    fanout: Fanout[str, int] = Fanout()
    sources = {"a": Source(), "b": Source()}
    streams = {key: fanout.subscribe(key, source.produce) for key, source in sources.items()}
    pending = {key: asyncio.ensure_future(anext(stream)) for key, stream in streams.items()}
    await settle()

    sources["a"].queue.put_nowait(1)
    sources["b"].queue.put_nowait(2)

    assert await pending["a"] == 1
    assert await pending["b"] == 2
    assert len(fanout) == 2
    await fanout.aclose()
    assert sources["a"].running == sources["b"].running == 0


async def test_a_subscriber_that_falls_behind_can_be_told_why_in_a_last_item() -> None:
    fanout: Fanout[str, int] = Fanout(inbox_limit=1, last_words=lambda reason: -1)
    source = Source()
    slow = fanout.subscribe("k", source.produce)
    first = asyncio.ensure_future(anext(slow))
    await settle()
    source.queue.put_nowait(0)
    assert await first == 0

    for item in (1, 2):
        source.queue.put_nowait(item)
        await settle()

    assert [item async for item in slow] == [-1]
    assert source.running == 0


async def test_closing_the_fanout_ends_every_subscriber() -> None:
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    stream = fanout.subscribe("k", source.produce)
    pending = asyncio.ensure_future(anext(stream))
    await settle()

    await fanout.aclose()

    with pytest.raises(StopAsyncIteration):
        await pending
    assert source.running == 0


class Taken:
    """A sink: what it was put, and in which task."""

    def __init__(self) -> None:
        self.items: list[int] = []
        self.tasks: set[asyncio.Task[object] | None] = set()

    def put(self, item: int) -> None:
        self.items.append(item)
        self.tasks.add(asyncio.current_task())


async def test_followers_and_readers_share_one_producer_and_followers_take_items_in_its_task() -> (
    None
):
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    sinks = [Taken(), Taken()]
    following = [asyncio.ensure_future(fanout.follow("k", source.produce, s)) for s in sinks]
    reader = fanout.subscribe("k", source.produce)
    read = asyncio.ensure_future(take(reader, 2))
    await settle()

    for item in (1, 2):
        source.queue.put_nowait(item)
    assert await read == [1, 2]
    await settle()

    assert source.started == 1
    assert [sink.items for sink in sinks] == [[1, 2], [1, 2]]
    (producer_task,) = sinks[0].tasks | sinks[1].tasks
    assert producer_task not in following
    assert fanout.subscribers == 3
    await reader.aclose()
    for follower in following:
        follower.cancel()


async def test_following_returns_when_the_stream_ends_and_raises_its_failure() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise ValueError("upstream broke")

    fanout: Fanout[str, int] = Fanout()
    source = Source()
    sink = Taken()
    ending = asyncio.ensure_future(fanout.follow("ends", source.produce, sink))
    await settle()
    source.queue.put_nowait(5)
    source.queue.put_nowait(None)

    assert await ending is None
    assert sink.items == [5]
    with pytest.raises(ValueError, match="upstream broke"):
        await fanout.follow("fails", failing, Taken())
    assert len(fanout) == 0


async def test_the_last_follower_cancelled_stops_the_producer() -> None:
    fanout: Fanout[str, int] = Fanout()
    source = Source()
    first = asyncio.ensure_future(fanout.follow("k", source.produce, Taken()))
    second = asyncio.ensure_future(fanout.follow("k", source.produce, Taken()))
    await settle()
    assert source.running == 1

    first.cancel()
    await settle()
    assert source.running == 1
    second.cancel()
    await settle()

    assert source.running == 0
    assert len(fanout) == 0
