"""Idempotent consumers: an event id takes effect once, however often it is delivered."""

from __future__ import annotations

import asyncio

import pytest

from adapters.bus import EventInFlight, Idempotent, InProcessBus, idempotent
from adapters.cache import MemoryStore
from kernel.events import Event
from tests.support import EVENT_TIME


def order_placed() -> Event:
    return Event(type="OrderPlaced", partition_key="ORDER-1", payload={}, occurred_at=EVENT_TIME)


async def test_idempotent_handler_acts_once_per_event_id() -> None:
    effects: list[str] = []

    async def confirm(event: Event) -> None:
        effects.append(event.id)

    handler = Idempotent(confirm, MemoryStore(), name="confirm")
    event, other = order_placed(), order_placed()
    for delivery in (event, event, other, event):
        await handler(delivery)
    assert effects == [event.id, other.id]


async def test_idempotent_handler_acts_again_after_a_failed_attempt() -> None:
    attempts: list[str] = []

    async def confirm(event: Event) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("database away")

    handler = Idempotent(confirm, MemoryStore(), name="confirm")
    event = order_placed()
    with pytest.raises(RuntimeError):
        await handler(event)
    await handler(event)
    await handler(event)
    assert attempts == [event.id, event.id]


async def test_idempotent_handler_refuses_a_concurrent_second_delivery() -> None:
    release = asyncio.Event()
    effects: list[str] = []

    async def confirm(event: Event) -> None:
        await release.wait()
        effects.append(event.id)

    handler = Idempotent(confirm, MemoryStore(), name="confirm")
    event = order_placed()
    first = asyncio.create_task(handler(event))
    await asyncio.sleep(0)
    with pytest.raises(EventInFlight):
        await handler(event)
    release.set()
    await first
    assert effects == [event.id]


async def test_idempotent_consumers_with_different_names_each_act_once() -> None:
    store = MemoryStore()
    effects: list[str] = []

    async def project(event: Event) -> None:
        effects.append("project")

    async def notify(event: Event) -> None:
        effects.append("notify")

    bus = InProcessBus()
    bus.subscribe(idempotent(project, store))
    bus.subscribe(idempotent(notify, store))
    event = order_placed()
    await bus.publish([event, event])
    assert effects == ["project", "notify"]
