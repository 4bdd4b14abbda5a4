"""On real Redis, the streams bus keeps per-key order, shares work, survives dead consumers,
dead-letters poison events, and fans out to every replica."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Idempotent, RedisStreamsBus
from adapters.bus.redis_streams import shard_of
from adapters.cache import RedisStore
from adapters.db.engine import session_factory
from adapters.db.outbox import OutboxRelay, outbox_table
from adapters.db.uow import SqlUnitOfWork
from kernel.events import Event
from tests.support import EVENT_TIME, suite_clock

Replica = Callable[..., RedisStreamsBus]
SHARDS = 4


@pytest.fixture
async def replica(redis_client: redis.Redis) -> AsyncIterator[Replica]:
    """Makes replicas (one bus each) on one random stream prefix, with short timings."""
    prefix = f"test-bus-{uuid.uuid4().hex}"
    buses: list[RedisStreamsBus] = []

    def make(**options: object) -> RedisStreamsBus:
        settings: dict[str, object] = {
            "prefix": prefix,
            "shards": SHARDS,
            "block": 0.05,
            "lease": 0.3,
            "retry_delay": 0.02,
            "batch_size": 20,
        }
        settings.update(options)
        bus = RedisStreamsBus(redis_client, **settings)  # type: ignore[arg-type]
        buses.append(bus)
        return bus

    yield make
    await asyncio.gather(*(bus.close() for bus in buses))


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (up to ten seconds) for consumers running in the background to get there."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the consumers never got there")


def stock_events(keys: int, per_key: int) -> list[Event]:
    """Events interleaved across keys, each carrying its position within its key."""
    return [
        Event(
            type="StockChanged",
            partition_key=f"SKU-{k}@DC-NORTH",
            payload={"seq": n},
            occurred_at=EVENT_TIME,
        )
        for n in range(per_key)
        for k in range(keys)
    ]


async def test_bus_keeps_order_per_partition_key_across_sharing_replicas(
    replica: Replica,
) -> None:
    seen: dict[str, list[int]] = defaultdict(list)

    async def record(event: Event) -> None:
        seen[event.partition_key].append(event.payload["seq"])
        await asyncio.sleep(0)

    replicas = [replica(), replica()]
    for bus in replicas:
        bus.subscribe(record, group="stock-views")
        await bus.start()
    events = stock_events(keys=12, per_key=15)
    for start in range(0, len(events), 25):
        await replicas[0].publish(events[start : start + 25])

    await eventually(lambda: sum(map(len, seen.values())) >= len(events))
    assert {key: order for key, order in seen.items()} == {
        f"SKU-{k}@DC-NORTH": list(range(15)) for k in range(12)
    }


async def test_group_replicas_share_the_events_with_none_lost_or_doubled(
    replica: Replica,
) -> None:
    handled: dict[str, list[str]] = {"a": [], "b": []}

    def handler_of(name: str) -> Callable[[Event], asyncio.Future[None]]:
        async def handle(event: Event) -> None:
            handled[name].append(event.id)

        return handle  # type: ignore[return-value]

    bus_a, bus_b = replica(), replica()
    bus_a.subscribe(handler_of("a"), group="reservations")
    bus_b.subscribe(handler_of("b"), group="reservations")
    await bus_a.start()
    await bus_b.start()
    group_a, group_b = bus_a.consumers[0], bus_b.consumers[0]
    # The shards are split between the two live replicas before anything is published.
    await eventually(
        lambda: (
            len(group_a.held) + len(group_b.held) == SHARDS  # type: ignore[attr-defined]
            and bool(group_a.held and group_b.held)
        )  # type: ignore[attr-defined]
    )
    events = stock_events(keys=40, per_key=5)
    await bus_a.publish(events)

    await eventually(lambda: len(handled["a"]) + len(handled["b"]) >= len(events))
    await asyncio.sleep(0.1)  # a doubled delivery would land here
    everything = handled["a"] + handled["b"]
    assert Counter(everything).most_common(1)[0][1] == 1
    assert set(everything) == {event.id for event in events}
    assert handled["a"]
    assert handled["b"]


async def test_a_batch_longer_than_the_lease_keeps_its_shard_and_its_order(
    replica: Replica,
) -> None:
    handled: list[int] = []

    async def slow_projection(event: Event) -> None:
        await asyncio.sleep(0.06)  # ten of these outlast the 0.3 s lease
        handled.append(event.payload["n"])

    replicas = [replica(), replica()]
    for bus in replicas:
        bus.subscribe(slow_projection, group="slow")
        await bus.start()
    await eventually(lambda: all(bus.consumers[0].held for bus in replicas))  # type: ignore[attr-defined]
    await replicas[0].publish(
        [
            Event(
                type="OrderPlaced",
                partition_key="ORDER-3",
                payload={"n": n},
                occurred_at=EVENT_TIME,
            )
            for n in range(10)
        ]
    )

    await eventually(lambda: len(handled) >= 10)
    await asyncio.sleep(0.4)  # a lapsed lease would have a second replica redo some by now
    assert handled == list(range(10))


async def test_a_replica_that_closes_hands_its_shards_back_at_once(
    replica: Replica, redis_client: redis.Redis
) -> None:
    async def ignore(event: Event) -> None:
        pass

    leaving, staying = replica(), replica()
    for bus in (leaving, staying):
        bus.subscribe(ignore, group="handover")
        await bus.start()
    await eventually(lambda: all(bus.consumers[0].held for bus in (leaving, staying)))  # type: ignore[attr-defined]

    await leaving.close()
    leases = [f"{leaving.prefix}:lease:handover:{shard}" for shard in range(SHARDS)]
    holders = set(await redis_client.mget(leases))
    assert leaving.consumer_name.encode() not in holders
    members = await redis_client.zrange(f"{leaving.prefix}:members:handover", 0, -1)
    assert members == [staying.consumer_name.encode()]


async def test_pending_entries_of_a_dead_consumer_are_reclaimed_by_another(
    replica: Replica, redis_client: redis.Redis
) -> None:
    bus = replica()
    events = [
        Event(type="OrderPlaced", partition_key="ORDER-1", payload={"n": n}, occurred_at=EVENT_TIME)
        for n in range(6)
    ]
    await bus.publish(events)
    stream = bus.stream(shard_of("ORDER-1", SHARDS))
    # A replica took a batch of six, handled two, and died before acking the rest.
    await redis_client.xgroup_create(stream, "orders-projection", id="0", mkstream=True)
    batch = await redis_client.xreadgroup("orders-projection", "dead-replica", {stream: ">"})
    entry_ids = [entry_id for entry_id, _ in batch[0][1]]
    await redis_client.xack(stream, "orders-projection", *entry_ids[:2])
    handled: list[int] = []

    async def project(event: Event) -> None:
        handled.append(event.payload["n"])

    bus.subscribe(project, group="orders-projection")
    await bus.start()

    await eventually(lambda: len(handled) >= 4)
    assert handled == [2, 3, 4, 5]
    pending = await redis_client.xpending(stream, "orders-projection")
    assert pending["pending"] == 0


async def test_a_hung_replica_loses_its_shards_and_another_finishes_its_batch_in_order(
    replica: Replica,
) -> None:
    unblock = asyncio.Event()
    hung_on: list[str] = []
    handled: list[tuple[str, int]] = []

    def handler_of(name: str) -> Callable[[Event], asyncio.Future[None]]:
        async def project(event: Event) -> None:
            if event.payload["n"] == 2 and not hung_on:
                hung_on.append(name)  # this replica stops dead mid-batch
                await unblock.wait()
            handled.append((name, event.payload["n"]))

        return project  # type: ignore[return-value]

    bus_a, bus_b = replica(), replica()
    bus_a.subscribe(handler_of("a"), group="pickups")
    bus_b.subscribe(handler_of("b"), group="pickups")
    await bus_a.start()
    await bus_b.start()
    await eventually(lambda: all(bus.consumers[0].held for bus in (bus_a, bus_b)))  # type: ignore[attr-defined]
    await bus_a.publish(
        [
            Event(
                type="OrderPlaced",
                partition_key="ORDER-7",
                payload={"n": n},
                occurred_at=EVENT_TIME,
            )
            for n in range(5)
        ]
    )

    await eventually(lambda: len(handled) >= 5)
    survivor = "b" if hung_on == ["a"] else "a"
    assert [n for _, n in handled] == [0, 1, 2, 3, 4]
    assert handled[2:] == [(survivor, 2), (survivor, 3), (survivor, 4)]
    unblock.set()  # the hung replica wakes up late: its deliveries are the duplicates
    # that idempotent consumers absorb


async def test_failing_handler_is_retried_then_dead_lettered_and_its_key_moves_on(
    replica: Replica, redis_client: redis.Redis
) -> None:
    bus = replica(max_deliveries=3)
    attempts: Counter[str] = Counter()
    handled: list[str] = []

    async def apply(event: Event) -> None:
        name = event.payload["name"]
        attempts[name] += 1
        if name == "poison" or (name == "flaky" and attempts[name] == 1):
            raise RuntimeError(f"cannot apply {name}")
        handled.append(name)

    bus.subscribe(apply, group="promotions")
    await bus.start()
    names = ["flaky", "poison", "after"]
    events = [
        Event(
            type="StockChanged",
            partition_key="SKU-1@X",
            payload={"name": n},
            occurred_at=EVENT_TIME,
        )
        for n in names
    ]
    await bus.publish(events)

    await eventually(lambda: "after" in handled)
    assert handled == ["flaky", "after"]
    assert attempts == {"flaky": 2, "poison": 3, "after": 1}
    dead = await redis_client.xrange(bus.dead_letter_stream("promotions"))
    assert [fields[b"failures"] for _, fields in dead] == [b"3"]
    assert events[1].id.encode() in dead[0][1][b"event"]
    assert b"cannot apply poison" in dead[0][1][b"error"]


async def test_dedupe_gives_exactly_once_effects_under_redelivery(
    replica: Replica, redis_client: redis.Redis
) -> None:
    effects: Counter[str] = Counter()

    async def reserve(event: Event) -> None:
        effects[event.id] += 1

    bus_a, bus_b = replica(), replica()
    store = RedisStore(redis_client)
    name = f"reserve-{uuid.uuid4().hex}"
    for bus in (bus_a, bus_b):
        bus.subscribe(Idempotent(reserve, store, name=name), group="reserve")
        await bus.start()
    events = stock_events(keys=5, per_key=4)
    # The relay crashed after publishing and before marking the rows: it publishes again.
    await bus_a.publish(events)
    await bus_b.publish(events[:12])

    await eventually(lambda: len(effects) == len(events))
    await asyncio.sleep(0.2)  # the republished copies are delivered and skipped by now
    assert set(effects.values()) == {1}
    assert await redis_client.get(f"seen:{name}:{events[0].id}") == b"done"


async def test_fanout_delivers_every_event_to_every_replica_in_order(replica: Replica) -> None:
    received: dict[str, list[int]] = {"gateway-1": [], "gateway-2": []}
    gateways = {name: replica() for name in received}
    for name, bus in gateways.items():

        async def push(event: Event, into: list[int] = received[name]) -> None:
            into.append(event.payload["seq"])

        bus.subscribe(push, types=["StockChanged"], fanout=True)
        await bus.start()
    events = stock_events(keys=1, per_key=30)
    events.insert(
        5,
        Event(
            type="PriceChanged", partition_key="SKU-0@DC-NORTH", payload={}, occurred_at=EVENT_TIME
        ),
    )
    await replica().publish(events)

    await eventually(lambda: all(len(seen) >= 30 for seen in received.values()))
    assert received == {name: list(range(30)) for name in received}


async def test_outbox_events_reach_another_replica_with_their_envelope_intact(
    replica: Replica, engine: AsyncEngine
) -> None:
    metadata = MetaData()
    outbox = outbox_table(metadata, "demo")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    recorded = [
        Event(
            type="StockChanged",
            partition_key=f"SKU-{n % 3}@STORE-BERLIN",
            payload={"sku": f"SKU-{n % 3}", "onHand": n},
            correlation_id="corr-7",
            causation_id=f"cmd-{n}",
            occurred_at=EVENT_TIME,
        )
        for n in range(9)
    ]
    async with SqlUnitOfWork(session_factory(engine), outbox, clock=suite_clock()) as uow:
        for event in recorded:
            uow.record(event)
        await uow.commit()
    received: list[Event] = []

    async def collect(event: Event) -> None:
        received.append(event)

    consumer = replica()
    consumer.subscribe(collect, types=["StockChanged"], group="stock-projection")
    await consumer.start()
    assert await OutboxRelay(engine, outbox, replica().publish, clock=suite_clock()).drain() == len(
        recorded
    )

    await eventually(lambda: len(received) >= len(recorded))
    assert sorted(received, key=lambda e: e.payload["onHand"]) == recorded
