"""The GraphQL types of the orders subgraph: thin views over the order model.

Money is pricing's shareable ``Money { amount currency }``, the amount a decimal string,
so a client reads order totals and prices the same way.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.graphql.access import own_locations, requires
from adapters.graphql.cost import list_size
from adapters.graphql.identity import identity_of
from adapters.graphql.money import Money
from domains.orders import model
from domains.orders.erp_sync_graphql import ErpSync, erp_sync_of
from domains.orders.errors import OrderNotFound
from kernel.errors import InvalidInput

OrderStatus = strawberry.enum(model.OrderStatus, name="OrderStatus")
FulfilmentType = strawberry.enum(model.FulfilmentType, name="FulfilmentType")
OrderLineStatus = strawberry.enum(model.LineStatus, name="OrderLineStatus")
ReturnDisposition = strawberry.enum(
    model.ReturnDisposition,
    name="ReturnDisposition",
    description="What happens to returned units: back to stock, or written off as damaged.",
)

MAX_RECENT_ORDERS = 50


def loaders(info: Info) -> Any:
    return info.context["loaders"]


@strawberry.federation.type(
    name="Location",
    keys=["id"],
    description="A DC or store, owned by the inventory subgraph; orders adds its orders.",
)
class LocationType:
    id: strawberry.ID

    @strawberry.field(
        description="The newest orders fulfilled here (shipped from this DC, or picked up "
        "at this store), optionally in one status (first: 0-50). Page with "
        "Query.orders(locationId:) for more. A store tool sees only its own locations'.",
        directives=[list_size(slicing_arguments=["first"]), *requires("orders:read")],
    )
    async def recent_orders(
        self,
        info: Info,
        first: int = 10,
        status: OrderStatus | None = None,  # type: ignore[valid-type]
    ) -> list[OrderType]:
        if not identity_of(info).may_see(str(self.id)):
            return []
        if not 0 <= first <= MAX_RECENT_ORDERS:
            raise InvalidInput(f"first must be between 0 and {MAX_RECENT_ORDERS}")
        if first == 0:
            return []
        wanted = None if status is None else model.OrderStatus(status).value
        found = await loaders(info).recent_orders_by_location.load((str(self.id), wanted, first))
        return [OrderType(order=order) for order in found]

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> LocationType:
        # Locations are inventory's: any id is taken as is, and costs no statement.
        location_id = representation.get("id")
        if not isinstance(location_id, str) or not location_id or len(location_id) > 100:
            raise InvalidInput("A Location representation needs an id of 1 to 100 characters")
        if "\x00" in location_id:
            raise InvalidInput("A Location id cannot contain NUL")
        return cls(id=strawberry.ID(location_id))


@strawberry.type
class Fulfilment:
    type: FulfilmentType  # type: ignore[valid-type]
    location_id: strawberry.ID
    location: LocationType = strawberry.field(
        description="The DC that ships, or the store where the customer picks up."
    )


@strawberry.type(description="Money on an order; every amount is tax-inclusive.")
class OrderTotals:
    currency: str
    subtotal: Money = strawberry.field(description="At list prices, before discounts.")
    discount: Money
    tax: Money = strawberry.field(description="The tax contained in the total.")
    total: Money = strawberry.field(description="What the customer pays: subtotal - discount.")
    refunded: Money = strawberry.field(description="Refunded for returned units so far.")


@strawberry.type
class OrderLine:
    id: strawberry.ID
    position: int
    sku: strawberry.ID
    quantity: int = strawberry.field(description="Units ordered, cancelled ones included.")
    unit_price: Money = strawberry.field(description="The list price of one unit.")
    promotional_unit_price: Money = strawberry.field(description="What one unit costs.")
    tax_rate: str
    discount: Money
    line_total: Money = strawberry.field(description="For the units not cancelled.")
    tax: Money
    quantity_cancelled: int
    quantity_shipped: int
    quantity_return_requested: int
    quantity_returned: int
    quantity_refunded: int
    status: OrderLineStatus  # type: ignore[valid-type]

    @strawberry.field(description="The product on this line (resolved by the products graph).")
    def product(self) -> ProductType:
        return ProductType(sku=self.sku)

    @classmethod
    def of(cls, line: model.OrderLine, currency: str) -> OrderLine:
        def cash(amount: Decimal) -> Money:
            return Money.of(amount, currency)

        return cls(
            id=strawberry.ID(line.id),
            position=line.position,
            sku=strawberry.ID(line.sku),
            quantity=line.quantity,
            unit_price=cash(line.unit_price),
            promotional_unit_price=cash(line.promotional_unit_price),
            tax_rate=str(line.tax_rate),
            discount=cash(line.discount),
            line_total=cash(line.line_total),
            tax=cash(line.tax),
            quantity_cancelled=line.quantity_cancelled,
            quantity_shipped=line.quantity_shipped,
            quantity_return_requested=line.quantity_return_requested,
            quantity_returned=line.quantity_returned,
            quantity_refunded=line.quantity_refunded,
            status=line.status,
        )


@strawberry.type(name="Actor", description="Who made a change.")
class ActorType:
    client: str = strawberry.field(
        description="The client's name; system:erp-sync for the ERP integration's steps, "
        "system for the system's other steps and for steps recorded before actors were."
    )
    subject: str | None = strawberry.field(
        description="The end user or service account the client's token named."
    )


@strawberry.type(description="One step of an order's status, and why.")
class OrderStatusChange:
    from_status: OrderStatus | None = strawberry.field(name="from")  # type: ignore[valid-type]
    to_status: OrderStatus = strawberry.field(name="to")  # type: ignore[valid-type]
    at: datetime
    reason: str
    correlation_id: str | None
    made_by: ActorType = strawberry.field(
        description="Who made the step: the client of the request (as the gateway "
        "identified it), or the system."
    )


@strawberry.federation.type(name="Order", keys=["id"])
class OrderType:
    order: strawberry.Private[model.Order]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.order.id)

    @strawberry.field(description="The reference people read out, such as RG-0000042.")
    def number(self) -> str:
        return self.order.number

    @strawberry.field(description="web, app or store.")
    def channel(self) -> str:
        return self.order.channel

    @strawberry.field
    def customer_reference(self) -> str:
        return self.order.customer_reference

    @strawberry.field
    def fulfilment(self) -> Fulfilment:
        location_id = strawberry.ID(self.order.fulfilment.location_id)
        return Fulfilment(
            type=self.order.fulfilment.type,
            location_id=location_id,
            location=LocationType(id=location_id),
        )

    # An order has at most 200 lines; a basket, a few.
    @strawberry.field(directives=[list_size(assumed_size=20)])
    def lines(self) -> list[OrderLine]:
        return [OrderLine.of(line, self.order.currency) for line in self.order.lines]

    @strawberry.field
    def totals(self) -> OrderTotals:
        totals = self.order.totals
        currency = totals.currency
        return OrderTotals(
            currency=currency,
            subtotal=Money.of(totals.subtotal, currency),
            discount=Money.of(totals.discount, currency),
            tax=Money.of(totals.tax, currency),
            total=Money.of(totals.total, currency),
            refunded=Money.of(totals.refunded, currency),
        )

    @strawberry.field
    def status(self) -> OrderStatus:  # type: ignore[valid-type]
        return self.order.status

    @strawberry.field(description="The statuses the order may move to next.")
    def allowed_transitions(self) -> list[OrderStatus]:  # type: ignore[valid-type]
        return sorted(self.order.allowed_transitions())

    @strawberry.field(description="Every status the order has had, oldest first.")
    def history(self) -> list[OrderStatusChange]:
        return [
            OrderStatusChange(
                from_status=entry.from_status,
                to_status=entry.to_status,
                at=entry.at,
                reason=entry.reason,
                correlation_id=entry.correlation_id,
                made_by=ActorType(client=entry.actor.client, subject=entry.actor.subject),
            )
            for entry in self.order.history
        ]

    @strawberry.field(description="The correlation id of the request that created the order.")
    def correlation_id(self) -> str | None:
        return self.order.correlation_id

    @strawberry.field
    def created_at(self) -> datetime:
        return self.order.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.order.updated_at

    @strawberry.field(description="The checkout's key; a repeat with it returns this order.")
    def idempotency_key(self) -> str:
        return self.order.idempotency_key

    @strawberry.field(description="Whether the ERP has the order's documents; null if none.")
    async def erp_sync(self, info: Info) -> ErpSync | None:
        return await erp_sync_of(info, self.order.id)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> OrderType:
        order_id = representation.get("id")
        if not isinstance(order_id, str) or not order_id:
            raise InvalidInput("An Order representation needs a string id")
        order = await loaders(info).order_by_id.load(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return cls(order=order)


@strawberry.federation.type(name="Product", keys=["sku"])
class ProductType:
    """Owned by the products subgraph; orders adds the orders a SKU appears on."""

    sku: strawberry.ID

    @strawberry.field(
        description="The newest orders with this SKU on a line (first: 0-50).",
        directives=[
            list_size(slicing_arguments=["first"]),
            *requires("orders:read"),
            *own_locations(),
        ],
    )
    async def recent_orders(self, info: Info, first: int = 5) -> list[OrderType]:
        if not 0 <= first <= MAX_RECENT_ORDERS:
            raise InvalidInput(f"first must be between 0 and {MAX_RECENT_ORDERS}")
        if first == 0:
            return []
        found = await loaders(info).recent_orders_by_sku.load((str(self.sku), first))
        return [OrderType(order=order) for order in found]

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> ProductType:
        sku = representation.get("sku")
        if not isinstance(sku, str) or not sku or len(sku) > 64 or "\x00" in sku:
            raise InvalidInput("A Product representation needs a sku of 1 to 64 characters")
        return cls(sku=strawberry.ID(sku))
