"""The order and its lifecycle rules (pure: standard library and kernel only).

Money is ``Decimal`` with two places, rounded half-up per line. Prices are
tax-inclusive, as pricing quotes them and as European shoppers see them; each line
carries its tax rate, and the tax contained in a line is split out per line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Protocol

from domains.orders.errors import InvalidOrderInput, InvalidTransition

# Re-exported: the statuses and their table are part of the model's public face.
from domains.orders.transitions import RESUMING as RESUMING
from domains.orders.transitions import TRANSITIONS as TRANSITIONS
from domains.orders.transitions import OrderStatus as OrderStatus
from domains.orders.transitions import can_transition as can_transition
from kernel.actors import SYSTEM, Actor
from kernel.event_types import (
    LineQuantity,
    OrderChange,
    OrderChangeHeader,
    OrderCreated,
    OrderLinesCancelled,
    OrderLinesShipped,
    OrderRefunded,
    OrderReturnReceived,
    OrderReturnRequested,
    OrderStatusChanged,
    ReturnedLine,
)

# What the orders outbox carries, each with partition key = order id.
EVENT_TYPES = (
    OrderCreated.TYPE,
    OrderStatusChanged.TYPE,
    OrderLinesShipped.TYPE,
    OrderLinesCancelled.TYPE,
    OrderReturnRequested.TYPE,
    OrderReturnReceived.TYPE,
    OrderRefunded.TYPE,
)
CENT = Decimal("0.01")
UNIT_PLACES = Decimal("1e-10")

S = OrderStatus


class FulfilmentType(StrEnum):
    SHIP_FROM_DC = "SHIP_FROM_DC"
    PICKUP_AT_STORE = "PICKUP_AT_STORE"


class LineStatus(StrEnum):
    OPEN = "OPEN"
    CANCELLED = "CANCELLED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURNED = "RETURNED"


class ReturnDisposition(StrEnum):
    RESTOCK = "RESTOCK"
    DAMAGED = "DAMAGED"


# The disposition an OrderReturnReceived states when its lines have different ones.
MIXED = "MIXED"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def spread(total: Decimal, quantity: int) -> Decimal:
    """The unit price that makes ``quantity`` units cost ``total``, with as few decimals
    as that takes (an ERP keeps unit prices to 4 places, enough below 100 units)."""
    exact = total / quantity
    for places in range(2, 11):
        unit = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if money(unit * quantity) == money(total):
            return unit.normalize() if places > 2 else unit
    return exact.quantize(UNIT_PLACES, rounding=ROUND_HALF_UP)


def unit_amount(value: Decimal) -> Decimal:
    """A unit price: in cents, or finer when a line total spread over its units needs it
    (a buy-2-get-1 line of 4 units at 9.99 costs 29.97, 7.493 a unit), so that
    ``money(unit * quantity)`` gives the line total back."""
    cents = money(value)
    if cents == value:
        return cents
    return value.quantize(UNIT_PLACES, rounding=ROUND_HALF_UP).normalize()


@dataclass(frozen=True, slots=True)
class Fulfilment:
    type: FulfilmentType
    location_id: str


@dataclass(frozen=True, slots=True)
class NewLine:
    """A line as checkout hands it over: priced already (pricing's quote)."""

    sku: str
    quantity: int
    unit_price: Decimal
    promotional_unit_price: Decimal | None = None
    tax_rate: Decimal = Decimal("0")


@dataclass(slots=True)
class OrderLine:
    id: str
    position: int
    sku: str
    quantity: int
    unit_price: Decimal
    promotional_unit_price: Decimal
    tax_rate: Decimal
    quantity_cancelled: int = 0
    quantity_shipped: int = 0
    quantity_return_requested: int = 0
    quantity_returned: int = 0
    quantity_refunded: int = 0

    @property
    def active_quantity(self) -> int:
        """Ordered and not cancelled: what the customer pays for."""
        return self.quantity - self.quantity_cancelled

    @property
    def unshipped_quantity(self) -> int:
        return self.active_quantity - self.quantity_shipped

    @property
    def returnable_quantity(self) -> int:
        return self.quantity_shipped - self.quantity_return_requested

    @property
    def subtotal(self) -> Decimal:
        return money(self.unit_price * self.active_quantity)

    @property
    def discount(self) -> Decimal:
        return self.subtotal - self.line_total

    @property
    def line_total(self) -> Decimal:
        """What the customer pays for the line: after discount, tax included."""
        return self.paid_for(self.active_quantity)

    @property
    def tax(self) -> Decimal:
        """The tax contained in ``line_total``."""
        return self.line_total - money(self.line_total / (1 + self.tax_rate))

    def paid_for(self, quantity: int) -> Decimal:
        """What ``quantity`` units cost the customer: the promotional price, tax included."""
        return money(self.promotional_unit_price * quantity)

    @property
    def status(self) -> LineStatus:
        if self.active_quantity == 0:
            return LineStatus.CANCELLED
        if self.quantity_return_requested > self.quantity_returned:
            return LineStatus.RETURN_REQUESTED
        if self.quantity_returned == self.active_quantity:
            return LineStatus.RETURNED
        if self.quantity_shipped == self.active_quantity:
            return LineStatus.SHIPPED
        if self.quantity_shipped > 0:
            return LineStatus.PARTIALLY_SHIPPED
        return LineStatus.OPEN


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    refunded: Decimal


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    reason: str
    correlation_id: str | None
    # Who made the step: the client (and end user) of the request, or the system.
    actor: Actor = SYSTEM

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_status.value if self.from_status else None,
            "to": self.to_status.value,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "correlationId": self.correlation_id,
            "actor": {"client": self.actor.client, "subject": self.actor.subject},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryEntry:
        # Every stored step names its actor (orders_0004 gave the older ones the system's).
        actor = data["actor"]
        return cls(
            from_status=OrderStatus(data["from"]) if data.get("from") else None,
            to_status=OrderStatus(data["to"]),
            at=datetime.fromisoformat(data["at"]),
            reason=data.get("reason") or "",
            correlation_id=data.get("correlationId"),
            actor=Actor(actor["client"], actor.get("subject")),
        )


@dataclass(slots=True)
class Order:
    id: str
    idempotency_key: str
    channel: str
    customer_reference: str
    fulfilment: Fulfilment
    currency: str
    lines: list[OrderLine]
    status: OrderStatus
    history: list[HistoryEntry]
    correlation_id: str | None
    created_at: datetime
    updated_at: datetime
    sequence: int | None = None
    # What the checkout asked for (``request_fingerprint``): a repeat of its idempotency key
    # must ask for the same. None on orders from before fingerprints were kept.
    request_fingerprint: str | None = None
    # Documents (shipment ids, return ids) already applied, so replays are no-ops.
    applied_references: list[str] = field(default_factory=list)
    # What the current step changed, as the facts its events will state, with their time;
    # the service records them as events (``service.change_order``).
    changes: list[tuple[OrderChange, datetime]] = field(
        default_factory=list, compare=False, repr=False
    )
    # The correlation id of the request applying the current step (history and events).
    step_correlation_id: str | None = field(default=None, compare=False, repr=False)
    # Who applies the current step (history).
    step_actor: Actor = field(default=SYSTEM, compare=False, repr=False)
    # True when the order answers a repeat of a step's idempotency key (nothing was made).
    step_repeated: bool = field(default=False, compare=False, repr=False)

    def answers(self, fingerprint: str) -> bool:
        """Whether a request with ``fingerprint`` is a repeat of the one that made this order."""
        return self.request_fingerprint is None or self.request_fingerprint == fingerprint

    @property
    def number(self) -> str:
        """The reference people read out on the phone and the ERP stores."""
        return f"RG-{self.sequence:07d}" if self.sequence is not None else ""

    @property
    def stage(self) -> OrderStatus:
        """The status whose row of TRANSITIONS applies: a resuming status defers to the
        last status before it."""
        for entry in reversed(self.history):
            if entry.to_status not in RESUMING:
                return entry.to_status
        return OrderStatus.PENDING

    def allowed_transitions(self) -> frozenset[OrderStatus]:
        return TRANSITIONS[self.stage]

    @property
    def totals(self) -> Totals:
        subtotal = sum((line.subtotal for line in self.lines), Decimal("0.00"))
        discount = sum((line.discount for line in self.lines), Decimal("0.00"))
        tax = sum((line.tax for line in self.lines), Decimal("0.00"))
        refunded = sum(
            (line.paid_for(line.quantity_refunded) for line in self.lines), Decimal("0.00")
        )
        return Totals(
            currency=self.currency,
            subtotal=subtotal,
            discount=discount,
            tax=tax,
            total=subtotal - discount,
            refunded=refunded,
        )

    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.id == line_id:
                return line
        raise InvalidOrderInput(f"Order {self.id} has no line {line_id!r}", line_id=line_id)

    # -- lifecycle -------------------------------------------------------------------

    def confirm(self, *, at: datetime, reason: str = "") -> None:
        self._transition(S.CONFIRMED, at=at, reason=reason or "confirmed")

    def authorize_payment(self, *, at: datetime, reference: str = "") -> None:
        self._require(S.PAYMENT_AUTHORIZED)
        if self.status is S.FRAUD_HOLD:
            raise InvalidTransition(
                self.status, S.PAYMENT_AUTHORIZED, "release the fraud hold instead"
            )
        self._transition(S.PAYMENT_AUTHORIZED, at=at, reason=reference or "payment authorized")

    def hold_for_fraud(self, *, at: datetime, reason: str) -> None:
        self._transition(S.FRAUD_HOLD, at=at, reason=reason or "fraud hold")

    def release_fraud_hold(self, *, at: datetime, reason: str = "") -> None:
        if self.status is not S.FRAUD_HOLD:
            raise InvalidTransition(self.status, S.PAYMENT_AUTHORIZED, "the order is not on hold")
        self._transition(S.PAYMENT_AUTHORIZED, at=at, reason=reason or "fraud hold released")

    def release_to_fulfilment(self, *, at: datetime) -> None:
        self._transition(S.RELEASED_TO_FULFILMENT, at=at, reason="released to fulfilment")

    def confirm_shipment(
        self, quantities: Mapping[str, int], *, at: datetime, reference: str = ""
    ) -> bool:
        """Record shipped units; False when ``reference`` was applied already (a replay)."""
        if reference and reference in self.applied_references:
            return False
        lines = self._validated(quantities)
        self._require(S.PARTIALLY_SHIPPED)
        _check_within(lines, lambda line: line.unshipped_quantity, "has {n} units left to ship")
        for line, quantity in lines:
            line.quantity_shipped += quantity
        done = all(line.unshipped_quantity == 0 for line in self.lines)
        self._remember(reference)
        self._record(
            OrderLinesShipped(
                **self._change_header(), reference=reference, lines=_line_quantities(lines)
            ),
            at,
        )
        target = S.SHIPPED if done else S.PARTIALLY_SHIPPED
        self._transition(target, at=at, reason=f"shipment {reference}".strip())
        return True

    def confirm_delivery(self, *, at: datetime) -> None:
        self._transition(S.DELIVERED, at=at, reason="delivered")

    def cancel(self, *, at: datetime, reason: str) -> None:
        self._require(S.CANCELLED)
        released = [(line, line.active_quantity) for line in self.lines if line.active_quantity]
        for line, quantity in released:
            line.quantity_cancelled += quantity
        self._record(
            OrderLinesCancelled(
                **self._change_header(),
                reason=reason,
                lines=_line_quantities(released),
                whole_order=True,
            ),
            at,
        )
        self._transition(S.CANCELLED, at=at, reason=reason or "cancelled")

    def cancel_lines(self, quantities: Mapping[str, int], *, at: datetime, reason: str) -> None:
        """Cancel units before they ship; cancelling the last open unit cancels the order."""
        lines = self._validated(quantities)
        self._require(S.PARTIALLY_CANCELLED)
        _check_within(lines, lambda line: line.active_quantity, "has {n} units left to cancel")
        for line, quantity in lines:
            line.quantity_cancelled += quantity
        whole = all(line.active_quantity == 0 for line in self.lines)
        self._record(
            OrderLinesCancelled(
                **self._change_header(),
                reason=reason,
                lines=_line_quantities(lines),
                whole_order=whole,
            ),
            at,
        )
        target = S.CANCELLED if whole else S.PARTIALLY_CANCELLED
        self._transition(target, at=at, reason=reason or "lines cancelled")

    def request_return(self, quantities: Mapping[str, int], *, at: datetime, reason: str) -> None:
        lines = self._validated(quantities)
        self._require(S.RETURN_REQUESTED)
        _check_within(
            lines, lambda line: line.returnable_quantity, "has {n} units that can be returned"
        )
        for line, quantity in lines:
            line.quantity_return_requested += quantity
        self._record(
            OrderReturnRequested(
                **self._change_header(), reason=reason, lines=_line_quantities(lines)
            ),
            at,
        )
        self._transition(S.RETURN_REQUESTED, at=at, reason=reason or "return requested")

    def confirm_return(
        self,
        quantities: Mapping[str, int],
        *,
        disposition: ReturnDisposition,
        at: datetime,
        reference: str = "",
        location_id: str = "",
    ) -> bool:
        """Record returned units received, all with one ``disposition``."""
        return self.receive_return(
            {disposition: quantities}, at=at, reference=reference, location_id=location_id
        )

    def receive_return(
        self,
        units: Mapping[ReturnDisposition, Mapping[str, int]],
        *,
        at: datetime,
        reference: str = "",
        location_id: str = "",
    ) -> bool:
        """Record returned units received at ``location_id`` (where the order was
        fulfilled, when empty: a store may take back a web order), the units of each line
        per disposition (one unit restocked, another damaged); RETURNED once every
        requested unit is back. False when ``reference`` was applied already (a replay)."""
        if reference and reference in self.applied_references:
            return False
        received = [
            (disposition, line, quantity)
            for disposition, quantities in units.items()
            if quantities
            for line, quantity in self._validated(quantities)
        ]
        if not received:
            raise InvalidOrderInput("Name at least one line and quantity")
        self._require(S.RETURNED)
        totals: dict[str, int] = {}
        for _, line, quantity in received:
            totals[line.id] = totals.get(line.id, 0) + quantity
        _check_within(
            [(self.line(line_id), quantity) for line_id, quantity in totals.items()],
            lambda line: line.quantity_return_requested - line.quantity_returned,
            "awaits {n} returned units",
        )
        for _, line, quantity in received:
            line.quantity_returned += quantity
        self._remember(reference)
        dispositions = sorted({disposition.value for disposition, _, _ in received})
        shown = dispositions[0] if len(dispositions) == 1 else MIXED
        self._record(
            OrderReturnReceived(
                **self._change_header(),
                reference=reference,
                disposition=shown,
                lines=tuple(
                    ReturnedLine(
                        line_id=line.id,
                        position=line.position,
                        sku=line.sku,
                        quantity=quantity,
                        disposition=disposition.value,
                    )
                    for disposition, line, quantity in received
                ),
                received_at=location_id or self.fulfilment.location_id,
            ),
            at,
        )
        awaiting = any(
            line.quantity_return_requested > line.quantity_returned for line in self.lines
        )
        target = S.RETURN_REQUESTED if awaiting else S.RETURNED
        self._transition(target, at=at, reason=f"return received ({', '.join(dispositions)})")
        return True

    def refund(self, *, at: datetime, reference: str = "") -> Decimal:
        """Refund every returned, unrefunded unit at the price the customer paid; a
        ``reference`` applied before is a no-op that refunds nothing (a replay)."""
        if reference and reference in self.applied_references:
            return Decimal("0.00")
        self._require(S.REFUNDED)
        due = [
            (line, line.quantity_returned - line.quantity_refunded)
            for line in self.lines
            if line.quantity_returned > line.quantity_refunded
        ]
        amount = sum((line.paid_for(quantity) for line, quantity in due), Decimal("0.00"))
        for line, quantity in due:
            line.quantity_refunded += quantity
        self._remember(reference)
        self._record(
            OrderRefunded(
                **self._change_header(),
                reference=reference,
                amount=amount,
                currency=self.currency,
                lines=_line_quantities(due),
            ),
            at,
        )
        self._transition(S.REFUNDED, at=at, reason=f"refunded {amount} {self.currency}")
        return amount

    # -- internals -------------------------------------------------------------------

    def _require(self, to: OrderStatus) -> None:
        if not can_transition(self.stage, to):
            raise InvalidTransition(self.status, to)

    def _transition(self, to: OrderStatus, *, at: datetime, reason: str) -> None:
        self._require(to)
        self.updated_at = at
        if to is self.status:
            return
        entry = HistoryEntry(self.status, to, at, reason, self.step_correlation_id, self.step_actor)
        self.history.append(entry)
        self._record(
            OrderStatusChanged(
                **self._change_header(),
                from_status=self.status.value,
                to_status=to.value,
                reason=reason,
            ),
            at,
        )
        self.status = to

    def _change_header(self) -> OrderChangeHeader:
        # The location lets inventory release or restock without asking orders.
        # The key names the order's reservations (line n: "<key>:<n>", see checkout).
        return OrderChangeHeader(
            order_id=self.id,
            number=self.number,
            idempotency_key=self.idempotency_key,
            location_id=self.fulfilment.location_id,
        )

    def _record(self, change: OrderChange, at: datetime) -> None:
        self.changes.append((change, at))

    def _remember(self, reference: str) -> None:
        if reference:
            self.applied_references.append(reference)

    def _validated(self, quantities: Mapping[str, int]) -> list[tuple[OrderLine, int]]:
        if not quantities:
            raise InvalidOrderInput("Name at least one line and quantity")
        lines: list[tuple[OrderLine, int]] = []
        for line_id, quantity in quantities.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
                raise InvalidOrderInput(
                    f"Quantities must be positive whole numbers, not {quantity!r}",
                    line_id=line_id,
                )
            lines.append((self.line(line_id), quantity))
        return lines


def _check_within(
    lines: list[tuple[OrderLine, int]], at_most: Callable[[OrderLine], int], bound: str
) -> None:
    """Refuse a quantity above what the line allows; ``bound`` phrases it ("has {n} ...")."""
    for line, quantity in lines:
        allowed = at_most(line)
        if quantity > allowed:
            raise InvalidOrderInput(
                f"Line {line.id} {bound.format(n=allowed)}, not {quantity}", line_id=line.id
            )


def _line_quantities(lines: list[tuple[OrderLine, int]]) -> tuple[LineQuantity, ...]:
    return tuple(
        LineQuantity(line_id=line.id, position=line.position, sku=line.sku, quantity=quantity)
        for line, quantity in lines
    )


class AskedLine(Protocol):
    """A line as the client asked for it (a request's, a new order's or a stored one)."""

    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...


def request_fingerprint(
    *,
    channel: str,
    currency: str,
    fulfilment: Fulfilment,
    customer_reference: str,
    lines: Sequence[AskedLine],
) -> str:
    """What a checkout asked for, as a digest: the same idempotency key sent again with a
    different request is refused rather than answered with the first order. Prices are
    left out: they are pricing's answer, not the client's question."""
    return fingerprint(
        [
            channel,
            currency,
            fulfilment.type.value,
            fulfilment.location_id,
            customer_reference,
            [[line.sku, line.quantity] for line in lines],
        ]
    )


def fingerprint(request: Sequence[Any]) -> str:
    """A request as a digest, to tell a repeat of an idempotency key from a key reused
    for something else: checkout's request, or a lifecycle step's (``commands``)."""
    canonical = json.dumps(request, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
