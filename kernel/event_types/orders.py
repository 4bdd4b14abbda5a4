"""The events orders records, each with partition key = the order's id.

Inventory commits and releases stock from OrderCreated and OrderLinesCancelled; the ERP
postings are written from OrderCreated, OrderLinesCancelled and OrderReturnReceived; the
order subscriptions follow OrderCreated and OrderStatusChanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self, TypedDict

from kernel.payloads import EventPayload, PayloadReader, reader


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFulfilment:
    """How the order reaches the customer (``SHIP_FROM_DC``, ``PICKUP_AT_STORE``) and from
    which location."""

    type: str
    location_id: str

    def to_payload(self) -> dict[str, Any]:
        return {"type": self.type, "locationId": self.location_id}

    @classmethod
    def read(cls, fields: PayloadReader) -> Self:
        return cls(type=fields.text("type"), location_id=fields.text("locationId"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderedLine:
    """A line as ordered: prices are tax-inclusive decimals, sent as strings."""

    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    promotional_unit_price: Decimal
    tax_rate: Decimal

    def to_payload(self) -> dict[str, Any]:
        return {
            "lineId": self.line_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "unitPrice": str(self.unit_price),
            "promotionalUnitPrice": str(self.promotional_unit_price),
            "taxRate": str(self.tax_rate),
        }

    @classmethod
    def read(cls, fields: PayloadReader) -> Self:
        return cls(
            line_id=fields.text("lineId"),
            sku=fields.text("sku"),
            quantity=fields.integer("quantity"),
            unit_price=fields.decimal("unitPrice"),
            promotional_unit_price=fields.decimal("promotionalUnitPrice"),
            tax_rate=fields.decimal("taxRate"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTotals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal

    def to_payload(self) -> dict[str, Any]:
        return {
            "subtotal": str(self.subtotal),
            "discount": str(self.discount),
            "tax": str(self.tax),
            "total": str(self.total),
        }

    @classmethod
    def read(cls, fields: PayloadReader) -> Self:
        return cls(
            subtotal=fields.decimal("subtotal"),
            discount=fields.decimal("discount"),
            tax=fields.decimal("tax"),
            total=fields.decimal("total"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreated(EventPayload):
    """An order was placed and numbered: what the ERP needs to post the sale, and the
    checkout key whose reservations (line n under ``<idempotencyKey>:<n>``) it commits."""

    TYPE: ClassVar[str] = "OrderCreated"
    VERSION: ClassVar[int] = 1

    order_id: str
    number: str
    # None only on orders placed before checkout named its reservations.
    idempotency_key: str | None
    channel: str
    customer_reference: str
    fulfilment: OrderFulfilment
    currency: str
    lines: tuple[OrderedLine, ...]
    totals: OrderTotals

    def to_payload(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "number": self.number,
            "idempotencyKey": self.idempotency_key,
            "channel": self.channel,
            "customerReference": self.customer_reference,
            "fulfilment": self.fulfilment.to_payload(),
            "currency": self.currency,
            "lines": [line.to_payload() for line in self.lines],
            "totals": self.totals.to_payload(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            order_id=fields.text("orderId"),
            number=fields.text("number"),
            idempotency_key=fields.optional_text("idempotencyKey"),
            channel=fields.text("channel"),
            customer_reference=fields.text("customerReference"),
            fulfilment=OrderFulfilment.read(fields.record("fulfilment")),
            currency=fields.text("currency"),
            lines=tuple(OrderedLine.read(line) for line in fields.records("lines")),
            totals=OrderTotals.read(fields.record("totals")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LineQuantity:
    """Units of one order line that a step (shipment, cancellation, return) concerns."""

    line_id: str
    # The line's number in the order, from 1; None on events recorded before lines
    # carried it (inventory then cannot name the line's reservation).
    position: int | None
    sku: str
    quantity: int

    def to_payload(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"lineId": self.line_id}
        if self.position is not None:
            shown["position"] = self.position
        return {**shown, "sku": self.sku, "quantity": self.quantity}

    @classmethod
    def read(cls, fields: PayloadReader) -> Self:
        return cls(
            line_id=fields.text("lineId"),
            position=fields.optional_integer("position"),
            sku=fields.text("sku"),
            quantity=fields.integer("quantity"),
        )


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

    order_id: str
    number: str
    # None only on orders placed before checkout named its reservations.
    idempotency_key: str | None
    location_id: str

    def _header(self) -> dict[str, Any]:
        return {
            "orderId": self.order_id,
            "number": self.number,
            "idempotencyKey": self.idempotency_key,
            "locationId": self.location_id,
        }

    @staticmethod
    def _read_header(fields: PayloadReader) -> OrderChangeHeader:
        return OrderChangeHeader(
            order_id=fields.text("orderId"),
            number=fields.text("number"),
            idempotency_key=fields.optional_text("idempotencyKey"),
            location_id=fields.text("locationId"),
        )


def _lines(fields: PayloadReader) -> tuple[LineQuantity, ...]:
    return tuple(LineQuantity.read(line) for line in fields.records("lines"))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusChanged(OrderChange):
    """The order moved from one status to another (``from`` is the status it left)."""

    TYPE: ClassVar[str] = "OrderStatusChanged"
    VERSION: ClassVar[int] = 1

    from_status: str
    to_status: str
    reason: str

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "from": self.from_status,
            "to": self.to_status,
            "reason": self.reason,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            **cls._read_header(fields),
            from_status=fields.text("from"),
            to_status=fields.text("to"),
            reason=fields.text("reason"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLinesShipped(OrderChange):
    """Units left the warehouse under a shipment ``reference`` (empty when none was given)."""

    TYPE: ClassVar[str] = "OrderLinesShipped"
    VERSION: ClassVar[int] = 1

    reference: str
    lines: tuple[LineQuantity, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "reference": self.reference,
            "lines": [line.to_payload() for line in self.lines],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            **cls._read_header(fields), reference=fields.text("reference"), lines=_lines(fields)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLinesCancelled(OrderChange):
    """Units were cancelled before shipping; ``whole_order`` when nothing is left open."""

    TYPE: ClassVar[str] = "OrderLinesCancelled"
    VERSION: ClassVar[int] = 1

    reason: str
    lines: tuple[LineQuantity, ...]
    whole_order: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "reason": self.reason,
            "lines": [line.to_payload() for line in self.lines],
            "wholeOrder": self.whole_order,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            **cls._read_header(fields),
            reason=fields.text("reason"),
            lines=_lines(fields),
            whole_order=fields.boolean("wholeOrder"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReturnRequested(OrderChange):
    """The customer asked to return shipped units."""

    TYPE: ClassVar[str] = "OrderReturnRequested"
    VERSION: ClassVar[int] = 1

    reason: str
    lines: tuple[LineQuantity, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "reason": self.reason,
            "lines": [line.to_payload() for line in self.lines],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(**cls._read_header(fields), reason=fields.text("reason"), lines=_lines(fields))


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReturnReceived(OrderChange):
    """Returned units arrived, to be restocked or written off (``disposition``)."""

    TYPE: ClassVar[str] = "OrderReturnReceived"
    VERSION: ClassVar[int] = 1

    reference: str
    disposition: str
    lines: tuple[LineQuantity, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "reference": self.reference,
            "disposition": self.disposition,
            "lines": [line.to_payload() for line in self.lines],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            **cls._read_header(fields),
            reference=fields.text("reference"),
            disposition=fields.text("disposition"),
            lines=_lines(fields),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefunded(OrderChange):
    """Returned units were refunded at the price the customer paid."""

    TYPE: ClassVar[str] = "OrderRefunded"
    VERSION: ClassVar[int] = 1

    reference: str
    amount: Decimal
    currency: str
    lines: tuple[LineQuantity, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            **self._header(),
            "reference": self.reference,
            "amount": str(self.amount),
            "currency": self.currency,
            "lines": [line.to_payload() for line in self.lines],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            **cls._read_header(fields),
            reference=fields.text("reference"),
            amount=fields.decimal("amount"),
            currency=fields.text("currency"),
            lines=_lines(fields),
        )
