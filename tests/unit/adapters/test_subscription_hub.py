"""The subscription hub on the in-process bus: filtering, bounded queues, unsubscribe and
resuming after a cursor."""

from __future__ import annotations

import pytest

from adapters.bus.feeds import CursorExpired, InvalidCursor
from adapters.bus.hub import Delivery, SubscriberTooSlow, SubscriptionHub
from adapters.bus.inprocess import InProcessBus
from kernel.events import Event
from tests.support import EVENT_TIME


def stock(sku: str, on_hand: int) -> Event:
    return Event(
        "StockChanged", f"{sku}@DC", {"sku": sku, "onHand": on_hand}, occurred_at=EVENT_TIME
    )


def of_sku(sku: str):  # type: ignore[no-untyped-def]
    return lambda event: event.payload["sku"] == sku


async def take(subscription: object, count: int) -> list[Delivery]:
    taken = []
    async for delivery in subscription:  # type: ignore[attr-defined]
        taken.append(delivery)
        if len(taken) == count:
            break
    return taken


async def test_hub_gives_each_subscriber_the_events_its_filter_wants_in_order() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    async with (
        hub.subscribe(["StockChanged"], of_sku("A")) as a,
        hub.subscribe(["StockChanged"], of_sku("B")) as b,
    ):
        await bus.publish([stock("A", 1), stock("B", 1), stock("A", 2)])
        await bus.publish([Event("OrderCreated", "o", {"sku": "A"}, occurred_at=EVENT_TIME)])
        got_a = await take(a, 2)
        got_b = await take(b, 1)
    assert [d.event.payload["onHand"] for d in got_a] == [1, 2]
    assert [d.event.payload["sku"] for d in got_b] == ["B"]
    await hub.close()


async def test_hub_forgets_a_subscriber_when_its_block_ends() -> None:
    hub = SubscriptionHub(InProcessBus())
    async with hub.subscribe(["StockChanged"], of_sku("A")):
        assert hub.subscriber_count == 1
    assert hub.subscriber_count == 0
    await hub.close()


async def test_hub_drops_a_slow_subscriber_with_its_cursor_and_keeps_serving_the_others() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus, queue_size=2)
    async with hub.subscribe(["StockChanged"], of_sku("A")) as slow:
        async with hub.subscribe(["StockChanged"], of_sku("A")) as keeping_up:
            await bus.publish([stock("A", 1)])
            (first,) = await take(slow, 1)
            assert (await take(keeping_up, 1))[0].cursor == first.cursor
            await bus.publish([stock("A", 2)])
            assert len(await take(keeping_up, 1)) == 1
            await bus.publish([stock("A", 3)])
            assert len(await take(keeping_up, 1)) == 1
            await bus.publish([stock("A", 4)])  # the slow one's queue (2) overflows here
            with pytest.raises(SubscriberTooSlow) as raised:
                await take(slow, 1)
            assert raised.value.details["cursor"] == first.cursor
            assert hub.subscriber_count == 1
            assert (await take(keeping_up, 1))[0].event.payload["onHand"] == 4
        # It can resume after the last event it was given: nothing lost.
        async with hub.subscribe(["StockChanged"], of_sku("A"), after=first.cursor) as resumed:
            assert [d.event.payload["onHand"] for d in await take(resumed, 3)] == [2, 3, 4]
    await hub.close()


async def test_hub_resumes_after_a_cursor_with_no_gap_and_no_duplicate() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    async with hub.subscribe(["StockChanged"], of_sku("A")) as first:
        await bus.publish([stock("A", 1), stock("B", 1)])
        (seen,) = await take(first, 1)
    await bus.publish([stock("A", 2), stock("B", 2), stock("A", 3)])
    async with hub.subscribe(["StockChanged"], of_sku("A"), after=seen.cursor) as resumed:
        await bus.publish([stock("A", 4)])
        got = await take(resumed, 3)
    assert [d.event.payload["onHand"] for d in got] == [2, 3, 4]
    # Each cursor resumes right after its own event.
    async with hub.subscribe(["StockChanged"], of_sku("A"), after=got[1].cursor) as again:
        assert [d.event.payload["onHand"] for d in await take(again, 1)] == [4]
    await hub.close()


async def test_hub_drops_a_republished_event_it_has_already_delivered() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    event = stock("A", 1)
    async with hub.subscribe(["StockChanged"], of_sku("A")) as subscription:
        await bus.publish([event, event, stock("A", 2)])
        got = await take(subscription, 2)
    assert [d.event.payload["onHand"] for d in got] == [1, 2]
    await hub.close()


async def test_hub_refuses_cursors_it_cannot_resume_from() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    hub_elsewhere = SubscriptionHub(InProcessBus())
    feed_elsewhere = await hub_elsewhere.start()
    with pytest.raises(InvalidCursor):
        async with hub.subscribe(["StockChanged"], of_sku("A"), after="not a cursor"):
            pass
    with pytest.raises(CursorExpired):  # from before a restart (another feed)
        async with hub.subscribe(
            ["StockChanged"], of_sku("A"), after=feed_elsewhere.format(((0, 0),))
        ):
            pass
    assert hub.subscriber_count == 0
    await hub.close()
    await hub_elsewhere.close()


async def test_hub_refuses_a_cursor_older_than_its_replay_buffer() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus, replay=2)
    feed = await hub.start()
    cursor = feed.format(feed.head())
    await bus.publish([stock("A", n) for n in range(3)])
    with pytest.raises(CursorExpired):
        async with hub.subscribe(["StockChanged"], of_sku("A"), after=cursor):
            pass
    await hub.close()


async def test_hub_skips_what_a_cursor_from_a_replica_further_ahead_has_seen() -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    feed = await hub.start()
    ((sequence, _),) = feed.head()
    ahead = feed.format(((sequence + 2, 0),))  # that replica had read two more events
    async with hub.subscribe(["StockChanged"], of_sku("A"), after=ahead) as subscription:
        await bus.publish([stock("A", 1), stock("A", 2), stock("A", 3)])
        (first,) = await take(subscription, 1)
    assert first.event.payload["onHand"] == 3
    await hub.close()
