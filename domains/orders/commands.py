"""The steps of an order's lifecycle, as commands: what a caller asks of one order.

Each command names a step and carries its arguments; ``apply`` runs the model's rule for
it. ``service.change_order`` applies any of them the same way: the order locked, the step
applied at the unit of work's time, the order and the events it produced saved together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from domains.orders.model import Order, ReturnDisposition, fingerprint


@dataclass(frozen=True, slots=True)
class Confirm:
    """PENDING -> CONFIRMED."""

    def apply(self, order: Order, at: datetime) -> None:
        order.confirm(at=at)


@dataclass(frozen=True, slots=True)
class AuthorizePayment:
    """CONFIRMED -> PAYMENT_AUTHORIZED."""

    reference: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.authorize_payment(at=at, reference=self.reference)


@dataclass(frozen=True, slots=True)
class HoldForFraud:
    """CONFIRMED -> FRAUD_HOLD."""

    reason: str

    def apply(self, order: Order, at: datetime) -> None:
        order.hold_for_fraud(at=at, reason=self.reason)


@dataclass(frozen=True, slots=True)
class ReleaseFraudHold:
    """FRAUD_HOLD -> PAYMENT_AUTHORIZED."""

    reason: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.release_fraud_hold(at=at, reason=self.reason)


@dataclass(frozen=True, slots=True)
class ReleaseToFulfilment:
    """PAYMENT_AUTHORIZED -> RELEASED_TO_FULFILMENT."""

    def apply(self, order: Order, at: datetime) -> None:
        order.release_to_fulfilment(at=at)


@dataclass(frozen=True, slots=True)
class ConfirmShipment:
    """Shipped units -> PARTIALLY_SHIPPED or SHIPPED; a ``reference`` applied before is a
    no-op (a replayed shipment)."""

    quantities: Mapping[str, int] = field(default_factory=dict)
    reference: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.confirm_shipment(self.quantities, at=at, reference=self.reference)


@dataclass(frozen=True, slots=True)
class ConfirmDelivery:
    """SHIPPED -> DELIVERED."""

    def apply(self, order: Order, at: datetime) -> None:
        order.confirm_delivery(at=at)


@dataclass(frozen=True, slots=True)
class Cancel:
    """Every unit not yet shipped cancelled -> CANCELLED."""

    reason: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.cancel(at=at, reason=self.reason)


@dataclass(frozen=True, slots=True)
class CancelLines:
    """Units of some lines cancelled before shipment -> PARTIALLY_CANCELLED, or CANCELLED
    when no unit is left."""

    quantities: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.cancel_lines(self.quantities, at=at, reason=self.reason)


@dataclass(frozen=True, slots=True)
class RequestReturn:
    """Delivered units coming back -> RETURN_REQUESTED."""

    quantities: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.request_return(self.quantities, at=at, reason=self.reason)


@dataclass(frozen=True, slots=True)
class ConfirmReturn:
    """Returned units received at a location, restocked or quarantined -> RETURNED once
    every requested unit is back; a ``reference`` applied before is a no-op. An empty
    ``location_id`` is where the order was fulfilled."""

    quantities: Mapping[str, int]
    disposition: ReturnDisposition | str
    reference: str = ""
    location_id: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.confirm_return(
            self.quantities,
            disposition=ReturnDisposition(self.disposition),
            at=at,
            reference=self.reference,
            location_id=self.location_id,
        )


@dataclass(frozen=True, slots=True)
class ReceiveReturn:
    """Returned units received at a location, each line's units per disposition (one
    restocked, another damaged), as one receipt -> RETURNED once every requested unit
    is back; a ``reference`` applied before is a no-op. An empty ``location_id`` is
    where the order was fulfilled."""

    units: Mapping[ReturnDisposition, Mapping[str, int]]
    reference: str = ""
    location_id: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.receive_return(
            self.units, at=at, reference=self.reference, location_id=self.location_id
        )


@dataclass(frozen=True, slots=True)
class Refund:
    """RETURNED -> REFUNDED, at the price paid; a ``reference`` applied before is a no-op."""

    reference: str = ""

    def apply(self, order: Order, at: datetime) -> None:
        order.refund(at=at, reference=self.reference)


OrderCommand = (
    Confirm
    | AuthorizePayment
    | HoldForFraud
    | ReleaseFraudHold
    | ReleaseToFulfilment
    | ConfirmShipment
    | ConfirmDelivery
    | Cancel
    | CancelLines
    | RequestReturn
    | ConfirmReturn
    | ReceiveReturn
    | Refund
)


def step_fingerprint(order_id: str, command: OrderCommand) -> str:
    """What a step asks for, as a digest: the step, the order and its arguments. The same
    idempotency key sent with another step, order or argument is refused."""
    return fingerprint([type(command).__name__, order_id, _plain(command)])


def _plain(value: Any) -> Any:
    """``value`` as JSON can write it, the same whatever order a mapping was built in."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return sorted([str(_plain(key)), _plain(item)] for key, item in value.items())
    if isinstance(value, Enum):
        return value.value
    return value
