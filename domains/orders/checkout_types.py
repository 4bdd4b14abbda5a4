"""The GraphQL face of checkout: ``placeOrder``'s input and answer."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from adapters.graphql.identity import identity_of
from adapters.metrics.counters import count_duplicate
from domains.orders import checkout
from domains.orders.bootstrap import OrdersDomain
from domains.orders.creation import MAX_LINES
from domains.orders.errors import InvalidOrderInput
from domains.orders.types import FulfilmentType, OrderType
from kernel.actors import Actor

MAX_TEXT = 200


@strawberry.input
class PlaceOrderLineInput:
    sku: strawberry.ID
    quantity: int


@strawberry.input(description="Ship from a DC, or pick up at a store: the location's id.")
class FulfilmentInput:
    type: FulfilmentType  # type: ignore[valid-type]
    location_id: strawberry.ID


@strawberry.input
class PlaceOrderInput:
    idempotency_key: str = strawberry.field(
        description="Required: a repeat with the same key returns the same order."
    )
    channel: str = strawberry.field(
        description="A channel the retailer sells through (the `[sales]` settings)."
    )
    fulfilment: FulfilmentInput
    lines: list[PlaceOrderLineInput]
    currency: str = strawberry.field(
        default="EUR", description="A currency the retailer prices in (the `[sales]` settings)."
    )
    customer_reference: str = ""


@strawberry.type
class PlaceOrderPayload:
    order: OrderType
    created: bool = strawberry.field(
        description="False when the idempotency key named an order placed before."
    )


def _text(value: str, name: str) -> str:
    if len(value) > MAX_TEXT or "\x00" in value:
        raise InvalidOrderInput(f"{name} must be at most {MAX_TEXT} characters of text")
    return value


def order_request(input: PlaceOrderInput, actor: Actor) -> checkout.OrderRequest:
    if len(input.lines) > MAX_LINES:
        raise InvalidOrderInput(f"An order has at most {MAX_LINES} lines")
    return checkout.OrderRequest(
        idempotency_key=_text(input.idempotency_key, "idempotencyKey"),
        channel=_text(input.channel, "channel"),
        currency=_text(input.currency, "currency"),
        fulfilment_type=input.fulfilment.type,
        location_id=_text(str(input.fulfilment.location_id), "fulfilment.locationId"),
        customer_reference=_text(input.customer_reference, "customerReference"),
        lines=tuple(
            checkout.RequestedLine(_text(str(line.sku), "sku"), line.quantity)
            for line in input.lines
        ),
        actor=actor,
    )


async def place_order(info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
    domain: OrdersDomain = info.context["domain"]
    request = order_request(input, identity_of(info).actor)
    placed = await checkout.place_order(
        domain.uow,
        domain.checkout.pricing,
        domain.checkout.stock,
        request,
        give_backs=domain.give_backs,
        sales=domain.sales,
    )
    if not placed.created:
        count_duplicate("placeOrder", request.channel)
    return PlaceOrderPayload(order=OrderType(order=placed.order), created=placed.created)
