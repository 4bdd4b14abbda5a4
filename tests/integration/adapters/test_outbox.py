"""The outbox commits events with state and relays them in order, once the state is real."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import session_factory
from adapters.db.outbox import OutboxRelay, outbox_table
from adapters.db.uow import SqlUnitOfWork
from kernel import correlation
from kernel.clock import SettableClock
from kernel.events import Event
from tests.support import EVENT_TIME, suite_clock

metadata = MetaData()
notes = Table("demo_note", metadata, Column("id", String(36), primary_key=True))
demo_outbox = outbox_table(metadata, "demo")


async def _setup(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def test_outbox_events_commit_and_roll_back_with_the_state(engine: AsyncEngine) -> None:
    await _setup(engine)
    sessions = session_factory(engine)
    async with SqlUnitOfWork(sessions, demo_outbox, clock=suite_clock()) as uow:
        await uow.session.execute(insert(notes).values(id="kept"))
        uow.record(
            Event(
                type="NoteAdded",
                partition_key="kept",
                payload={"id": "kept"},
                occurred_at=EVENT_TIME,
            )
        )
        await uow.commit()
    async with SqlUnitOfWork(sessions, demo_outbox, clock=suite_clock()) as uow:
        await uow.session.execute(insert(notes).values(id="dropped"))
        uow.record(
            Event(
                type="NoteAdded",
                partition_key="dropped",
                payload={"id": "dropped"},
                occurred_at=EVENT_TIME,
            )
        )
        # leaving without commit rolls back the row and its event together

    async with engine.connect() as conn:
        assert (await conn.execute(select(notes.c.id))).scalars().all() == ["kept"]
        assert (await conn.execute(select(demo_outbox.c.partition_key))).scalars().all() == ["kept"]


async def test_relay_publishes_in_recording_order_exactly_once(engine: AsyncEngine) -> None:
    await _setup(engine)
    sessions = session_factory(engine)
    correlation.bind("corr-1")
    for batch in range(3):
        async with SqlUnitOfWork(sessions, demo_outbox, clock=suite_clock()) as uow:
            uow.record(
                *(
                    Event(
                        type="Tick",
                        partition_key="p",
                        payload={"n": batch * 10 + i},
                        occurred_at=EVENT_TIME,
                    )
                    for i in range(4)
                )
            )
            await uow.commit()
    published: list[Event] = []

    async def publish(events: list[Event]) -> None:
        published.extend(events)

    relay = OutboxRelay(engine, demo_outbox, publish, batch_size=5, clock=suite_clock())
    assert await relay.depth() == 12
    assert await relay.drain() == 12
    assert await relay.drain() == 0
    assert [e.payload["n"] for e in published] == [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]
    assert {e.correlation_id for e in published} == {"corr-1"}
    assert await relay.depth() == 0


async def test_a_failed_publish_leaves_events_for_the_next_pass(engine: AsyncEngine) -> None:
    await _setup(engine)
    async with SqlUnitOfWork(session_factory(engine), demo_outbox, clock=suite_clock()) as uow:
        uow.record(Event(type="Tick", partition_key="p", payload={}, occurred_at=EVENT_TIME))
        await uow.commit()

    async def broken(events: list[Event]) -> None:
        raise ConnectionError("bus down")

    failing = OutboxRelay(engine, demo_outbox, broken, clock=suite_clock())
    with pytest.raises(ConnectionError):
        await failing.relay_once()
    assert await failing.depth() == 1


async def test_a_started_relay_publishes_in_the_background_until_stopped(
    engine: AsyncEngine,
) -> None:
    await _setup(engine)
    delivered = asyncio.Event()
    published: list[str] = []

    async def publish(events: list[Event]) -> None:
        published.extend(e.type for e in events)
        delivered.set()

    relay = OutboxRelay(engine, demo_outbox, publish, clock=suite_clock())
    relay.start()
    relay.start()  # a second start keeps the one background task
    async with SqlUnitOfWork(session_factory(engine), demo_outbox, clock=suite_clock()) as uow:
        uow.record(Event(type="Tick", partition_key="p", payload={}, occurred_at=EVENT_TIME))
        await uow.commit()
    relay.wake()
    async with asyncio.timeout(10):
        await delivered.wait()
    await relay.stop()
    await relay.stop()  # stopping a stopped relay is a no-op
    assert published == ["Tick"]


async def test_stopping_a_relay_just_woken_ends_it(engine: AsyncEngine) -> None:
    # A cancellation landing as the wake-up fires must still end the task (the old
    # wait_for-based loop could swallow it and relay forever).
    await _setup(engine)

    async def publish(events: list[Event]) -> None:
        return None

    relay = OutboxRelay(engine, demo_outbox, publish, clock=suite_clock())
    for _ in range(20):
        relay.start()
        await asyncio.sleep(0)
        relay.wake()
        async with asyncio.timeout(10):
            await relay.stop()


async def test_stopping_a_relay_in_the_middle_of_a_pass_lets_the_pass_finish(
    engine: AsyncEngine,
) -> None:
    # Cancelled inside its transaction, a pass could leave its connection in it: on
    # SQLite the database's write lock stayed held until the engine was disposed.
    await _setup(engine)
    publishing, release = asyncio.Event(), asyncio.Event()
    published: list[str] = []

    async def publish(events: list[Event]) -> None:
        publishing.set()
        await release.wait()
        published.extend(e.type for e in events)

    relay = OutboxRelay(engine, demo_outbox, publish, clock=suite_clock(), gather_for=0)
    async with SqlUnitOfWork(session_factory(engine), demo_outbox, clock=suite_clock()) as uow:
        uow.record(Event(type="Tick", partition_key="p", payload={}, occurred_at=EVENT_TIME))
        await uow.commit()
    relay.start()
    async with asyncio.timeout(10):
        await publishing.wait()
    stopping = asyncio.create_task(relay.stop())
    await asyncio.sleep(0.05)
    release.set()
    async with asyncio.timeout(10):
        await stopping

    assert published == ["Tick"]
    assert await relay.depth() == 0
    # The pass's transaction is over: another writer gets the database at once.
    async with asyncio.timeout(5):
        async with engine.begin() as conn:
            await conn.execute(insert(notes).values(id="after"))


async def test_commits_soon_after_a_wake_go_out_in_the_woken_relays_pass(
    engine: AsyncEngine,
) -> None:
    await _setup(engine)
    sessions = session_factory(engine)
    batches: list[list[str]] = []
    first_pass_done = asyncio.Event()
    both_delivered = asyncio.Event()

    async def publish(events: list[Event]) -> None:
        batches.append([e.partition_key for e in events])
        first_pass_done.set()
        if sum(map(len, batches)) == 3:
            both_delivered.set()

    relay = OutboxRelay(engine, demo_outbox, publish, clock=suite_clock(), gather_for=1.0)

    async def commit(key: str) -> None:
        async with SqlUnitOfWork(
            sessions, demo_outbox, clock=suite_clock(), on_commit=lambda _: relay.wake()
        ) as uow:
            uow.record(Event(type="Tick", partition_key=key, payload={}, occurred_at=EVENT_TIME))
            await uow.commit()

    # An event waiting before the start goes out in the relay's first pass, which then
    # waits for a wake.
    await commit("before")
    relay.start()
    async with asyncio.timeout(10):
        await first_pass_done.wait()
    await commit("first")
    await commit("second")
    async with asyncio.timeout(10):
        await both_delivered.wait()
    await relay.stop()
    assert batches == [["before"], ["first", "second"]]


async def test_the_relay_deletes_events_relayed_longer_ago_than_it_keeps_them(
    engine: AsyncEngine,
) -> None:
    """Events relayed more than ``keep_published`` ago go; those relayed since, and those
    not relayed at all, stay."""
    await _setup(engine)
    clock = SettableClock(EVENT_TIME)
    sessions = session_factory(engine)

    async def record(*keys: str) -> None:
        async with SqlUnitOfWork(sessions, demo_outbox, clock=clock) as uow:
            for key in keys:
                uow.record(
                    Event(type="Tick", partition_key=key, payload={}, occurred_at=clock.now())
                )
            await uow.commit()

    async def kept() -> list[str]:
        async with engine.connect() as conn:
            query = select(demo_outbox.c.partition_key).order_by(demo_outbox.c.seq)
            return list((await conn.execute(query)).scalars())

    async def publish(_events: list[Event]) -> None:
        return None

    relay = OutboxRelay(engine, demo_outbox, publish, clock=clock, keep_published=timedelta(days=7))
    await record("old-1", "old-2")
    await relay.drain()
    clock.advance(timedelta(days=6))
    await record("recent")
    await relay.drain()
    await record("waiting")  # not relayed

    clock.advance(timedelta(days=1, seconds=1))
    assert await relay.purge() == 2
    assert await kept() == ["recent", "waiting"]

    clock.advance(timedelta(days=30))
    assert await relay.purge() == 1
    assert await kept() == ["waiting"], "an event not relayed yet is never deleted"
