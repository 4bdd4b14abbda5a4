"""Pricing's live updates: promotions changing status, whole or for one SKU in one region
(a low-stock pause and its resumption)."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from adapters.bus.hub import Delivery
from adapters.graphql.subscriptions import deliveries
from domains.pricing import model
from domains.pricing.read_models import PROMOTION_EVENTS
from domains.pricing.types import PromotionStatus, PromotionType, loaders
from kernel.events import Event

if TYPE_CHECKING:
    from domains.pricing.schema import ProductType

STOCK_STATUS_CHANGED = "PromotionStatusChanged"


@strawberry.enum
class PromotionChange(enum.Enum):
    CREATED = "CREATED"
    VERSION_PUBLISHED = "VERSION_PUBLISHED"
    ACTIVATED = "ACTIVATED"
    PAUSED = "PAUSED"
    ROLLED_BACK = "ROLLED_BACK"
    PAUSED_FOR_LOW_STOCK = "PAUSED_FOR_LOW_STOCK"
    RESUMED_AFTER_LOW_STOCK = "RESUMED_AFTER_LOW_STOCK"


_CHANGES = {
    "PromotionCreated": PromotionChange.CREATED,
    "PromotionVersionPublished": PromotionChange.VERSION_PUBLISHED,
    "PromotionActivated": PromotionChange.ACTIVATED,
    "PromotionPaused": PromotionChange.PAUSED,
    "PromotionRolledBack": PromotionChange.ROLLED_BACK,
}


def _change(event: Event) -> PromotionChange:
    if event.type == STOCK_STATUS_CHANGED:
        paused = event.payload["status"] == model.PromotionStatus.PAUSED
        return (
            PromotionChange.PAUSED_FOR_LOW_STOCK
            if paused
            else PromotionChange.RESUMED_AFTER_LOW_STOCK
        )
    return _CHANGES[event.type]


def _channels(event: Event) -> list[str]:
    payload = event.payload
    channels = payload["terms"]["channels"] if "terms" in payload else payload["channels"]
    return list(channels)


@strawberry.type(
    description="A promotion's status changed: as a whole, or for one SKU in one region "
    "(then sku and region are set)."
)
class PromotionStatusUpdate:
    cursor: str = strawberry.field(
        description="Pass it as `after` to resume right after this event."
    )
    occurred_at: datetime
    change: PromotionChange
    promotion_id: strawberry.ID
    status: PromotionStatus = strawberry.field(  # type: ignore[valid-type]
        description="The status the change left the promotion in (for the SKU and region, "
        "when they are set)."
    )
    sku: strawberry.ID | None
    region: str | None

    @strawberry.field(description="The product, when the change is for one SKU.")
    def product(
        self,
    ) -> Annotated[ProductType, strawberry.lazy("domains.pricing.schema")] | None:
        # schema.py builds the schema from this module: its Product type is imported late.
        from domains.pricing.schema import ProductType

        return None if self.sku is None else ProductType(sku=self.sku)

    @strawberry.field(description="The promotion as it is now.")
    async def promotion(self, info: Info) -> PromotionType | None:
        found = await loaders(info).promotion_by_id.load(str(self.promotion_id))
        return None if found is None else PromotionType.of(found)

    @classmethod
    def of(cls, delivery: Delivery) -> PromotionStatusUpdate:
        event, payload = delivery.event, delivery.event.payload
        sku = payload.get("sku") if event.type == STOCK_STATUS_CHANGED else None
        return cls(
            cursor=delivery.cursor,
            occurred_at=event.occurred_at,
            change=_change(event),
            promotion_id=strawberry.ID(payload["promotionId"]),
            status=model.PromotionStatus(payload["status"]),
            sku=None if sku is None else strawberry.ID(sku),
            region=payload.get("region") if event.type == STOCK_STATUS_CHANGED else None,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Promotions changing status, as a whole or per SKU and region; with a "
        "channel, only the promotions offered in it (every channel when omitted)."
    )
    async def promotion_status_changed(
        self, info: Info, channel: str | None = None, after: str | None = None
    ) -> AsyncGenerator[PromotionStatusUpdate, None]:
        if channel is not None:
            model.check_channel(channel)

        def wants(event: Event) -> bool:
            channels = _channels(event)
            return channel is None or not channels or channel in channels

        types = [*PROMOTION_EVENTS, STOCK_STATUS_CHANGED]
        stream = await deliveries(info, types, wants, after=after)
        return (PromotionStatusUpdate.of(delivery) async for delivery in stream)
