"""The inventory subgraph's queries and mutations: each mutation is one service call."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from adapters.graphql.access import requires
from adapters.graphql.cost import list_size
from adapters.graphql.subgraph import FederatedSchema
from domains.inventory import model, queries, service
from domains.inventory.graphql_types import (
    ChannelAllocationRule,
    ChannelAvailability,
    InventoryReconciliation,
    Location,
    LocationAvailability,
    LocationKind,
    Product,
    Reservation,
    StockLevel,
    StockMovementType,
    domain_of,
    loaders_of,
    location_of,
)
from domains.inventory.subscriptions import Subscription
from kernel.errors import InvalidInput
from kernel.keys import reservation_key


@strawberry.type
class Query:
    @strawberry.field(description="The location with this id; null when there is none.")
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return await location_of(info, id)

    @strawberry.field(
        description="Locations, optionally by kind, region and channel served.",
        directives=[list_size(assumed_size=50)],
    )
    async def locations(
        self,
        info: Info,
        kind: LocationKind | None = None,  # type: ignore[valid-type]
        region: str | None = None,
        channel: str | None = None,
    ) -> list[Location]:
        if any(v is not None and not model.is_text(v, 64) for v in (region, channel)):
            return []
        found = await queries.find_locations(
            domain_of(info).engine, kind=kind, region=region, channel=channel
        )
        return [Location.from_model(location) for location in found]

    @strawberry.field(
        description="The newest stored reconciliations with the ERP, newest first (last: 1-31).",
        directives=[*requires("inventory:manage"), list_size(slicing_arguments=["last"])],
    )
    async def inventory_reconciliations(
        self, info: Info, last: int = 1
    ) -> list[InventoryReconciliation]:
        if not 1 <= last <= service.KEPT_RECONCILIATIONS:
            raise InvalidInput(f"last must be between 1 and {service.KEPT_RECONCILIATIONS}")
        found = await queries.last_reconciliations(domain_of(info).engine, last)
        return [InventoryReconciliation.from_model(r) for r in found]

    @strawberry.field(
        description="The reservation with this id; null when there is none.",
        directives=requires("inventory:reserve"),
    )
    async def reservation(self, info: Info, id: strawberry.ID) -> Reservation | None:
        if not model.is_text(id, 64):
            return None
        found = await loaders_of(info).reservation_by_id.load(id)
        return None if found is None else Reservation.from_model(found, loaders_of(info).now)


@strawberry.input
class ReserveStockInput:
    sku: strawberry.ID
    location_id: strawberry.ID
    quantity: int
    idempotency_key: str = strawberry.field(
        description="Repeating a call with the same key returns the same reservation."
    )
    order_reference: str | None = None
    channel: str | None = strawberry.field(
        default=None,
        description="The sales channel the units are for: held within its allocation at "
        "the location (availability(channel)'s figure) as well as the physical stock.",
    )
    ttl_seconds: int = strawberry.field(
        default=service.DEFAULT_TTL_SECONDS, description="How long the units are held."
    )


@strawberry.input
class ReservationLineInput:
    sku: strawberry.ID
    location_id: strawberry.ID
    quantity: int


@strawberry.input(description="An order's lines, reserved all together or not at all.")
class ReserveStockLinesInput:
    idempotency_key: str = strawberry.field(
        description="Line n is reserved under '<idempotencyKey>:<n>' (from 1); a repeat "
        "returns the same reservations."
    )
    lines: list[ReservationLineInput]
    order_reference: str | None = None
    channel: str | None = strawberry.field(
        default=None,
        description="The sales channel the units are for: each line is held within the "
        "channel's allocation at its location as well as the physical stock.",
    )
    ttl_seconds: int = service.DEFAULT_TTL_SECONDS


@strawberry.input(description="Exactly one of id and idempotencyKey.")
class ReleaseReservationInput:
    id: strawberry.ID | None = None
    idempotency_key: str | None = None


@strawberry.input
class StockMovementInput:
    type: StockMovementType  # type: ignore[valid-type]
    sku: strawberry.ID
    location_id: strawberry.ID
    quantity: int = strawberry.field(
        description="Units moved (an ADJUSTMENT's signed delta; a CYCLE_COUNT's count)."
    )
    source_document_id: str = strawberry.field(
        description="The ERP or WMS document; with lineNumber, what makes a replay a no-op."
    )
    line_number: int = 1
    to_location_id: strawberry.ID | None = strawberry.field(
        default=None, description="Where a TRANSFER goes."
    )


@strawberry.enum
class MovementOutcome(enum.Enum):
    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@strawberry.type
class StockMovementResult:
    source_document_id: str
    line_number: int
    type: StockMovementType  # type: ignore[valid-type]
    sku: strawberry.ID
    location_id: strawberry.ID
    to_location_id: strawberry.ID | None
    quantity: int
    outcome: MovementOutcome
    code: str | None = strawberry.field(description="Why a line was rejected.")
    message: str | None

    @classmethod
    def from_model(
        cls,
        movement: model.Movement,
        outcome: MovementOutcome,
        code: str | None = None,
        message: str | None = None,
    ) -> StockMovementResult:
        return cls(
            source_document_id=movement.source_document_id,
            line_number=movement.line_number,
            type=movement.type,
            sku=strawberry.ID(movement.sku),
            location_id=strawberry.ID(movement.location_id),
            to_location_id=None
            if movement.to_location_id is None
            else strawberry.ID(movement.to_location_id),
            quantity=movement.quantity,
            outcome=outcome,
            code=code,
            message=message,
        )


@strawberry.type
class ApplyStockMovementsPayload:
    applied: list[StockMovementResult]
    duplicates: list[StockMovementResult] = strawberry.field(
        description="Lines applied before (or earlier in this batch); nothing changed."
    )
    rejected: list[StockMovementResult] = strawberry.field(
        description="Invalid lines, with a code; not remembered, so a fix can be resent."
    )
    stock_levels: list[StockLevel] = strawberry.field(
        description="The stock levels the applied lines changed, after the change."
    )


@strawberry.input
class ChannelAllocationInput:
    channel: str
    share_percent: int = 100
    cap: int | None = None


@strawberry.input
class SaveLocationInput:
    id: strawberry.ID
    name: str
    kind: LocationKind  # type: ignore[valid-type]
    region: str
    channels: list[ChannelAllocationInput]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Hold units at a location until they expire.",
        directives=requires("inventory:reserve"),
    )
    async def reserve_stock(self, info: Info, input: ReserveStockInput) -> Reservation:
        reservation = await service.reserve_stock(
            domain_of(info).uow(),
            sku=input.sku,
            location_id=input.location_id,
            quantity=input.quantity,
            idempotency_key=input.idempotency_key,
            order_reference=input.order_reference,
            ttl_seconds=input.ttl_seconds,
            channel=input.channel,
        )
        return Reservation.from_model(reservation, loaders_of(info).now)

    @strawberry.mutation(
        description="Hold units for every line of an order, or for none.",
        directives=requires("inventory:reserve"),
    )
    async def reserve_stock_lines(
        self, info: Info, input: ReserveStockLinesInput
    ) -> list[Reservation]:
        requests = [
            service.ReservationRequest(
                sku=line.sku,
                location_id=line.location_id,
                quantity=line.quantity,
                idempotency_key=reservation_key(input.idempotency_key, number),
                order_reference=input.order_reference,
                ttl_seconds=input.ttl_seconds,
                channel=input.channel,
            )
            for number, line in enumerate(input.lines, start=1)
        ]
        reservations = await domain_of(info).reservations.reserve(requests)
        return [Reservation.from_model(r, loaders_of(info).now) for r in reservations]

    @strawberry.mutation(
        description="Give reserved units back; repeating it is harmless.",
        directives=requires("inventory:reserve"),
    )
    async def release_reservation(self, info: Info, input: ReleaseReservationInput) -> Reservation:
        reservation = await service.release_reservation(
            domain_of(info).uow(), id=input.id, idempotency_key=input.idempotency_key
        )
        return Reservation.from_model(reservation, loaders_of(info).now)

    @strawberry.mutation(
        description="Turn a reservation into its order's commitment.",
        directives=requires("inventory:reserve"),
    )
    async def consume_reservation(self, info: Info, id: strawberry.ID) -> Reservation:
        reservation = await service.consume_reservation(domain_of(info).uow(), id=id)
        return Reservation.from_model(reservation, loaders_of(info).now)

    @strawberry.mutation(
        description="Apply a batch of stock movements, each line once.",
        directives=requires("inventory:manage"),
    )
    async def apply_stock_movements(
        self, info: Info, movements: list[StockMovementInput]
    ) -> ApplyStockMovementsPayload:
        batch = [
            model.Movement(
                type=m.type,
                sku=m.sku,
                location_id=m.location_id,
                quantity=m.quantity,
                source_document_id=m.source_document_id,
                line_number=m.line_number,
                to_location_id=m.to_location_id,
            )
            for m in movements
        ]
        # What a WMS or a store sends: the ERP is owed the same change.
        report = await service.apply_stock_movements(
            domain_of(info).uow(), batch, origin=model.MovementOrigin.WMS
        )
        return ApplyStockMovementsPayload(
            applied=[
                StockMovementResult.from_model(m, MovementOutcome.APPLIED) for m in report.applied
            ],
            duplicates=[
                StockMovementResult.from_model(m, MovementOutcome.DUPLICATE)
                for m in report.duplicates
            ],
            rejected=[
                StockMovementResult.from_model(
                    r.movement, MovementOutcome.REJECTED, r.code, r.message
                )
                for r in report.rejected
            ],
            stock_levels=[StockLevel.from_model(level) for level in report.levels],
        )

    @strawberry.mutation(
        description="Create or replace a location and its channel rules.",
        directives=requires("inventory:manage"),
    )
    async def save_location(self, info: Info, input: SaveLocationInput) -> Location:
        location = await service.save_location(
            domain_of(info).uow(),
            id=input.id,
            name=input.name,
            kind=input.kind,
            region=input.region,
            rules=[model.ChannelRule(c.channel, c.share_percent, c.cap) for c in input.channels],
            sales=domain_of(info).sales,
        )
        return Location.from_model(location)

    @strawberry.mutation(
        description="Whether in-transit units count toward a channel.",
        directives=requires("inventory:manage"),
    )
    async def set_channel_policy(self, info: Info, channel: str, counts_incoming: bool) -> bool:
        domain = domain_of(info)
        await service.set_channel_policy(
            domain.uow(), channel, counts_incoming=counts_incoming, sales=domain.sales
        )
        return counts_incoming


schema = FederatedSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[
        Location,
        Product,
        Reservation,
        ChannelAvailability,
        LocationAvailability,
        ChannelAllocationRule,
    ],
)
