"""The orders subgraph: queries over the loaders, and one mutation per lifecycle step.

``placeOrder`` is checkout (domains/orders/checkout.py): it prices and reserves first.
The other steps move an existing order along its lifecycle and fail with
INVALID_TRANSITION when its status does not allow the step, or NOT_FOUND for an unknown
order. Each takes a required idempotency key, as placeOrder does: a retry makes nothing
twice, and the key reused for another request is IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from adapters.graphql.access import own_locations, requires
from adapters.graphql.cost import list_size
from adapters.graphql.identity import identity_of
from adapters.graphql.subgraph import FederatedSchema
from adapters.metrics.counters import count_duplicate
from domains.orders import commands, model, repository, service
from domains.orders.bootstrap import OrdersDomain
from domains.orders.checkout_types import PlaceOrderInput, PlaceOrderPayload, place_order
from domains.orders.erp_sync_graphql import ErpQueueQuery, ErpSyncMutation
from domains.orders.errors import InvalidOrderInput, OrderNotFound
from domains.orders.subscriptions import Subscription
from domains.orders.types import (
    LocationType,
    OrderStatus,
    OrderType,
    ProductType,
    ReturnDisposition,
    loaders,
)
from kernel.clock import as_utc
from kernel.keys import MAX_IDEMPOTENCY_KEY

MAX_PAGE = 100
MAX_TEXT = 500
# Shipment and return references, as the ERP and carriers give them.
MAX_REFERENCE = 200


def _domain(info: Info) -> OrdersDomain:
    domain: OrdersDomain = info.context["domain"]
    return domain


def _text(value: str | None, name: str, limit: int = MAX_TEXT) -> str:
    value = value or ""
    if len(value) > limit or "\x00" in value:
        raise InvalidOrderInput(f"{name} must be at most {limit} characters of text")
    return value


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except (OverflowError, ValueError) as error:
        raise InvalidOrderInput(f"{name} is out of range") from error


@strawberry.type
class OrderEdge:
    cursor: str
    node: OrderType


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.input
class OrderLineQuantityInput:
    line_id: strawberry.ID
    quantity: int


def _quantities(lines: list[OrderLineQuantityInput]) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for line in lines:
        line_id = _text(str(line.line_id), "lineId", 36)
        if line_id in quantities:
            raise InvalidOrderInput(f"Line {line_id} is named twice", line_id=line_id)
        quantities[line_id] = line.quantity
    return quantities


@strawberry.input(description="Units of one order line that came back.")
class ReturnedLineInput:
    line_id: strawberry.ID
    quantity: int
    disposition: ReturnDisposition | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="RESTOCK (sellable again) or DAMAGED (quarantined); the mutation's "
        "disposition when left out. A line's units may be split: name it once per "
        "disposition.",
    )


def _returned_units(
    lines: list[ReturnedLineInput], default: model.ReturnDisposition | None
) -> dict[model.ReturnDisposition, dict[str, int]]:
    units: dict[model.ReturnDisposition, dict[str, int]] = {}
    for line in lines:
        chosen = line.disposition if line.disposition is not None else default
        if chosen is None:
            raise InvalidOrderInput(
                "Give each returned line a disposition, or the mutation one for all of them"
            )
        disposition = model.ReturnDisposition(chosen)
        line_id = _text(str(line.line_id), "lineId", 36)
        named = units.setdefault(disposition, {})
        if line_id in named:
            raise InvalidOrderInput(
                f"Line {line_id} is named twice as {disposition.value}", line_id=line_id
            )
        named[line_id] = line.quantity
    return units


def _order_id(value: strawberry.ID) -> str:
    order_id = str(value)
    if not 0 < len(order_id) <= 36 or "\x00" in order_id:
        raise OrderNotFound(order_id[:100])
    return order_id


# Every lifecycle mutation takes one, as placeOrder does: a retry is safe.
KEY_DESCRIPTION = (
    "Required: a repeat with the same key and request makes the step once and answers "
    "the order as it is; the key with another request is refused "
    "(IDEMPOTENCY_KEY_REUSED)."
)
IdempotencyKey = Annotated[str, strawberry.argument(description=KEY_DESCRIPTION)]


def _key(value: str) -> str:
    key = _text(value, "idempotencyKey", MAX_IDEMPOTENCY_KEY)
    service.check_idempotency_key(key)
    return key


async def _step(
    info: Info, id: strawberry.ID, command: commands.OrderCommand, idempotency_key: str
) -> OrderType:
    """Apply ``command`` once per idempotency key, recorded as made by the request's
    verified caller."""
    order = await service.change_order(
        _domain(info).uow(),
        _order_id(id),
        command,
        idempotency_key=_key(idempotency_key),
        actor=identity_of(info).actor,
    )
    return _answer(info, order)


def _answer(info: Info, order: model.Order) -> OrderType:
    if order.step_repeated:
        count_duplicate(info.field_name, order.channel)
    return OrderType(order=order)


@strawberry.type
class Query(ErpQueueQuery):
    @strawberry.field(
        description="The order with this id; null when there is none (or, for a store "
        "tool, when it is fulfilled elsewhere than at its locations).",
        directives=requires("orders:read"),
    )
    async def order(self, info: Info, id: strawberry.ID) -> OrderType | None:
        found = await loaders(info).order_by_id.load(str(id))
        if found is None or not identity_of(info).may_see(found.fulfilment.location_id):
            return None
        return OrderType(order=found)

    @strawberry.field(
        description="The order with this number (RG-0000042, as receipts, the ERP and "
        "customers give it); null when there is none (or, for a store tool, when it is "
        "fulfilled elsewhere than at its locations).",
        directives=requires("orders:read"),
    )
    async def order_by_number(self, info: Info, number: str) -> OrderType | None:
        found = await loaders(info).order_by_number.load(_text(number, "number", 40))
        if found is None or not identity_of(info).may_see(found.fulfilment.location_id):
            return None
        return OrderType(order=found)

    @strawberry.field(
        description="Orders, newest first, a page at a time (first: 1-100). createdFrom is "
        "inclusive, createdTo exclusive.",
        directives=[
            list_size(slicing_arguments=["first"], sized_fields=["edges"]),
            *requires("orders:read"),
            *own_locations(),
        ],
    )
    async def orders(
        self,
        info: Info,
        channel: str | None = None,
        status: OrderStatus | None = None,  # type: ignore[valid-type]
        location_id: strawberry.ID | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OrderConnection:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidOrderInput(f"first must be between 1 and {MAX_PAGE}")
        if channel is not None and not _domain(info).sales.sells_in(channel):
            raise InvalidOrderInput(f"Unknown channel {channel[:50]!r}")
        start, end = _moment(created_from, "createdFrom"), _moment(created_to, "createdTo")
        if start is not None and end is not None and end <= start:
            raise InvalidOrderInput("createdTo must be after createdFrom")
        where = repository.OrderFilter(
            channel=channel,
            status=None if status is None else model.OrderStatus(status).value,
            location_id=None if location_id is None else _text(str(location_id), "locationId"),
            created_from=start,
            created_to=end,
        )
        cursor = None if after is None else _text(after, "after", 200)
        async with _domain(info).engine.connect() as conn:
            page = await repository.list_orders(conn, where, first=first, after=cursor)
        edges = [
            OrderEdge(cursor=c, node=OrderType(order=o))
            for o, c in zip(page.orders, page.cursors, strict=True)
        ]
        return OrderConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


@strawberry.type
class Mutation(ErpSyncMutation):
    @strawberry.mutation(
        directives=requires("orders:place"),
        description="Checkout: price the lines (pricing), reserve their stock (inventory) "
        "and create the order, once per idempotency key.",
    )
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        return await place_order(info, input)

    @strawberry.mutation(description="PENDING -> CONFIRMED.", directives=requires("orders:manage"))
    async def confirm_order(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> OrderType:
        return await _step(info, id, commands.Confirm(), idempotency_key)

    @strawberry.mutation(
        description="CONFIRMED -> PAYMENT_AUTHORIZED.", directives=requires("orders:manage")
    )
    async def authorize_payment(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey, reference: str = ""
    ) -> OrderType:
        return await _step(
            info, id, commands.AuthorizePayment(_text(reference, "reference")), idempotency_key
        )

    @strawberry.mutation(
        description="CONFIRMED -> FRAUD_HOLD.", directives=requires("orders:manage")
    )
    async def hold_order_for_fraud(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey, reason: str
    ) -> OrderType:
        return await _step(
            info, id, commands.HoldForFraud(_text(reason, "reason")), idempotency_key
        )

    @strawberry.mutation(
        description="FRAUD_HOLD -> PAYMENT_AUTHORIZED.", directives=requires("orders:manage")
    )
    async def release_fraud_hold(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey, reason: str = ""
    ) -> OrderType:
        return await _step(
            info, id, commands.ReleaseFraudHold(_text(reason, "reason")), idempotency_key
        )

    @strawberry.mutation(
        description="PAYMENT_AUTHORIZED -> RELEASED_TO_FULFILMENT.",
        directives=requires("orders:manage"),
    )
    async def release_order_to_fulfilment(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> OrderType:
        return await _step(info, id, commands.ReleaseToFulfilment(), idempotency_key)

    @strawberry.mutation(
        directives=requires("orders:manage"),
        description="Shipped units -> PARTIALLY_SHIPPED or SHIPPED; a repeated reference "
        "is a no-op.",
    )
    async def confirm_shipment(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        lines: list[OrderLineQuantityInput],
        reference: str = "",
    ) -> OrderType:
        shipped = commands.ConfirmShipment(
            _quantities(lines), _text(reference, "reference", MAX_REFERENCE)
        )
        return await _step(info, id, shipped, idempotency_key)

    @strawberry.mutation(description="SHIPPED -> DELIVERED.", directives=requires("orders:manage"))
    async def confirm_delivery(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey
    ) -> OrderType:
        return await _step(info, id, commands.ConfirmDelivery(), idempotency_key)

    @strawberry.mutation(
        description="Cancel every unit not yet shipped -> CANCELLED.",
        directives=requires("orders:manage"),
    )
    async def cancel_order(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey, reason: str = ""
    ) -> OrderType:
        return await _step(info, id, commands.Cancel(_text(reason, "reason")), idempotency_key)

    @strawberry.mutation(
        directives=requires("orders:manage"),
        description="Cancel units of some lines before shipment -> PARTIALLY_CANCELLED, "
        "or CANCELLED when no unit is left.",
    )
    async def cancel_order_lines(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        lines: list[OrderLineQuantityInput],
        reason: str = "",
    ) -> OrderType:
        cancelled = commands.CancelLines(_quantities(lines), _text(reason, "reason"))
        return await _step(info, id, cancelled, idempotency_key)

    @strawberry.mutation(
        description="Delivered units coming back -> RETURN_REQUESTED.",
        directives=requires("orders:manage"),
    )
    async def request_return(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        lines: list[OrderLineQuantityInput],
        reason: str = "",
    ) -> OrderType:
        requested = commands.RequestReturn(_quantities(lines), _text(reason, "reason"))
        return await _step(info, id, requested, idempotency_key)

    @strawberry.mutation(
        directives=[*requires("orders:manage"), *own_locations()],
        description="Returned units received at locationId (where the order was fulfilled "
        "when left out; any location takes returns, a store a web order's), restocked "
        "(onHand) or damaged (quarantined), as one receipt the ERP gets once -> RETURNED "
        "once all requested units are back; a repeated reference is a no-op. A store "
        "tool receives returns at its own locations.",
    )
    async def confirm_return(
        self,
        info: Info,
        id: strawberry.ID,
        idempotency_key: IdempotencyKey,
        lines: list[ReturnedLineInput],
        disposition: ReturnDisposition | None = None,  # type: ignore[valid-type]
        location_id: strawberry.ID | None = None,
        reference: str = "",
    ) -> OrderType:
        default = None if disposition is None else model.ReturnDisposition(disposition)
        received = commands.ReceiveReturn(
            _returned_units(lines, default),
            _text(reference, "reference", MAX_REFERENCE),
            "" if location_id is None else _text(str(location_id), "locationId", 64),
        )
        order = await service.receive_return(
            _domain(info).uow(),
            _domain(info).checkout.stock,
            _order_id(id),
            received,
            idempotency_key=_key(idempotency_key),
            actor=identity_of(info).actor,
        )
        return _answer(info, order)

    @strawberry.mutation(
        description="RETURNED -> REFUNDED, at the price paid.", directives=requires("orders:manage")
    )
    async def refund_order(
        self, info: Info, id: strawberry.ID, idempotency_key: IdempotencyKey, reference: str = ""
    ) -> OrderType:
        return await _step(
            info, id, commands.Refund(_text(reference, "reference")), idempotency_key
        )


schema = FederatedSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[OrderType, ProductType, LocationType],
)
