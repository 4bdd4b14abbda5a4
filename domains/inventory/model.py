"""The inventory domain rules (pure: standard library only).

Quantities per (sku, location) follow Shopify's named states. ``reserved`` is not stored:
it is the sum of the reservations that are active and not yet past their expiry at the
moment of reading, so an expired reservation stops counting the instant it expires, with
or without the sweep that later marks it EXPIRED.

Allocation rules decide how much of a location's stock a channel may promise:
- a location serves a channel with an allocation share (percent of its sellable stock,
  rounded down) and an optional cap (at most that many units);
- a channel policy says whether in-transit ``incoming`` units count before the share
  is applied (e.g. web orders may ship later, store pickups may not);
- the channel's available-to-promise is the sum over the locations that serve it.
Shares limit what each channel may promise; they do not partition the stock. Two channels
may both see the same units. A reservation for a channel (checkout's) must fit both the
channel's allocation at the location, as of the moment it is made, and the location's
physical ``available``; every reservation is checked against the physical stock, so
nothing is ever sold twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from kernel.keys import MAX_RESERVATION_KEY

MAX_TTL_SECONDS = 7 * 24 * 3600
MAX_QUANTITY = 1_000_000_000
MAX_BATCH = 1000


def is_text(value: object, max_length: int) -> bool:
    """A non-empty string that fits its column; NUL never does (PostgreSQL refuses it)."""
    return isinstance(value, str) and 0 < len(value) <= max_length and "\x00" not in value


class LocationKind(StrEnum):
    DC = "DC"
    WAREHOUSE = "WAREHOUSE"
    STORE = "STORE"


class ReservationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    CONSUMED = "CONSUMED"


class MovementType(StrEnum):
    RECEIPT = "RECEIPT"
    TRANSFER = "TRANSFER"
    PICK = "PICK"
    ADJUSTMENT = "ADJUSTMENT"
    RETURN = "RETURN"
    CYCLE_COUNT = "CYCLE_COUNT"


class RuleViolation(Exception):
    """A rule of this module was broken; the service turns it into a coded domain error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ChannelRule:
    """How one location serves one channel."""

    channel: str
    share_percent: int = 100
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    name: str
    kind: LocationKind
    region: str
    rules: tuple[ChannelRule, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(rule.channel for rule in self.rules)

    def rule_for(self, channel: str) -> ChannelRule | None:
        return next((rule for rule in self.rules if rule.channel == channel), None)


@dataclass(frozen=True, slots=True)
class StockLevel:
    sku: str
    location_id: str
    on_hand: int = 0
    committed: int = 0
    reserved: int = 0
    safety_stock: int = 0
    quarantined: int = 0
    incoming: int = 0

    @property
    def available(self) -> int:
        return sellable(
            on_hand=self.on_hand,
            committed=self.committed,
            reserved=self.reserved,
            safety_stock=self.safety_stock,
            quarantined=self.quarantined,
        )

    def quantities(self) -> dict[str, int]:
        """The named quantities, as events and the GraphQL layer spell them."""
        return {
            "onHand": self.on_hand,
            "committed": self.committed,
            "reserved": self.reserved,
            "safetyStock": self.safety_stock,
            "quarantined": self.quarantined,
            "incoming": self.incoming,
            "available": self.available,
        }


def sellable(
    *, on_hand: int, committed: int, reserved: int, safety_stock: int, quarantined: int
) -> int:
    """What can still be sold: never below zero, even when the parts overlap."""
    return max(0, on_hand - committed - reserved - safety_stock - quarantined)


@dataclass(frozen=True, slots=True)
class LocationAllocation:
    location_id: str
    available: int
    incoming_counted: int
    share_percent: int
    cap: int | None
    allocated: int


@dataclass(frozen=True, slots=True)
class ChannelAvailability:
    sku: str
    channel: str
    counts_incoming: bool
    locations: tuple[LocationAllocation, ...]

    @property
    def available(self) -> int:
        return sum(location.allocated for location in self.locations)


def allocate(level: StockLevel, rule: ChannelRule, *, counts_incoming: bool) -> LocationAllocation:
    """One location's contribution to a channel's available-to-promise."""
    incoming = level.incoming if counts_incoming else 0
    allocated = (level.available + incoming) * rule.share_percent // 100
    if rule.cap is not None:
        allocated = min(allocated, rule.cap)
    return LocationAllocation(
        location_id=level.location_id,
        available=level.available,
        incoming_counted=incoming,
        share_percent=rule.share_percent,
        cap=rule.cap,
        allocated=max(0, allocated),
    )


def channel_availability(
    sku: str,
    channel: str,
    levels: Iterable[StockLevel],
    rules: Mapping[str, Sequence[ChannelRule]],
    *,
    counts_incoming: bool,
) -> ChannelAvailability:
    """Available-to-promise of ``sku`` for ``channel`` over the locations that serve it.

    ``rules`` are each location's channel rules, by location id; a location without a
    rule for ``channel`` does not serve it.
    """
    breakdown = []
    for level in sorted(levels, key=lambda lvl: lvl.location_id):
        rule = next((r for r in rules.get(level.location_id, ()) if r.channel == channel), None)
        if level.sku == sku and rule is not None:
            breakdown.append(allocate(level, rule, counts_incoming=counts_incoming))
    return ChannelAvailability(sku, channel, counts_incoming, tuple(breakdown))


def validate_rule(rule: ChannelRule) -> None:
    if not is_text(rule.channel, 32):
        raise RuleViolation("INVALID_CHANNEL", "a channel is 1 to 32 characters")
    if not 0 <= rule.share_percent <= 100:
        raise RuleViolation("INVALID_ALLOCATION", "an allocation share is 0 to 100 percent")
    if rule.cap is not None and not 0 <= rule.cap <= MAX_QUANTITY:
        raise RuleViolation("INVALID_ALLOCATION", "an allocation cap is zero or more")


def validate_rules(rules: Sequence[ChannelRule]) -> None:
    for rule in rules:
        validate_rule(rule)
    channels = [rule.channel for rule in rules]
    if len(set(channels)) != len(channels):
        raise RuleViolation("DUPLICATE_CHANNEL", "a location serves each channel once")


# Reservations


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    idempotency_key: str
    sku: str
    location_id: str
    quantity: int
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.ACTIVE
    order_reference: str | None = None

    def counts_at(self, now: datetime) -> bool:
        """Whether this reservation holds stock at ``now``."""
        return self.status is ReservationStatus.ACTIVE and self.expires_at > now

    def status_at(self, now: datetime) -> ReservationStatus:
        """The status a reader sees: an active reservation past its expiry has expired."""
        if self.status is ReservationStatus.ACTIVE and self.expires_at <= now:
            return ReservationStatus.EXPIRED
        return self.status

    def same_request(
        self, sku: str, location_id: str, quantity: int, order_reference: str | None
    ) -> bool:
        return (self.sku, self.location_id, self.quantity, self.order_reference) == (
            sku,
            location_id,
            quantity,
            order_reference,
        )


def reserved_quantity(reservations: Iterable[Reservation], now: datetime) -> int:
    return sum(r.quantity for r in reservations if r.counts_at(now))


def validate_reservation_request(
    quantity: int,
    ttl_seconds: int,
    idempotency_key: str,
    order_reference: str | None = None,
    *,
    sku: str = "sku",
    location_id: str = "location",
) -> None:
    if not is_text(sku, 64) or not is_text(location_id, 64):
        raise RuleViolation("INVALID_REFERENCE", "a SKU and a location id are 1 to 64 characters")
    if not 0 < quantity <= MAX_QUANTITY:
        raise RuleViolation("INVALID_QUANTITY", "a reservation is for one unit or more")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise RuleViolation("INVALID_TTL", f"a reservation lives 1 to {MAX_TTL_SECONDS} seconds")
    if not is_text(idempotency_key, MAX_RESERVATION_KEY):
        raise RuleViolation(
            "INVALID_IDEMPOTENCY_KEY",
            f"an idempotency key is 1 to {MAX_RESERVATION_KEY} characters",
        )
    if order_reference is not None and not is_text(order_reference, 200):
        raise RuleViolation("INVALID_ORDER_REFERENCE", "an order reference is 1 to 200 characters")


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)


