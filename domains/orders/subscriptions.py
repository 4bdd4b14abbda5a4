"""Orders' live updates: one order's status, and the orders fulfilled at a location (a
store's pickup orders, a DC's shipments) as they are created and as they move on."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from adapters.bus.hub import Delivery
from adapters.graphql.access import own_locations, requires
from adapters.graphql.subscriptions import deliveries
from domains.orders import model
from domains.orders.types import OrderStatus, OrderType, loaders
from kernel.errors import InvalidInput
from kernel.event_types import OrderCreated, OrderStatusChanged
from kernel.events import Event

CREATED = OrderCreated.TYPE
STATUS_CHANGED = OrderStatusChanged.TYPE


@strawberry.enum
class OrderUpdateKind(enum.Enum):
    CREATED = "CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"


def _status_after(event: Event) -> str:
    if event.type == STATUS_CHANGED:
        return event.payload_as(OrderStatusChanged).to_status
    return model.OrderStatus.PENDING


def _location_of(event: Event) -> str:
    if event.type == CREATED:
        return event.payload_as(OrderCreated).fulfilment.location_id
    return event.payload_as(OrderStatusChanged).location_id


@strawberry.type(description="An order was created, or its status changed.")
class OrderUpdate:
    cursor: str = strawberry.field(
        description="Pass it as `after` to resume right after this event."
    )
    occurred_at: datetime
    kind: OrderUpdateKind
    order_id: strawberry.ID
    number: str
    status: OrderStatus = strawberry.field(  # type: ignore[valid-type]
        description="The status the event left the order in."
    )
    previous_status: OrderStatus | None  # type: ignore[valid-type]
    reason: str | None

    @strawberry.field(description="The order as it is now; null if it cannot be read.")
    async def order(self, info: Info) -> OrderType | None:
        found = await loaders(info).order_by_id.load(str(self.order_id))
        return None if found is None else OrderType(order=found)

    @classmethod
    def of(cls, delivery: Delivery) -> OrderUpdate:
        event = delivery.event
        if event.type == STATUS_CHANGED:
            changed = event.payload_as(OrderStatusChanged)
            return cls(
                cursor=delivery.cursor,
                occurred_at=event.occurred_at,
                kind=OrderUpdateKind.STATUS_CHANGED,
                order_id=strawberry.ID(changed.order_id),
                number=changed.number,
                status=model.OrderStatus(changed.to_status),
                previous_status=model.OrderStatus(changed.from_status),
                reason=changed.reason,
            )
        created = event.payload_as(OrderCreated)
        return cls(
            cursor=delivery.cursor,
            occurred_at=event.occurred_at,
            kind=OrderUpdateKind.CREATED,
            order_id=strawberry.ID(created.order_id),
            number=created.number,
            status=model.OrderStatus.PENDING,
            previous_status=None,
            reason="created",
        )


def _id(value: str, name: str) -> str:
    if not value or len(value) > 100 or "\x00" in value:
        raise InvalidInput(f"{name} must be 1 to 100 characters")
    return value


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each status change of one order.",
        directives=[*requires("orders:read"), *own_locations()],
    )
    async def order_status_changed(
        self, info: Info, order_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[OrderUpdate, None]:
        wanted = _id(order_id, "orderId")

        def wants(event: Event) -> bool:
            return event.payload_as(OrderStatusChanged).order_id == wanted

        stream = await deliveries(info, [STATUS_CHANGED], wants, after=after)
        return (OrderUpdate.of(delivery) async for delivery in stream)

    @strawberry.subscription(
        directives=[*requires("orders:read"), *own_locations()],
        description="Orders fulfilled at a location (a store's pickup orders, a DC's "
        "shipments) when created and at each status change; `statuses` keeps the updates "
        "that leave an order in one of them.",
    )
    async def orders_at_location(
        self,
        info: Info,
        location_id: strawberry.ID,
        statuses: list[OrderStatus] | None = None,  # type: ignore[valid-type]
        after: str | None = None,
    ) -> AsyncGenerator[OrderUpdate, None]:
        location = _id(location_id, "locationId")
        wanted = None if statuses is None else {model.OrderStatus(s).value for s in statuses}

        def wants(event: Event) -> bool:
            return _location_of(event) == location and (
                wanted is None or _status_after(event) in wanted
            )

        stream = await deliveries(info, [CREATED, STATUS_CHANGED], wants, after=after)
        return (OrderUpdate.of(delivery) async for delivery in stream)
