"""Inventory's live updates: stock levels at a location, and channel availability.

Each payload carries the cursor to resume after it and the ``Product`` entity, so the
gateway can add what other subgraphs know (name, price) to every event.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from adapters.bus.hub import Delivery
from adapters.graphql.access import own_locations
from adapters.graphql.subscriptions import deliveries
from domains.inventory import model
from domains.inventory.graphql_types import Location, Product, StockLevel, location_of
from kernel.errors import InvalidInput
from kernel.event_types import AvailabilityChanged, StockChanged
from kernel.events import Event

MAX_SKUS = 1_000
_CURSOR = "Pass it as `after` to resume right after this event."


@strawberry.type(description="A SKU's named quantities at a location, after a change.")
class StockChange:
    cursor: str = strawberry.field(description=_CURSOR)
    occurred_at: datetime
    sku: strawberry.ID
    location_id: strawberry.ID
    stock_level: StockLevel
    product: Product

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        return await location_of(info, self.location_id)

    @classmethod
    def of(cls, delivery: Delivery) -> StockChange:
        changed = delivery.event.payload_as(StockChanged)
        level = model.StockLevel(
            sku=changed.sku,
            location_id=changed.location_id,
            on_hand=changed.on_hand,
            committed=changed.committed,
            reserved=changed.reserved,
            safety_stock=changed.safety_stock,
            quarantined=changed.quarantined,
            incoming=changed.incoming,
        )
        return cls(
            cursor=delivery.cursor,
            occurred_at=delivery.event.occurred_at,
            sku=strawberry.ID(level.sku),
            location_id=strawberry.ID(level.location_id),
            stock_level=StockLevel.from_model(level),
            product=Product(sku=strawberry.ID(level.sku)),
        )


@strawberry.type(description="A SKU's available-to-promise in a channel, after a change.")
class AvailabilityChange:
    cursor: str = strawberry.field(description=_CURSOR)
    occurred_at: datetime
    sku: strawberry.ID
    channel: str
    available: int
    product: Product

    @classmethod
    def of(cls, delivery: Delivery) -> AvailabilityChange:
        changed = delivery.event.payload_as(AvailabilityChanged)
        return cls(
            cursor=delivery.cursor,
            occurred_at=delivery.event.occurred_at,
            sku=strawberry.ID(changed.sku),
            channel=changed.channel,
            available=changed.available,
            product=Product(sku=strawberry.ID(changed.sku)),
        )


def _text(value: str, name: str, max_length: int) -> str:
    if not model.is_text(value, max_length):
        raise InvalidInput(f"{name} must be 1 to {max_length} characters")
    return value


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stock levels at a location after each change, for the given SKUs "
        "(all when omitted); with `after`, the changes since that cursor come first.",
        directives=own_locations(),
    )
    async def stock_changed(
        self,
        info: Info,
        location_id: strawberry.ID,
        skus: list[strawberry.ID] | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[StockChange, None]:
        location = _text(location_id, "locationId", 64)
        if skus is not None and len(skus) > MAX_SKUS:
            raise InvalidInput(f"at most {MAX_SKUS} SKUs per subscription")
        wanted = None if skus is None else frozenset(skus)

        def wants(event: Event) -> bool:
            changed = event.payload_as(StockChanged)
            return changed.location_id == location and (wanted is None or changed.sku in wanted)

        stream = await deliveries(info, [StockChanged.TYPE], wants, after=after)
        return (StockChange.of(delivery) async for delivery in stream)

    @strawberry.subscription(
        description="A SKU's available-to-promise in a channel after each change."
    )
    async def availability_changed(
        self, info: Info, sku: strawberry.ID, channel: str, after: str | None = None
    ) -> AsyncGenerator[AvailabilityChange, None]:
        key = (_text(sku, "sku", 64), _text(channel, "channel", 32))

        def wants(event: Event) -> bool:
            changed = event.payload_as(AvailabilityChanged)
            return (changed.sku, changed.channel) == key

        stream = await deliveries(info, [AvailabilityChanged.TYPE], wants, after=after)
        return (AvailabilityChange.of(delivery) async for delivery in stream)