def release(reservation: Reservation, now: datetime) -> Reservation:
    """Stop a reservation from holding stock.

    Releasing twice is harmless, and so is releasing one that has already expired (the
    caller wanted the stock back and it is back). A consumed reservation became an order
    commitment, which only a fulfilment or cancellation of that order can undo.
    """
    status = reservation.status_at(now)
    if status is ReservationStatus.CONSUMED:
        raise RuleViolation("INVALID_TRANSITION", "a consumed reservation cannot be released")
    if status is ReservationStatus.ACTIVE:
        return replace(reservation, status=ReservationStatus.RELEASED)
    return replace(reservation, status=status)


def consume(reservation: Reservation, now: datetime) -> Reservation:
    """Turn a reservation into an order commitment (the stock moves to ``committed``)."""
    status = reservation.status_at(now)
    if status is ReservationStatus.CONSUMED:
        return reservation
    if status is not ReservationStatus.ACTIVE:
        raise RuleViolation(
            "INVALID_TRANSITION", f"a {status.value.lower()} reservation cannot be consumed"
        )
    return replace(reservation, status=ReservationStatus.CONSUMED)


# Stock movements


@dataclass(frozen=True, slots=True)
class Movement:
    type: MovementType
    sku: str
    location_id: str
    quantity: int
    source_document_id: str
    line_number: int
    to_location_id: str | None = None

    @property
    def line_key(self) -> tuple[str, int]:
        return (self.source_document_id, self.line_number)

    @property
    def touched(self) -> tuple[str, ...]:
        if self.to_location_id is None:
            return (self.location_id,)
        return (self.location_id, self.to_location_id)


