"""The events inventory records: stock levels, what each channel and region can sell,
reservations and channel policies.

Pricing pauses low-stock promotions on RegionalAvailabilityChanged; the stock and
availability subscriptions and the availability cache follow StockChanged and
AvailabilityChanged.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from kernel.payloads import EventPayload, Moment


@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged(EventPayload):
    """A SKU's named quantities at a location after a change; partition key
    ``<sku>@<locationId>``."""

    TYPE: ClassVar[str] = "StockChanged"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    location_id: StrictStr
    on_hand: StrictInt
    committed: StrictInt
    reserved: StrictInt
    safety_stock: StrictInt
    quarantined: StrictInt
    incoming: StrictInt
    available: StrictInt


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilityChanged(EventPayload):
    """A SKU's available-to-promise in a channel; partition key ``<sku>@<channel>``."""

    TYPE: ClassVar[str] = "AvailabilityChanged"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    channel: StrictStr
    available: StrictInt


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionalAvailabilityChanged(EventPayload):
    """A SKU's sellable units summed over a region's locations; partition key
    ``<sku>@<region>``, so a region's changes are consumed in order."""

    TYPE: ClassVar[str] = "RegionalAvailabilityChanged"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    region: StrictStr
    available: StrictInt


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPolicyChanged(EventPayload):
    """Whether in-transit units now count toward a channel's available-to-promise."""

    TYPE: ClassVar[str] = "ChannelPolicyChanged"
    VERSION: ClassVar[int] = 1

    channel: StrictStr
    counts_incoming: StrictBool


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationChange(EventPayload):
    """A reservation as it is after a step of its life (``status`` is where it now stands);
    partition key ``<sku>@<locationId>``."""

    id: StrictStr
    sku: StrictStr
    location_id: StrictStr
    quantity: StrictInt
    status: StrictStr
    expires_at: Moment
    order_reference: StrictStr | None = None


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
