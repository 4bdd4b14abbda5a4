"""The events inventory records: stock levels, what each channel and region can sell,
reservations and channel policies.

Pricing pauses low-stock promotions on RegionalAvailabilityChanged; the stock and
availability subscriptions and the availability cache follow StockChanged and
AvailabilityChanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from kernel.payloads import EventPayload, reader


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged(EventPayload):
    """A SKU's named quantities at a location after a change; partition key
    ``<sku>@<locationId>``."""

    TYPE: ClassVar[str] = "StockChanged"
    VERSION: ClassVar[int] = 1

    sku: str
    location_id: str
    on_hand: int
    committed: int
    reserved: int
    safety_stock: int
    quarantined: int
    incoming: int
    available: int

    def to_payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "locationId": self.location_id,
            "onHand": self.on_hand,
            "committed": self.committed,
            "reserved": self.reserved,
            "safetyStock": self.safety_stock,
            "quarantined": self.quarantined,
            "incoming": self.incoming,
            "available": self.available,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            location_id=fields.text("locationId"),
            on_hand=fields.integer("onHand"),
            committed=fields.integer("committed"),
            reserved=fields.integer("reserved"),
            safety_stock=fields.integer("safetyStock"),
            quarantined=fields.integer("quarantined"),
            incoming=fields.integer("incoming"),
            available=fields.integer("available"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityChanged(EventPayload):
    """A SKU's available-to-promise in a channel; partition key ``<sku>@<channel>``."""

    TYPE: ClassVar[str] = "AvailabilityChanged"
    VERSION: ClassVar[int] = 1

    sku: str
    channel: str
    available: int

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "channel": self.channel, "available": self.available}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            channel=fields.text("channel"),
            available=fields.integer("available"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionalAvailabilityChanged(EventPayload):
    """A SKU's sellable units summed over a region's locations; partition key
    ``<sku>@<region>``, so a region's changes are consumed in order."""

    TYPE: ClassVar[str] = "RegionalAvailabilityChanged"
    VERSION: ClassVar[int] = 1

    sku: str
    region: str
    available: int

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "region": self.region, "available": self.available}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            region=fields.text("region"),
            available=fields.integer("available"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPolicyChanged(EventPayload):
    """Whether in-transit units now count toward a channel's available-to-promise."""

    TYPE: ClassVar[str] = "ChannelPolicyChanged"
    VERSION: ClassVar[int] = 1

    channel: str
    counts_incoming: bool

    def to_payload(self) -> dict[str, Any]:
        return {"channel": self.channel, "countsIncoming": self.counts_incoming}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(channel=fields.text("channel"), counts_incoming=fields.boolean("countsIncoming"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationChange(EventPayload):
    """A reservation as it is after a step of its life (``status`` is where it now stands);
    partition key ``<sku>@<locationId>``."""

    id: str
    sku: str
    location_id: str
    quantity: int
    status: str
    expires_at: datetime
    order_reference: str | None

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sku": self.sku,
            "locationId": self.location_id,
            "quantity": self.quantity,
            "status": self.status,
            "expiresAt": self.expires_at.isoformat(),
            "orderReference": self.order_reference,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            id=fields.text("id"),
            sku=fields.text("sku"),
            location_id=fields.text("locationId"),
            quantity=fields.integer("quantity"),
            status=fields.text("status"),
            expires_at=fields.moment("expiresAt"),
            order_reference=fields.optional_text("orderReference"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationCreated(ReservationChange):
    """Stock was set aside for a checkout until ``expires_at``."""

    TYPE: ClassVar[str] = "ReservationCreated"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationReleased(ReservationChange):
    """A reservation gave its stock back before it expired."""

    TYPE: ClassVar[str] = "ReservationReleased"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationExpired(ReservationChange):
    """A reservation lapsed and the sweep freed its stock."""

    TYPE: ClassVar[str] = "ReservationExpired"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationConsumed(ReservationChange):
    """A reservation became an order's commitment: its units are committed, not reserved."""

    TYPE: ClassVar[str] = "ReservationConsumed"
    VERSION: ClassVar[int] = 1