def validate_movement(movement: Movement) -> None:
    """Shape rules that need no stored state."""
    if not is_text(movement.sku, 64):
        raise RuleViolation("INVALID_SKU", "a SKU is 1 to 64 characters")
    if not all(is_text(location, 64) for location in movement.touched):
        raise RuleViolation("UNKNOWN_LOCATION", "a location id is 1 to 64 characters")
    if not is_text(movement.source_document_id, 200):
        raise RuleViolation(
            "INVALID_SOURCE_DOCUMENT", "a source document id is 1 to 200 characters"
        )
    if not 0 <= movement.line_number <= MAX_QUANTITY:
        raise RuleViolation("INVALID_LINE_NUMBER", "a line number is zero or more")
    if abs(movement.quantity) > MAX_QUANTITY:
        raise RuleViolation("INVALID_QUANTITY", "the quantity is out of range")
    if movement.type is MovementType.ADJUSTMENT:
        if movement.quantity == 0:
            raise RuleViolation("INVALID_QUANTITY", "an adjustment is a non-zero delta")
    elif movement.type is MovementType.CYCLE_COUNT:
        if movement.quantity < 0:
            raise RuleViolation("NEGATIVE_QUANTITY", "a counted quantity is zero or more")
    elif movement.quantity <= 0:
        raise RuleViolation(
            "NEGATIVE_QUANTITY", f"a {movement.type.value} moves a positive quantity"
        )
    if movement.type is MovementType.TRANSFER:
        if not movement.to_location_id:
            raise RuleViolation("MISSING_DESTINATION", "a transfer names the location it goes to")
        if movement.to_location_id == movement.location_id:
            raise RuleViolation("INVALID_DESTINATION", "a transfer goes to another location")
    elif movement.to_location_id is not None:
        raise RuleViolation(
            "UNEXPECTED_DESTINATION", f"a {movement.type.value} has no destination location"
        )


