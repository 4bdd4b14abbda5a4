"""The typed payload of every event a domain records, one module per producing domain.

Producers build events with ``Event.of(SomeEvent(...), ...)``; consumers read them with
``event.payload_as(SomeEvent)``. The JSON shape of each payload (camelCase keys, money
and rates as decimal strings, moments in ISO 8601) is the one on the bus, in the outboxes
and in the subscription feeds, so events recorded before these contracts still decode.
"""

from __future__ import annotations

from kernel.event_types.inventory import (
    AvailabilityChanged,
    ChannelPolicyChanged,
    RegionalAvailabilityChanged,
    ReservationChange,
    ReservationConsumed,
    ReservationCreated,
    ReservationExpired,
    ReservationReleased,
    StockChanged,
)
from kernel.event_types.orders import (
    LineQuantity,
    OrderChange,
    OrderChangeHeader,
    OrderCreated,
    OrderedLine,
    OrderFulfilment,
    OrderLinesCancelled,
    OrderLinesShipped,
    OrderRefunded,
    OrderReturnReceived,
    OrderReturnRequested,
    OrderStatusChanged,
    OrderTotals,
    ReturnedLine,
)
from kernel.event_types.pricing import (
    PriceChanged,
    PriceScheduled,
    PromotionActivated,
    PromotionChange,
    PromotionCreated,
    PromotionPaused,
    PromotionRolledBack,
    PromotionStatusChanged,
    PromotionTermsSnapshot,
    PromotionVersionPublished,
    SkuPricingChanged,
)
from kernel.event_types.products import (
    ChannelPublication,
    ChannelPublicationChange,
    ProductDiscontinued,
    ProductPublished,
    ProductUnpublished,
    ProductUpserted,
)
from kernel.payloads import EventPayload, MalformedPayload

ORDER_EVENTS: tuple[type[EventPayload], ...] = (
    OrderCreated,
    OrderStatusChanged,
    OrderLinesShipped,
    OrderLinesCancelled,
    OrderReturnRequested,
    OrderReturnReceived,
    OrderRefunded,
)
INVENTORY_EVENTS: tuple[type[EventPayload], ...] = (
    StockChanged,
    AvailabilityChanged,
    RegionalAvailabilityChanged,
    ChannelPolicyChanged,
    ReservationCreated,
    ReservationReleased,
    ReservationExpired,
    ReservationConsumed,
)
PRICING_EVENTS: tuple[type[EventPayload], ...] = (
    PriceChanged,
    PriceScheduled,
    SkuPricingChanged,
    PromotionCreated,
    PromotionVersionPublished,
    PromotionActivated,
    PromotionPaused,
    PromotionRolledBack,
    PromotionStatusChanged,
)
PRODUCT_EVENTS: tuple[type[EventPayload], ...] = (
    ProductUpserted,
    ProductPublished,
    ProductUnpublished,
    ProductDiscontinued,
)

# Every contract by the event type it describes.
CONTRACTS: dict[str, type[EventPayload]] = {
    contract.TYPE: contract
    for contract in (*ORDER_EVENTS, *INVENTORY_EVENTS, *PRICING_EVENTS, *PRODUCT_EVENTS)
}

__all__ = [
    "CONTRACTS",
    "INVENTORY_EVENTS",
    "ORDER_EVENTS",
    "PRICING_EVENTS",
    "PRODUCT_EVENTS",
    "AvailabilityChanged",
    "ChannelPolicyChanged",
    "ChannelPublication",
    "ChannelPublicationChange",
    "EventPayload",
    "LineQuantity",
    "MalformedPayload",
    "OrderChange",
    "OrderChangeHeader",
    "OrderCreated",
    "OrderFulfilment",
    "OrderLinesCancelled",
    "OrderLinesShipped",
    "OrderRefunded",
    "OrderReturnReceived",
    "OrderReturnRequested",
    "OrderStatusChanged",
    "OrderTotals",
    "OrderedLine",
    "PriceChanged",
    "PriceScheduled",
    "ProductDiscontinued",
    "ProductPublished",
    "ProductUnpublished",
    "ProductUpserted",
    "PromotionActivated",
    "PromotionChange",
    "PromotionCreated",
    "PromotionPaused",
    "PromotionRolledBack",
    "PromotionStatusChanged",
    "PromotionTermsSnapshot",
    "PromotionVersionPublished",
    "RegionalAvailabilityChanged",
    "ReservationChange",
    "ReservationConsumed",
    "ReservationCreated",
    "ReservationExpired",
    "ReservationReleased",
    "ReturnedLine",
    "SkuPricingChanged",
    "StockChanged",
]
