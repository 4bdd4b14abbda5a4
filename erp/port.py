"""What RetailGraph needs from an ERP, independent of which ERP it is.

Our order number travels as the document reference so that every post can first look for
an existing document: posting is "find by reference, else create", which makes retries safe
as long as posts for one order are serialised by the caller.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class ErpError(Exception):
    """Base of everything an ERP adapter raises; `retryable` tells workers what to do."""

    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ErpUnavailable(ErpError):
    """The ERP could not be reached or failed transiently; retry with backoff."""


class ErpRateLimited(ErpUnavailable):
    """The ERP asked us to slow down; retry no sooner than `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ErpRejected(ErpError):
    """The ERP refused the document for good (unknown SKU, validation error, ...)."""

    retryable = False


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class SalesOrder:
    reference: str
    customer_ref: str
    currency: str
    lines: tuple[OrderLine, ...]
    correlation_id: str | None = None
    # Our location id of the DC that ships or the store of a pick-up; None lets the
    # adapter use its default warehouse.
    location: str | None = None


@dataclass(frozen=True)
class CancelledLine:
    """Units of one SKU a cancellation takes off a posted sale.

    ``remaining`` is what the sale keeps of the SKU once this amendment is made: an ERP
    whose sale already holds exactly that has made it (a retry), one that holds
    ``remaining + quantity`` makes it now, and any other quantity is a divergence the
    adapter refuses rather than guesses at.
    """

    sku: str
    quantity: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class Cancellation:
    """Cancels a posted sale: the whole order when ``lines`` and ``skus`` are empty,
    else exactly the units of ``lines`` (or, from postings made before quantities were
    carried, every unit of ``skus``). ``amendment`` is the cancellation's own reference
    ("<order>/C<n>"), each amendment of one sale having its own."""

    reference: str
    skus: tuple[str, ...] = ()
    correlation_id: str | None = None
    lines: tuple[CancelledLine, ...] = ()
    amendment: str = ""


@dataclass(frozen=True)
class ErpSale:
    document_id: str
    reference: str
    state: str
    lines: tuple[OrderLine, ...]
    location: str | None = None


@dataclass(frozen=True)
class StockLevel:
    sku: str
    location: str
    quantity: Decimal


# What kind of place a move's end is, in the ERP's words (Tryton's location types).
SUPPLIER = "supplier"
CUSTOMER = "customer"
LOST_FOUND = "lost_found"
STORAGE = "storage"
# Goods between two warehouses (Tryton's transit location of an internal shipment).
TRANSIT = "transit"


@dataclass(frozen=True)
class StockMove:
    move_id: str
    sku: str
    from_location: str
    to_location: str
    quantity: Decimal
    state: str
    changed_at: datetime.datetime
    # The warehouse each end lies in (its code, which is our location id), or None for
    # places outside every warehouse: suppliers, customers, lost and found, transit.
    from_warehouse: str | None = None
    to_warehouse: str | None = None
    from_kind: str = STORAGE
    to_kind: str = STORAGE
    # The ERP document that moved the goods (e.g. a customer shipment), and the reference
    # of the sale it fulfils (our order number), when there is one.
    shipment: str | None = None
    order_reference: str | None = None
    # For a move into transit: the warehouse the goods are on their way to.
    destination: str | None = None
    # The reference of the document that made the move, when it has one: a move we posted
    # ourselves (``StockMovePosting``) carries ours, so the feed can tell it from the
    # ERP's own moves.
    reference: str | None = None


@dataclass(frozen=True)
class StockMovePosting:
    """A stock change RetailGraph made (a WMS's receipt, transfer, adjustment or count)
    for the ERP to record as a done move of its own, found again by ``reference``.

    Each end is one of our locations (its id, the ERP's warehouse code) or, when the id is
    None, a place outside every warehouse of the kind given: SUPPLIER for a receipt,
    LOST_FOUND for an adjustment, CUSTOMER for a return, TRANSIT for goods between two of
    our locations (the ERP's transit location holds them until they land).
    """

    reference: str
    sku: str
    quantity: Decimal
    from_location: str | None
    to_location: str | None
    from_kind: str = STORAGE
    to_kind: str = STORAGE
    correlation_id: str | None = None


@dataclass(frozen=True)
class MovesPage:
    """Moves changed since a watermark and the next watermark (the ERP's clock, not ours)."""

    moves: tuple[StockMove, ...]
    watermark: datetime.datetime | None


@dataclass(frozen=True)
class PriceListEntry:
    price_list: str
    sku: str
    unit_price: Decimal
    currency: str
    # When the price takes effect, when the ERP dates it; None: as soon as it is imported.
    effective_from: datetime.datetime | None = None


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    list_price: Decimal
    salable: bool = True
    attributes: dict[str, str] = field(default_factory=dict)


class ErpPort(Protocol):
    async def post_sales_order(self, order: SalesOrder) -> str:
        """Creates (or finishes) the sale for `order.reference`; returns its document id."""
        ...

    async def find_sale(self, reference: str) -> ErpSale | None: ...

    async def post_cancellation(self, cancellation: Cancellation) -> str: ...

    async def post_return(self, order: SalesOrder) -> str:
        """Posts a return as a sale with negative quantities.

        `order.reference` is the return's own reference (e.g. "<order>/R1"), so it is found
        again on retry without being mistaken for the original sale.
        """
        ...

    async def post_stock_move(self, move: StockMovePosting) -> str:
        """Records ``move`` as a done stock move (found by ``move.reference`` first, so a
        retry never moves the goods twice); returns the ERP document's id."""
        ...

    async def stock_levels(
        self, skus: list[str] | None = None, locations: list[str] | None = None
    ) -> list[StockLevel]: ...

    async def stock_moves_since(
        self, watermark: datetime.datetime | None, overlap: datetime.timedelta = ...
    ) -> MovesPage: ...

    async def shipment_moves(self, shipment: str) -> list[StockMove]:
        """The moves of one ERP shipment (``StockMove.shipment``), to look at it again."""
        ...

    async def price_lists(self) -> list[PriceListEntry]: ...

    async def items(self) -> list[Item]: ...

    async def close(self) -> None: ...


DEFAULT_OVERLAP = datetime.timedelta(seconds=5)


def as_return(order: SalesOrder) -> SalesOrder:
    """The sale that represents the return `order`: same lines, negative quantities."""
    return SalesOrder(
        reference=order.reference,
        customer_ref=order.customer_ref,
        currency=order.currency,
        lines=tuple(
            OrderLine(line.sku, -abs(line.quantity), line.unit_price) for line in order.lines
        ),
        correlation_id=order.correlation_id,
        location=order.location,
    )


def dedupe_moves(moves: list[StockMove], seen: set[str]) -> list[StockMove]:
    """Drops moves already handed out (the overlap window re-reads some on purpose).

    The key is the move id plus its change time, so a move that changes again (draft to
    done) is handed out again.
    """
    fresh = []
    for move in moves:
        key = move_key(move)
        if key not in seen:
            seen.add(key)
            fresh.append(move)
    return fresh


def move_key(move: StockMove) -> str:
    """What identifies one version of a move: its id and when it last changed."""
    return f"{move.move_id}@{move.changed_at.astimezone(datetime.UTC).isoformat()}"
