"""The events orders records, each with partition key = the order's id.

Inventory commits and releases stock from OrderCreated and OrderLinesCancelled, and takes
returned units back from OrderReturnReceived; the ERP postings are written from
OrderCreated, OrderLinesCancelled and OrderReturnReceived; the order subscriptions follow
OrderCreated and OrderStatusChanged.
"""

from __future__ import annotations

from typing import ClassVar, TypedDict

from pydantic import Field, StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from kernel.payloads import DecimalText, EventPayload, PayloadPart


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFulfilment(PayloadPart):
    """How the order reaches the customer (``SHIP_FROM_DC``, ``PICKUP_AT_STORE``) and from
    which location."""

    type: StrictStr
    location_id: StrictStr


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderedLine(PayloadPart):
    """A line as ordered: prices are tax-inclusive decimals, sent as strings."""

    line_id: StrictStr
    sku: StrictStr
    quantity: StrictInt
    unit_price: DecimalText
    promotional_unit_price: DecimalText
    tax_rate: DecimalText


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTotals(PayloadPart):
    subtotal: DecimalText
    discount: DecimalText
    tax: DecimalText
    total: DecimalText


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreated(EventPayload):
    """An order was placed and numbered: what the ERP needs to post the sale, and the
    checkout key whose reservations (line n under ``<idempotencyKey>:<n>``) it commits."""

    TYPE: ClassVar[str] = "OrderCreated"
    VERSION: ClassVar[int] = 1

    order_id: StrictStr
    number: StrictStr
    # None only on orders placed before checkout named its reservations.
    idempotency_key: StrictStr | None = None
    channel: StrictStr
    customer_reference: StrictStr
    fulfilment: OrderFulfilment
    currency: StrictStr
    lines: tuple[OrderedLine, ...]
    totals: OrderTotals


@dataclass(frozen=True, slots=True, kw_only=True)
class LineQuantity(PayloadPart):
    """Units of one order line that a step (shipment, cancellation, return) concerns."""

    line_id: StrictStr
    # The line's number in the order, from 1; None (and left out of the payload) on
    # events recorded before lines carried it: inventory then cannot name the line's
    # reservation.
    position: StrictInt | None = Field(default=None, exclude_if=lambda position: position is None)
    sku: StrictStr
    quantity: StrictInt


class OrderChangeHeader(TypedDict):
    """The fields every ``OrderChange`` starts with, to build one from an order's state."""

    order_id: str
    number: str
    idempotency_key: str | None
    location_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderChange(EventPayload):
    """What every event of an order's lifecycle after its creation carries: the order, its
    checkout key and its fulfilment location, so inventory can release or restock without
    asking orders."""

    order_id: StrictStr
    number: StrictStr
    # None only on orders placed before checkout named its reservations.
    idempotency_key: StrictStr | None = None
    location_id: StrictStr


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusChanged(OrderChange):
    """The order moved from one status to another (``from`` is the status it left)."""

    TYPE: ClassVar[str] = "OrderStatusChanged"
    VERSION: ClassVar[int] = 1

    from_status: StrictStr = Field(validation_alias="from", serialization_alias="from")
    to_status: StrictStr = Field(validation_alias="to", serialization_alias="to")
    reason: StrictStr


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLinesShipped(OrderChange):
    """Units left the warehouse under a shipment ``reference`` (empty when none was given)."""

    TYPE: ClassVar[str] = "OrderLinesShipped"
    VERSION: ClassVar[int] = 1

    reference: StrictStr
    lines: tuple[LineQuantity, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLinesCancelled(OrderChange):
    """Units were cancelled before shipping; ``whole_order`` when nothing is left open."""

    TYPE: ClassVar[str] = "OrderLinesCancelled"
    VERSION: ClassVar[int] = 1

    reason: StrictStr
    lines: tuple[LineQuantity, ...]
    whole_order: StrictBool


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReturnRequested(OrderChange):
    """The customer asked to return shipped units."""

    TYPE: ClassVar[str] = "OrderReturnRequested"
    VERSION: ClassVar[int] = 1

    reason: StrictStr
    lines: tuple[LineQuantity, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnedLine(LineQuantity):
    """Units of one line that came back, and what becomes of them: ``RESTOCK`` (sellable
    again) or ``DAMAGED`` (quarantined). None on events recorded before each line said
    it: the event's ``disposition`` applies."""

    disposition: StrictStr | None = Field(
        default=None, exclude_if=lambda disposition: disposition is None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReturnReceived(OrderChange):
    """Returned units arrived at a location, to be restocked or quarantined. One receipt
    may hold both (a line's units may be split); ``disposition`` is the receipt's own
    when every line shares it, ``MIXED`` otherwise; read each line's with
    ``disposition_of``."""

    TYPE: ClassVar[str] = "OrderReturnReceived"
    VERSION: ClassVar[int] = 1

    reference: StrictStr
    disposition: StrictStr
    lines: tuple[ReturnedLine, ...]
    # Where the units came back (a store may receive a web order's return); None on
    # events recorded before returns named it: they came back where the order was
    # fulfilled (``location_id``).
    received_at: StrictStr | None = Field(
        default=None, exclude_if=lambda received_at: received_at is None
    )

    @property
    def receiving_location(self) -> str:
        """The location whose stock the returned units join."""
        return self.received_at or self.location_id

    def disposition_of(self, line: ReturnedLine) -> str:
        return line.disposition or self.disposition


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefunded(OrderChange):
    """Returned units were refunded at the price the customer paid."""

    TYPE: ClassVar[str] = "OrderRefunded"
    VERSION: ClassVar[int] = 1

    reference: StrictStr
    amount: DecimalText
    currency: StrictStr
    lines: tuple[LineQuantity, ...]
