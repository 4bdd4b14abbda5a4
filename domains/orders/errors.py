"""What can go wrong with an order, each with the code a client can act on."""

from __future__ import annotations

from kernel.errors import DomainError


class OrdersError(DomainError):
    code = "ORDERS_ERROR"


class OrderNotFound(OrdersError):
    code = "NOT_FOUND"

    def __init__(self, order_id: str) -> None:
        super().__init__(f"No order has the id {order_id!r}", order_id=order_id)


class InvalidTransition(OrdersError):
    """The order's status does not allow the step; ``from``/``to`` name the two statuses."""

    code = "INVALID_TRANSITION"

    def __init__(self, from_status: str, to_status: str, reason: str = "") -> None:
        message = f"An order cannot go from {from_status} to {to_status}"
        if reason:
            message = f"{message}: {reason}"
        super().__init__(message, **{"from": from_status, "to": to_status})
        self.from_status = from_status
        self.to_status = to_status


class InvalidOrderInput(OrdersError):
    """The request itself is malformed: bad quantities, unknown lines, bad filters."""

    code = "BAD_USER_INPUT"


class DuplicateOrder(OrdersError):
    """Another order already holds the idempotency key (raised by the repository)."""

    code = "CONFLICT"

    def __init__(self, idempotency_key: str) -> None:
        super().__init__(
            f"An order with idempotency key {idempotency_key!r} exists",
            idempotency_key=idempotency_key,
        )


class IdempotencyKeyReused(OrdersError):
    """The idempotency key already placed an order, or made a lifecycle step, that asked
    for something else."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, idempotency_key: str, *, step: bool = False) -> None:
        message = (
            "This idempotency key already made a step with a different request (another "
            "step, order or arguments); send the same request to get its answer, or use "
            "a new key"
            if step
            else "This idempotency key already placed an order with a different request; "
            "send the same request to get that order, or use a new key"
        )
        super().__init__(message, idempotency_key=idempotency_key)


class UnknownLocation(OrdersError):
    """A return names a location inventory does not know, so no stock could take it."""

    code = "UNKNOWN_LOCATION"

    def __init__(self, location_id: str) -> None:
        super().__init__(f"No location has the id {location_id!r}", location_id=location_id)


class StepKeyTaken(OrdersError):
    """Another order's step holds the idempotency key (raised by the repository)."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, idempotency_key: str) -> None:
        super().__init__(
            f"A step with idempotency key {idempotency_key!r} exists",
            idempotency_key=idempotency_key,
        )