def apply_movement(movement: Movement, levels: Mapping[str, StockLevel]) -> dict[str, StockLevel]:
    """The stock levels of the touched locations after ``movement``, keyed by location.

    - RECEIPT adds on hand and lands in-transit units first (``incoming`` drops by as
      much, never below zero).
    - TRANSFER takes units off hand at the source and puts them in transit to the target.
    - PICK takes units off hand and fulfils commitments first.
    - ADJUSTMENT adds a signed delta; RETURN adds units back; CYCLE_COUNT sets on hand.
    On hand never goes below zero: such a movement is rejected, not clipped, because the
    ERP and we disagree and someone must look.
    """
    source = levels[movement.location_id]
    quantity = movement.quantity
    kind = movement.type
    if kind is MovementType.RECEIPT:
        after = replace(
            source, on_hand=source.on_hand + quantity, incoming=max(0, source.incoming - quantity)
        )
    elif kind is MovementType.RETURN or kind is MovementType.ADJUSTMENT:
        after = replace(source, on_hand=source.on_hand + quantity)
    elif kind is MovementType.CYCLE_COUNT:
        after = replace(source, on_hand=quantity)
    elif kind is MovementType.PICK:
        after = replace(
            source,
            on_hand=source.on_hand - quantity,
            committed=max(0, source.committed - quantity),
        )
    else:
        after = replace(source, on_hand=source.on_hand - quantity)
    if after.on_hand < 0:
        raise RuleViolation(
            "NEGATIVE_ON_HAND",
            f"{kind.value} of {quantity} would leave {movement.sku} at "
            f"{movement.location_id} with {after.on_hand} on hand",
        )
    result = {movement.location_id: after}
    if kind is MovementType.TRANSFER and movement.to_location_id is not None:
        target = levels[movement.to_location_id]
        result[movement.to_location_id] = replace(target, incoming=target.incoming + quantity)
    if any(max(lvl.on_hand, lvl.incoming) > MAX_QUANTITY for lvl in result.values()):
        raise RuleViolation(
            "QUANTITY_TOO_LARGE", f"stock above {MAX_QUANTITY} units is not a real quantity"
        )
    return result


class MovementOrigin(StrEnum):
    """Who told us of a movement, which decides whether the ERP must hear of it.

    - ``WMS``: a warehouse system or a store (``applyStockMovements``); the ERP has not
      seen it, so it is owed to the ERP (``erp_moves_for``) in the same transaction.
    - ``ERP``: the ERP's own stock-move feed, or a reconciliation repair to the ERP's
      figure; the ERP has it already, so it is never echoed back.
    """

    WMS = "WMS"
    ERP = "ERP"


class Place(StrEnum):
    """A move's end outside every location of ours, in the ERP's words."""

    STORAGE = "storage"  # one of our locations
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    LOST_FOUND = "lost_found"
    # Goods between two of our locations: they have left one and not landed at the other.
    TRANSIT = "transit"


@dataclass(frozen=True, slots=True)
class ErpMove:
    """One done stock move the ERP must record for a movement it has not seen. An end
    that is one of our locations names it; any other end is a ``Place``."""

    sku: str
    quantity: int
    from_location: str | None
    to_location: str | None
    from_kind: Place = Place.STORAGE
    to_kind: Place = Place.STORAGE

    def on_hand_change(self) -> dict[str, int]:
        """How the move changes the on hand of our locations at its ends."""
        change: dict[str, int] = {}
        if self.from_location is not None:
            change[self.from_location] = -self.quantity
        if self.to_location is not None:
            change[self.to_location] = change.get(self.to_location, 0) + self.quantity
        return change


def _into(location: str, sku: str, quantity: int, source: Place) -> ErpMove:
    return ErpMove(sku, quantity, None, location, from_kind=source)


def _out_of(location: str, sku: str, quantity: int, target: Place) -> ErpMove:
    return ErpMove(sku, quantity, location, None, to_kind=target)


def erp_moves_for(movement: Movement, before: Mapping[str, StockLevel]) -> list[ErpMove]:
    """The ERP moves that record ``movement`` as applied to ``before`` (the levels of the
    locations it touched, keyed by location), so the ERP's on hand follows ours.

    - RECEIPT: the units it lands of those in transit come from transit, the rest from a
      supplier.
    - TRANSFER: leaves the source for transit; the receipt at the target lands it.
    - ADJUSTMENT and CYCLE_COUNT: the difference to or from lost and found (a count that
      finds what we had moves nothing).
    - RETURN: back from the customer.
    - PICK: none. A pick fulfils an order, whose sale the orders domain posts to the ERP;
      the ERP's shipment of that sale is its record of the goods leaving.
    """
    sku, quantity, location = movement.sku, movement.quantity, movement.location_id
    kind = movement.type
    if kind is MovementType.RECEIPT:
        landed = min(quantity, before[location].incoming)
        moves = [_into(location, sku, landed, Place.TRANSIT)] if landed else []
        if quantity > landed:
            moves.append(_into(location, sku, quantity - landed, Place.SUPPLIER))
        return moves
    if kind is MovementType.TRANSFER:
        return [_out_of(location, sku, quantity, Place.TRANSIT)]
    if kind is MovementType.RETURN:
        return [_into(location, sku, quantity, Place.CUSTOMER)]
    if kind is MovementType.ADJUSTMENT or kind is MovementType.CYCLE_COUNT:
        delta = quantity if kind is MovementType.ADJUSTMENT else quantity - before[location].on_hand
        if delta > 0:
            return [_into(location, sku, delta, Place.LOST_FOUND)]
        if delta < 0:
            return [_out_of(location, sku, -delta, Place.LOST_FOUND)]
        return []
    return []


