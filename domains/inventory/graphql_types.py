"""The GraphQL object types of the inventory subgraph, and how they load what they show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.graphql.access import own_locations
from adapters.graphql.cost import list_size
from adapters.graphql.identity import identity_of
from domains.inventory import model
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import ReservationNotFound, UnknownLocation
from domains.inventory.queries import InventoryLoaders
from kernel.errors import InvalidInput

LocationKind = strawberry.enum(model.LocationKind, name="LocationKind")
ReservationStatus = strawberry.enum(model.ReservationStatus, name="ReservationStatus")
StockMovementType = strawberry.enum(
    model.MovementType,
    name="StockMovementType",
    description=(
        "RECEIPT adds on hand and lands in-transit units; TRANSFER moves on-hand units into "
        "transit to toLocationId; PICK takes units off hand, fulfilling commitments first; "
        "ADJUSTMENT adds a signed non-zero delta; RETURN adds units back; CYCLE_COUNT sets "
        "on hand to the counted quantity."
    ),
)


def domain_of(info: Info) -> InventoryDomain:
    domain: InventoryDomain = info.context["domain"]
    return domain


def loaders_of(info: Info) -> InventoryLoaders:
    loaders: InventoryLoaders = info.context["loaders"]
    return loaders


def _key(representation: dict[str, Any], field: str, typename: str) -> str:
    value = representation.get(field)
    if not isinstance(value, str) or not model.is_text(value, 200):
        raise InvalidInput(f"A {typename} representation needs a string {field}")
    return value


@strawberry.type(description="How a location serves a channel.")
class ChannelAllocationRule:
    channel: str
    share_percent: int = strawberry.field(
        description="Percent of the location's sellable (and, by channel policy, in-transit) "
        "units the channel may promise, rounded down."
    )
    cap: int | None = strawberry.field(description="At most this many units; null: no cap.")


@strawberry.federation.type(keys=["id"])
class Location:
    id: strawberry.ID
    name: str
    kind: LocationKind  # type: ignore[valid-type]
    region: str
    channels: list[str] = strawberry.field(description="The channels this location serves.")
    allocation_rules: list[ChannelAllocationRule]

    @classmethod
    def from_model(cls, location: model.Location) -> Location:
        return cls(
            id=strawberry.ID(location.id),
            name=location.name,
            kind=location.kind,
            region=location.region,
            channels=list(location.channels),
            allocation_rules=[
                ChannelAllocationRule(channel=r.channel, share_percent=r.share_percent, cap=r.cap)
                for r in location.rules
            ],
        )

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Location:
        location_id = _key(representation, "id", "Location")
        found = await loaders_of(info).location_by_id.load(location_id)
        if found is None:
            raise UnknownLocation(location_id)
        return cls.from_model(found)


async def location_of(info: Info, location_id: str) -> Location | None:
    if not model.is_text(location_id, 64):
        return None
    found = await loaders_of(info).location_by_id.load(location_id)
    return None if found is None else Location.from_model(found)


@strawberry.type(description="Named quantities of one SKU at one location.")
class StockLevel:
    sku: strawberry.ID
    location_id: strawberry.ID
    on_hand: int
    committed: int = strawberry.field(description="Promised to orders, not yet picked.")
    reserved: int = strawberry.field(description="Held by live (unexpired) reservations.")
    safety_stock: int
    quarantined: int = strawberry.field(description="Damaged or on quality hold.")
    incoming: int = strawberry.field(description="In transit to this location.")
    available: int = strawberry.field(
        description="Sellable: onHand - committed - reserved - safetyStock - quarantined, "
        "never below zero."
    )

    @classmethod
    def from_model(cls, level: model.StockLevel) -> StockLevel:
        return cls(
            sku=strawberry.ID(level.sku),
            location_id=strawberry.ID(level.location_id),
            on_hand=level.on_hand,
            committed=level.committed,
            reserved=level.reserved,
            safety_stock=level.safety_stock,
            quarantined=level.quarantined,
            incoming=level.incoming,
            available=level.available,
        )

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        return await location_of(info, self.location_id)


@strawberry.type(description="One location's part of a channel's available-to-promise.")
class LocationAvailability:
    location_id: strawberry.ID
    available: int = strawberry.field(description="The location's sellable units.")
    incoming_counted: int = strawberry.field(
        description="In-transit units counted because the channel's policy counts them."
    )
    share_percent: int
    cap: int | None
    allocated: int = strawberry.field(description="What the channel may promise from here.")

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        return await location_of(info, self.location_id)


@strawberry.type(
    description="Available-to-promise of a SKU in a channel: per location that serves the "
    "channel, its sellable units (plus in-transit units when the channel's policy counts "
    "them) times the location's share for the channel, rounded down and capped; summed. "
    "Shares limit what a channel sees, they do not split the stock: reservations are "
    "checked against each location's sellable units."
)
class ChannelAvailability:
    sku: strawberry.ID
    channel: str
    available: int = strawberry.field(description="The sum of the locations' allocations.")
    counts_incoming: bool
    locations: list[LocationAvailability]

    @classmethod
    def from_model(cls, atp: model.ChannelAvailability) -> ChannelAvailability:
        return cls(
            sku=strawberry.ID(atp.sku),
            channel=atp.channel,
            available=atp.available,
            counts_incoming=atp.counts_incoming,
            locations=[
                LocationAvailability(
                    location_id=strawberry.ID(a.location_id),
                    available=a.available,
                    incoming_counted=a.incoming_counted,
                    share_percent=a.share_percent,
                    cap=a.cap,
                    allocated=a.allocated,
                )
                for a in atp.locations
            ],
        )


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: strawberry.ID

    @strawberry.field(
        description="Stock at one location; null when none is kept there.",
        directives=own_locations(),
    )
    async def stock(self, info: Info, location_id: strawberry.ID) -> StockLevel | None:
        if not model.is_text(location_id, 64):
            return None
        levels = await loaders_of(info).stock_levels_by_sku.load(self.sku)
        found = next((lvl for lvl in levels if lvl.location_id == location_id), None)
        return None if found is None else StockLevel.from_model(found)

    @strawberry.field(
        description="Stock at every location that keeps this SKU (a store tool's own "
        "locations only).",
        directives=[list_size(assumed_size=50)],
    )
    async def stock_levels(self, info: Info) -> list[StockLevel]:
        levels = await loaders_of(info).stock_levels_by_sku.load(self.sku)
        caller = identity_of(info)
        return [
            StockLevel.from_model(level) for level in levels if caller.may_see(level.location_id)
        ]

    @strawberry.field(
        description="Available-to-promise across the locations serving the channel, "
        "after allocation rules."
    )
    async def availability(self, info: Info, channel: str) -> ChannelAvailability | None:
        if not model.is_text(channel, 32):
            raise InvalidInput("a channel is 1 to 32 characters", code="INVALID_CHANNEL")
        found = await loaders_of(info).availability_by_sku_and_channel.load((self.sku, channel))
        return ChannelAvailability.from_model(found)

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> Product:
        # Products owns the SKU; a SKU we keep no stock of is simply out of stock here.
        return cls(sku=strawberry.ID(_key(representation, "sku", "Product")))


@strawberry.federation.type(keys=["id"])
class Reservation:
    id: strawberry.ID
    sku: strawberry.ID
    location_id: strawberry.ID
    quantity: int
    expires_at: datetime
    order_reference: str | None
    idempotency_key: str
    status: ReservationStatus  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, reservation: model.Reservation, now: datetime) -> Reservation:
        return cls(
            id=strawberry.ID(reservation.id),
            sku=strawberry.ID(reservation.sku),
            location_id=strawberry.ID(reservation.location_id),
            quantity=reservation.quantity,
            expires_at=reservation.expires_at,
            order_reference=reservation.order_reference,
            idempotency_key=reservation.idempotency_key,
            status=reservation.status_at(now),
        )

    @strawberry.field
    async def location(self, info: Info) -> Location | None:
        return await location_of(info, self.location_id)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Reservation:
        reservation_id = _key(representation, "id", "Reservation")
        found = await loaders_of(info).reservation_by_id.load(reservation_id)
        if found is None:
            raise ReservationNotFound(reservation_id)
        return cls.from_model(found, loaders_of(info).now)


DivergenceCause = strawberry.enum(
    model.DivergenceCause,
    name="DivergenceCause",
    description=(
        "PENDING_MOVEMENT: ERP moves not yet polled account for the difference (the next "
        "poll settles it); UNPOSTED_ORDER: units our orders hold there cover it (an order "
        "has reached one side and not yet the other); UNEXPLAINED: anything else, what a "
        "repair adjusts."
    ),
)

MAX_DIVERGENCES = 200


@strawberry.type(description="One SKU at one location where the ERP and we disagree.")
class InventoryDivergence:
    sku: str
    location_id: strawberry.ID
    erp: int = strawberry.field(description="The ERP's on hand.")
    ours: int = strawberry.field(description="Our on hand.")
    difference: int = strawberry.field(description="erp - ours: positive when the ERP has more.")
    pending_movements: int = strawberry.field(
        description="On-hand change of the done ERP moves not yet polled."
    )
    held_by_orders: int = strawberry.field(description="Units our orders reserve or commit.")
    cause: DivergenceCause  # type: ignore[valid-type]
    repaired: bool = strawberry.field(
        description="Whether this reconciliation adjusted our on hand to the ERP's."
    )

    @classmethod
    def from_model(cls, divergence: model.Divergence) -> InventoryDivergence:
        return cls(
            sku=divergence.sku,
            location_id=strawberry.ID(divergence.location_id),
            erp=divergence.erp,
            ours=divergence.ours,
            difference=divergence.difference,
            pending_movements=divergence.pending,
            held_by_orders=divergence.held,
            cause=divergence.cause,
            repaired=divergence.repaired,
        )


@strawberry.type(
    description="A stored comparison of the ERP's on hand with ours for every SKU at every "
    "location (`retailgraph reconcile inventory`)."
)
class InventoryReconciliation:
    id: strawberry.ID
    ran_at: datetime
    compared: int = strawberry.field(description="SKU-location pairs compared.")
    divergent_pairs: int
    divergent_units: int = strawberry.field(
        description="The differences' absolute values, summed over the pairs."
    )

    @strawberry.field(
        description="The divergences, largest difference first (first: 0-200).",
        directives=[list_size(slicing_arguments=["first"])],
    )
    async def divergences(self, info: Info, first: int = 50) -> list[InventoryDivergence]:
        if not 0 <= first <= MAX_DIVERGENCES:
            raise InvalidInput(f"first must be between 0 and {MAX_DIVERGENCES}")
        if first == 0:
            return []
        found = await loaders_of(info).divergences.load((str(self.id), first))
        return [InventoryDivergence.from_model(d) for d in found]

    @classmethod
    def from_model(cls, reconciliation: model.Reconciliation) -> InventoryReconciliation:
        return cls(
            id=strawberry.ID(reconciliation.id),
            ran_at=reconciliation.ran_at,
            compared=reconciliation.compared,
            divergent_pairs=reconciliation.divergent_pairs,
            divergent_units=reconciliation.divergent_units,
        )
