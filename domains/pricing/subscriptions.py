"""Pricing's live updates: promotions changing status, whole (a window opening or closing
among them) or for one SKU in one region (a low-stock pause and its resumption)."""

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
from domains.pricing.announcements import Reason
from domains.pricing.read_models import PROMOTION_EVENTS
from domains.pricing.types import PromotionStatus, PromotionType, loaders
from kernel.event_types import (
    PromotionActivated,
    PromotionCreated,
    PromotionPaused,
    PromotionRolledBack,
    PromotionStatusChanged,
    PromotionVersionPublished,
)
from kernel.event_types import PromotionChange as WholePromotionChange
from kernel.events import Event

if TYPE_CHECKING:
    from domains.pricing.schema import ProductType

STOCK_STATUS_CHANGED = PromotionStatusChanged.TYPE


@strawberry.enum
class PromotionChange(enum.Enum):
    CREATED = "CREATED"
    VERSION_PUBLISHED = "VERSION_PUBLISHED"
    ACTIVATED = "ACTIVATED"
    PAUSED = "PAUSED"
    ROLLED_BACK = "ROLLED_BACK"
    PAUSED_FOR_LOW_STOCK = "PAUSED_FOR_LOW_STOCK"
    RESUMED_AFTER_LOW_STOCK = "RESUMED_AFTER_LOW_STOCK"
    WINDOW_STARTED = "WINDOW_STARTED"
    WINDOW_ENDED = "WINDOW_ENDED"


# The window transitions, by the reason their PromotionStatusChanged gives.
_WINDOW_CHANGES = {
    str(Reason.WINDOW_STARTED): PromotionChange.WINDOW_STARTED,
    str(Reason.WINDOW_ENDED): PromotionChange.WINDOW_ENDED,
}


# Each whole-promotion event: its contract and the change it shows as.
_CHANGES: dict[str, tuple[type[WholePromotionChange], PromotionChange]] = {
    PromotionCreated.TYPE: (PromotionCreated, PromotionChange.CREATED),
    PromotionVersionPublished.TYPE: (
        PromotionVersionPublished,
        PromotionChange.VERSION_PUBLISHED,
    ),
    PromotionActivated.TYPE: (PromotionActivated, PromotionChange.ACTIVATED),
    PromotionPaused.TYPE: (PromotionPaused, PromotionChange.PAUSED),
    PromotionRolledBack.TYPE: (PromotionRolledBack, PromotionChange.ROLLED_BACK),
}


def _read(event: Event) -> PromotionStatusChanged | WholePromotionChange:
    """The payload of a promotion event: for one SKU in one region, or for the whole."""
    if event.type == STOCK_STATUS_CHANGED:
        return event.payload_as(PromotionStatusChanged)
    return event.payload_as(_CHANGES[event.type][0])


def _change(event: Event, read: PromotionStatusChanged | WholePromotionChange) -> PromotionChange:
    if isinstance(read, PromotionStatusChanged):
        if read.reason in _WINDOW_CHANGES:
            return _WINDOW_CHANGES[read.reason]
        paused = read.status == model.PromotionStatus.PAUSED
        return (
            PromotionChange.PAUSED_FOR_LOW_STOCK
            if paused
            else PromotionChange.RESUMED_AFTER_LOW_STOCK
        )
    return _CHANGES[event.type][1]


def _channels(read: PromotionStatusChanged | WholePromotionChange) -> list[str]:
    channels = read.channels if isinstance(read, PromotionStatusChanged) else read.terms.channels
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
    reason: str | None = strawberry.field(
        description="Why, for a change nobody made to the promotion: LOW_STOCK, "
        "STOCK_RECOVERED, OPERATOR, TERMS_CHANGED, WINDOW_STARTED or WINDOW_ENDED."
    )

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
        event = delivery.event
        read = _read(event)
        return cls(
            cursor=delivery.cursor,
            occurred_at=event.occurred_at,
            change=_change(event, read),
            promotion_id=strawberry.ID(read.promotion_id),
            status=model.PromotionStatus(read.status),
            sku=strawberry.ID(read.sku)
            if isinstance(read, PromotionStatusChanged) and read.sku is not None
            else None,
            region=read.region if isinstance(read, PromotionStatusChanged) else None,
            reason=read.reason if isinstance(read, PromotionStatusChanged) else None,
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
            model.check_channel(channel, info.context["domain"].sales)

        def wants(event: Event) -> bool:
            channels = _channels(_read(event))
            return channel is None or not channels or channel in channels

        types = [*PROMOTION_EVENTS, STOCK_STATUS_CHANGED]
        stream = await deliveries(info, types, wants, after=after)
        return (PromotionStatusUpdate.of(delivery) async for delivery in stream)
