"""How an ERP stock move becomes inventory movements.

Only what crosses the boundary of one of our locations changes our stock: a pick from a
DC's storage to its output zone stays inside the DC's warehouse and changes nothing; the
move from the output zone to the customer is the shipment. Our location ids are the
ERP's warehouse codes.

A return of one of our orders is ours to apply: inventory takes the units back when the
order's return is received (``domains/inventory/handlers.py``), before the ERP hears of
it. The ERP's move of that return, from the customer into the location, is skipped here
so the units are not counted twice.

Likewise a movement a WMS sent us reached our stock first, and the ERP posting worker then
made the ERP's move for it under our reference (``domains/inventory/erp_postings.py``):
that move is skipped too, so the feed never brings our own movement back as a new one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from domains.inventory.erp_postings import REFERENCE_PREFIX
from domains.inventory.model import Movement, MovementType
from erp.port import CUSTOMER, LOST_FOUND, TRANSIT, StockMove

DONE = "done"
# The reference of a return document of ours: "<order number>/R<n>"
# (``domains/orders/erp_postings.py``), after the installation's reference prefix.
_OUR_RETURN = re.compile(r"RG-\d+/R\d+")
# The reference of a stock move we posted for a movement of ours: "MV-<20 hex>/<n>".
_OUR_MOVEMENT = re.compile(re.escape(REFERENCE_PREFIX) + r"[0-9a-f]{20}/\d+")


@dataclass(frozen=True, slots=True)
class Skipped:
    move: StockMove
    reason: str


def source_document(move: StockMove) -> str:
    """The idempotency key of a move's movements: the ERP move id."""
    return f"erp-move:{move.move_id}"


def is_our_return(move: StockMove, reference_prefix: str = "") -> bool:
    """Whether ``move`` brings back units of a return our orders recorded."""
    reference = move.order_reference or ""
    return (
        move.from_kind == CUSTOMER
        and reference.startswith(reference_prefix)
        and _OUR_RETURN.fullmatch(reference.removeprefix(reference_prefix)) is not None
    )


def is_our_movement(move: StockMove, reference_prefix: str = "") -> bool:
    """Whether ``move`` is the ERP's record of a movement we applied first (a WMS's)."""
    reference = move.reference or ""
    return reference.startswith(reference_prefix) and (
        _OUR_MOVEMENT.fullmatch(reference.removeprefix(reference_prefix)) is not None
    )


def movements_for(
    move: StockMove, ours: Collection[str], reference_prefix: str = ""
) -> list[Movement] | Skipped:
    """The movements ``move`` stands for, or why it changes none of our stock.
    ``reference_prefix`` is what the ERP worker puts before our order numbers."""
    if move.state != DONE:
        return Skipped(move, f"the move is {move.state}, not done")
    if is_our_return(move, reference_prefix):
        return Skipped(move, "a return of our order: inventory took it back when received")
    if is_our_movement(move, reference_prefix):
        return Skipped(move, "a movement of ours: applied when the WMS sent it")
    quantity = _whole(move.quantity)
    if quantity is None or not move.sku:
        return Skipped(move, "the move has no SKU or a fractional quantity")
    source = move.from_warehouse if move.from_warehouse in ours else None
    target = move.to_warehouse if move.to_warehouse in ours else None
    if source == target:
        return Skipped(move, "the move stays inside one location or outside all of ours")
    document = source_document(move)
    heading = move.destination if move.destination in ours else None

    def movement(kind: MovementType, location: str, qty: int, line: int = 0) -> Movement:
        to = (target or heading) if kind is MovementType.TRANSFER else None
        return Movement(kind, move.sku, location, qty, document, line, to_location_id=to)

    if source is not None and move.to_kind == TRANSIT and heading not in (None, source):
        # Leaves for another of our locations, where it is incoming until it lands.
        return [movement(MovementType.TRANSFER, source, quantity)]
    if source is not None and target is not None:
        # In transit from the source, then landed at the target.
        return [
            movement(MovementType.TRANSFER, source, quantity),
            movement(MovementType.RECEIPT, target, quantity, line=1),
        ]
    if target is not None:
        if move.from_kind == CUSTOMER:
            return [movement(MovementType.RETURN, target, quantity)]
        if move.from_kind == LOST_FOUND:
            return [movement(MovementType.ADJUSTMENT, target, quantity)]
        return [movement(MovementType.RECEIPT, target, quantity)]
    assert source is not None
    if move.to_kind == CUSTOMER:
        # A shipment: it fulfils what the order holds (committed) before on hand drops.
        return [movement(MovementType.PICK, source, quantity)]
    return [movement(MovementType.ADJUSTMENT, source, -quantity)]


def _whole(quantity: Decimal) -> int | None:
    if quantity <= 0 or quantity != quantity.to_integral_value():
        return None
    return int(quantity)
