"""The order statuses and the table of allowed transitions, as data (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    PAYMENT_AUTHORIZED = "PAYMENT_AUTHORIZED"
    FRAUD_HOLD = "FRAUD_HOLD"
    RELEASED_TO_FULFILMENT = "RELEASED_TO_FULFILMENT"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    PARTIALLY_CANCELLED = "PARTIALLY_CANCELLED"
    CANCELLED = "CANCELLED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURNED = "RETURNED"
    REFUNDED = "REFUNDED"


S = OrderStatus

# Where each status may go next. A status listed in its own row is a step that keeps
# the status (a further shipment, a further return request).
TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.PARTIALLY_CANCELLED, S.CANCELLED}),
    S.CONFIRMED: frozenset(
        {S.PAYMENT_AUTHORIZED, S.FRAUD_HOLD, S.PARTIALLY_CANCELLED, S.CANCELLED}
    ),
    # A hold ends one of two ways: released (payment authorized) or cancelled.
    S.FRAUD_HOLD: frozenset({S.PAYMENT_AUTHORIZED, S.CANCELLED}),
    S.PAYMENT_AUTHORIZED: frozenset({S.RELEASED_TO_FULFILMENT, S.PARTIALLY_CANCELLED, S.CANCELLED}),
    S.RELEASED_TO_FULFILMENT: frozenset(
        {S.PARTIALLY_SHIPPED, S.SHIPPED, S.PARTIALLY_CANCELLED, S.CANCELLED}
    ),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    S.RETURN_REQUESTED: frozenset({S.RETURN_REQUESTED, S.RETURNED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    # What is left after a refund may still be returned.
    S.REFUNDED: frozenset({S.RETURN_REQUESTED}),
    S.CANCELLED: frozenset(),
    # Resumes: its row is the row of the stage it interrupted (see Order.stage).
    S.PARTIALLY_CANCELLED: frozenset(),
}

# Statuses that interrupt a stage instead of ending it: a partially cancelled order
# continues from where it was (payment, fulfilment) with fewer units.
RESUMING = frozenset({S.PARTIALLY_CANCELLED})


def can_transition(stage: OrderStatus, to: OrderStatus) -> bool:
    return to in TRANSITIONS[stage]
