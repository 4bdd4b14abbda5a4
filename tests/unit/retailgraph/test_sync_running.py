"""The sync commands publish their domains' events and consume none."""

from __future__ import annotations

from adapters.bus.inprocess import InProcessBus
from kernel.events import Event
from retailgraph.sync.running import PublishOnlyBus
from tests.support import EVENT_TIME


async def test_publish_only_bus_passes_events_on_and_subscribes_nobody() -> None:
    bus = InProcessBus()
    seen: list[str] = []

    async def elsewhere(event: Event) -> None:
        seen.append(event.type)

    async def in_the_command(event: Event) -> None:
        raise AssertionError("a sync command consumes no events")

    bus.subscribe(elsewhere)
    publisher = PublishOnlyBus(bus)
    publisher.subscribe(in_the_command)
    await publisher.publish(
        [Event(type="StockChanged", partition_key="SKU@DC", payload={}, occurred_at=EVENT_TIME)]
    )
    assert seen == ["StockChanged"]
