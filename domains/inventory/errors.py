"""Inventory's errors, each with the code a client or the ERP sync acts on."""

from __future__ import annotations

from collections.abc import Sequence

from kernel.errors import DomainError


class InventoryError(DomainError):
    code = "INVENTORY_ERROR"


class InvalidInventoryInput(InventoryError):
    """The request itself is malformed (codes from the model's rule, e.g. INVALID_QUANTITY)."""

    code = "BAD_USER_INPUT"


class InsufficientStock(InventoryError):
    code = "INSUFFICIENT_STOCK"

    def __init__(
        self,
        sku: str,
        location_id: str,
        requested: int,
        available: int,
        *,
        channel: str | None = None,
    ) -> None:
        """``available``: the location's sellable units, or with ``channel`` what that
        channel may promise there (its allocation, ``availability(channel)``'s figure)."""
        where = f"available at {location_id}"
        if channel is not None:
            where = f"allocated to channel {channel} at {location_id}"
        super().__init__(
            f"only {available} of {sku} {where}, {requested} requested",
            sku=sku,
            locationId=location_id,
            requested=requested,
            available=available,
            **({} if channel is None else {"channel": channel}),
        )


class UnknownLocation(InventoryError):
    code = "UNKNOWN_LOCATION"

    def __init__(self, location_id: str) -> None:
        super().__init__(f"no location {location_id!r}", locationId=location_id)


class UnknownSku(InventoryError):
    code = "UNKNOWN_SKU"

    def __init__(self, sku: str) -> None:
        super().__init__(f"no stock is kept for SKU {sku!r}", sku=sku)


class ReservationNotFound(InventoryError):
    code = "RESERVATION_NOT_FOUND"

    def __init__(self, reference: str) -> None:
        super().__init__(f"no reservation {reference!r}", reservation=reference)


class IdempotencyKeyReused(InventoryError):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for a different reservation",
            idempotencyKey=key,
        )


class InvalidTransition(InventoryError):
    code = "INVALID_TRANSITION"


class DuplicateReservation(InventoryError):
    """A reservation already holds one of these idempotency keys: a concurrent repeat
    committed first (raised by the repository)."""

    code = "CONFLICT"

    def __init__(self, idempotency_keys: Sequence[str]) -> None:
        super().__init__(
            "a reservation with one of these idempotency keys exists",
            idempotencyKeys=list(idempotency_keys),
        )


class DuplicateMovement(InventoryError):
    """One of these (source document, line) movements was applied meanwhile: a concurrent
    replay committed first (raised by the repository)."""

    code = "CONFLICT"

    def __init__(self, lines: Sequence[tuple[str, int]]) -> None:
        super().__init__(
            "one of these movement lines was applied already",
            lines=[f"{document}#{line}" for document, line in lines],
        )