def take_back(level: StockLevel, quantity: int, *, damaged: bool) -> StockLevel:
    """``level`` after ``quantity`` returned units came back to its location: on hand
    either way (they are there, and the ERP counts them), and quarantined as well when
    damaged, so they are never sold again."""
    if not 0 < quantity <= MAX_QUANTITY:
        raise RuleViolation("INVALID_QUANTITY", "a return brings back one unit or more")
    after = replace(
        level,
        on_hand=level.on_hand + quantity,
        quarantined=level.quarantined + quantity if damaged else level.quarantined,
    )
    if after.on_hand > MAX_QUANTITY:
        raise RuleViolation(
            "QUANTITY_TOO_LARGE", f"stock above {MAX_QUANTITY} units is not a real quantity"
        )
    return after


def validate_snapshot(level: StockLevel) -> None:
    values = (
        level.on_hand,
        level.committed,
        level.safety_stock,
        level.quarantined,
        level.incoming,
    )
    if any(not 0 <= value <= MAX_QUANTITY for value in values):
        raise RuleViolation("NEGATIVE_QUANTITY", "stock quantities are zero or more")


class DivergenceCause(StrEnum):
    """Why the ERP's quantity and ours likely differ, checked in this order.

    - ``PENDING_MOVEMENT``: movements on their way account for the whole difference: done
      ERP moves the stock poller has not applied yet, and changes of ours the ERP has not
      received yet (a WMS's movements, returns received in a store); the next poll or
      post settles it.
    - ``UNPOSTED_ORDER``: units our orders hold there (reserved or committed) cover the
      difference, so an order has likely reached one side and not yet the other.
    - ``UNEXPLAINED``: anything else; what a repair adjusts.
    """

    PENDING_MOVEMENT = "pending-movement"
    UNPOSTED_ORDER = "unposted-order"
    UNEXPLAINED = "unexplained"


@dataclass(frozen=True, slots=True)
class Divergence:
    """One SKU at one location where the ERP's on hand and ours differ."""

    sku: str
    location_id: str
    erp: int
    ours: int
    pending: int
    held: int
    cause: DivergenceCause
    repaired: bool = False

    @property
    def difference(self) -> int:
        """How far we are from the ERP: positive when the ERP has more."""
        return self.erp - self.ours


def divergence_cause(difference: int, pending: int, held: int) -> DivergenceCause:
    if pending and pending == difference:
        return DivergenceCause.PENDING_MOVEMENT
    if abs(difference) <= held:
        return DivergenceCause.UNPOSTED_ORDER
    return DivergenceCause.UNEXPLAINED


@dataclass(frozen=True, slots=True)
class CauseTotals:
    pairs: int = 0
    units: int = 0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """A stored reconciliation of every SKU at every location: what it compared and
    found, with the totals per cause that the divergence KPIs read."""

    id: str
    ran_at: datetime
    compared: int
    by_cause: Mapping[DivergenceCause, CauseTotals]

    @property
    def divergent_pairs(self) -> int:
        return sum(totals.pairs for totals in self.by_cause.values())

    @property
    def divergent_units(self) -> int:
        return sum(totals.units for totals in self.by_cause.values())


def totals_by_cause(divergences: Iterable[Divergence]) -> dict[DivergenceCause, CauseTotals]:
    """Pairs and units (absolute differences) per cause; every cause appears, zero or not."""
    pairs = dict.fromkeys(DivergenceCause, 0)
    units = dict.fromkeys(DivergenceCause, 0)
    for divergence in divergences:
        pairs[divergence.cause] += 1
        units[divergence.cause] += abs(divergence.difference)
    return {cause: CauseTotals(pairs[cause], units[cause]) for cause in DivergenceCause}
