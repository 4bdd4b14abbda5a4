"""Available-to-promise per (sku, channel), cached for the hottest read of the graph.

Every commit that changes availability records AvailabilityChanged for each (sku, channel)
it touched; the unit of work drops those cache entries before the mutation answers, in the
shared store, so no replica serves a value from before the change for longer than a load
that raced the commit (bounded by ``fresh_for``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache import ReadModel, Store
from domains.inventory import repository
from domains.inventory.model import ChannelAvailability, LocationAllocation
from kernel.clock import Clock
from kernel.event_types import AvailabilityChanged
from kernel.events import Event

AVAILABILITY = "inventory.availability"

Key = tuple[str, str]


def to_json(availability: ChannelAvailability) -> dict[str, Any]:
    return {
        "sku": availability.sku,
        "channel": availability.channel,
        "countsIncoming": availability.counts_incoming,
        "locations": [
            [a.location_id, a.available, a.incoming_counted, a.share_percent, a.cap, a.allocated]
            for a in availability.locations
        ],
    }


def from_json(data: dict[str, Any]) -> ChannelAvailability:
    return ChannelAvailability(
        sku=data["sku"],
        channel=data["channel"],
        counts_incoming=data["countsIncoming"],
        locations=tuple(LocationAllocation(*row) for row in data["locations"]),
    )


class AvailabilityReadModel:
    def __init__(
        self,
        store: Store,
        engine: AsyncEngine,
        *,
        clock: Clock,
        fresh_for: float = 10.0,
        serve_stale_for: float = 20.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.cache: ReadModel[Key] = ReadModel(
            store,
            AVAILABILITY,
            self._load,
            clock=clock,
            fresh_for=fresh_for,
            serve_stale_for=serve_stale_for,
        )

    async def _load(self, keys: Sequence[Key]) -> dict[Key, Any]:
        async with self.engine.connect() as conn:
            found = await repository.load_availability(conn, keys, self.clock.now())
        return {key: to_json(value) for key, value in found.items()}

    async def get_many(self, keys: Sequence[Key]) -> list[ChannelAvailability]:
        values = await self.cache.get_many(keys)
        return [
            from_json(value) if value is not None else ChannelAvailability(sku, channel, False, ())
            for (sku, channel), value in zip(keys, values, strict=True)
        ]

    async def invalidate_for(self, events: Iterable[Event]) -> None:
        changes = [
            event.payload_as(AvailabilityChanged)
            for event in events
            if event.type == AvailabilityChanged.TYPE
        ]
        keys = {(changed.sku, changed.channel) for changed in changes}
        if keys:
            await self.cache.invalidate(sorted(keys))
