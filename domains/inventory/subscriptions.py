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
from adapters.graphql.subscriptions import deliveries
from domains.inventory import model
from domains.inventory.graphql_types import Location, Product, StockLevel, location_of
from kernel.errors import InvalidInput
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
        payload = delivery.event.payload
        level = model.StockLevel(
            sku=payload["sku"],
            location_id=payload["locationId"],
            on_hand=payload["onHand"],
            committed=payload["committed"],
            reserved=payload["reserved"],
            safety_stock=payload["safetyStock"],
            quarantined=payload["quarantined"],
            incoming=payload["incoming"],
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
        payload = delivery.event.payload
        return cls(
            cursor=delivery.cursor,
            occurred_at=delivery.event.occurred_at,
            sku=strawberry.ID(payload["sku"]),
            channel=payload["channel"],
            available=payload["available"],
            product=Product(sku=strawberry.ID(payload["sku"])),
        )


def _text(value: str, name: str, max_length: int) -> str:
    if not model.is_text(value, max_length):
        raise InvalidInput(f"{name} must be 1 to {max_length} characters")
    return value


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Stock levels at a location after each change, for the given SKUs "
        "(all when omitted); with `after`, the changes since that cursor come first."
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
            payload = event.payload
            return payload.get("locationId") == location and (
                wanted is None or payload.get("sku") in wanted
            )

        stream = await deliveries(info, ["StockChanged"], wants, after=after)
        return (StockChange.of(delivery) async for delivery in stream)

    @strawberry.subscription(
        description="A SKU's available-to-promise in a channel after each change."
    )
    async def availability_changed(
        self, info: Info, sku: strawberry.ID, channel: str, after: str | None = None
    ) -> AsyncGenerator[AvailabilityChange, None]:
        key = (_text(sku, "sku", 64), _text(channel, "channel", 32))

        def wants(event: Event) -> bool:
            return (event.payload.get("sku"), event.payload.get("channel")) == key

        stream = await deliveries(info, ["AvailabilityChanged"], wants, after=after)
        return (AvailabilityChange.of(delivery) async for delivery in stream)
