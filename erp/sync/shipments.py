"""Customer shipments done in the ERP advance our orders (partially shipped, shipped).

A shipment is found through its moves: done, to a customer, from a sale whose reference
is our order number. Its quantities per SKU are spread over the order's lines of that
SKU and confirmed with the shipment as the reference, so a re-read is a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domains.orders import commands
from domains.orders import service as orders
from domains.orders.bootstrap import OrdersDomain
from domains.orders.errors import OrdersError
from domains.orders.model import Order, OrderStatus
from erp.port import CUSTOMER, StockMove
from erp.sync.moves import DONE
from kernel.actors import ERP_SYNC

CONFIRMED = "confirmed"
REPLAYED = "replayed"
NOT_OURS = "not-ours"
REFUSED = "refused"
# Refused for now: the order is not released to fulfilment yet (INVALID_TRANSITION).
# The poller parks the shipment and tries it again on each poll.
PARKED = "parked"
_BEFORE_RELEASE = frozenset(
    {
        OrderStatus.PENDING,
        OrderStatus.CONFIRMED,
        OrderStatus.FRAUD_HOLD,
        OrderStatus.PAYMENT_AUTHORIZED,
    }
)


@dataclass(frozen=True, slots=True)
class ShipmentOutcome:
    shipment: str
    order_number: str
    quantities: Mapping[str, int]
    outcome: str
    status: str | None = None
    error: str | None = None

    @property
    def parking_key(self) -> str:
        return f"{self.order_number}|{self.shipment}"


def shipment_reference(shipment: str) -> str:
    return f"erp:{shipment}"


def shipped_quantities(
    moves: Sequence[StockMove], reference_prefix: str = ""
) -> dict[tuple[str, str], dict[str, int]]:
    """Per (order number, shipment), the units per SKU its done customer moves carried.

    ``reference_prefix`` is what the ERP worker puts before our order numbers (several
    installations sharing one ERP): sales without it belong to another installation.
    """
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for move in moves:
        if (
            move.state == DONE
            and move.to_kind == CUSTOMER
            and move.order_reference
            and move.order_reference.startswith(reference_prefix)
            and move.shipment
            and move.quantity > 0
        ):
            number = move.order_reference.removeprefix(reference_prefix)
            found[(number, move.shipment)][move.sku] += int(move.quantity)
    return {key: dict(skus) for key, skus in found.items()}


async def confirm_shipments(
    domain: OrdersDomain, moves: Sequence[StockMove], reference_prefix: str = ""
) -> list[ShipmentOutcome]:
    outcomes = []
    for (number, shipment), skus in sorted(shipped_quantities(moves, reference_prefix).items()):
        outcomes.append(await confirm_shipment(domain, number, shipment, skus))
    return outcomes


async def confirm_shipment(
    domain: OrdersDomain, number: str, shipment: str, skus: Mapping[str, int]
) -> ShipmentOutcome:
    order = await orders.get_order_by_number(domain.uow(), number)
    if order is None:
        return ShipmentOutcome(shipment, number, skus, NOT_OURS)
    reference = shipment_reference(shipment)
    if reference in order.applied_references:
        return ShipmentOutcome(shipment, number, skus, REPLAYED, order.status.value)
    try:
        lines = _line_quantities(order, skus)
        shipped = await orders.change_order(
            domain.uow(),
            order.id,
            commands.ConfirmShipment(lines, reference=reference),
            actor=ERP_SYNC,
        )
    except OrdersError as error:
        waiting = error.code == "INVALID_TRANSITION" and order.stage in _BEFORE_RELEASE
        outcome = PARKED if waiting else REFUSED
        return ShipmentOutcome(shipment, number, skus, outcome, order.status.value, error.message)
    return ShipmentOutcome(shipment, number, skus, CONFIRMED, shipped.status.value)


def _line_quantities(order: Order, skus: Mapping[str, int]) -> dict[str, int]:
    """Units per line id: each SKU's units fill its open lines in order."""
    quantities: dict[str, int] = {}
    for sku, units in skus.items():
        left = units
        for line in order.lines:
            if line.sku == sku and left > 0 and line.unshipped_quantity > 0:
                take = min(left, line.unshipped_quantity)
                quantities[line.id] = take
                left -= take
        if left:
            # More than the order has left to ship: let the model refuse it with its reason.
            first = next((line for line in order.lines if line.sku == sku), None)
            if first is None:
                raise OrdersError(f"Order {order.number} has no line for {sku}")
            quantities[first.id] = quantities.get(first.id, 0) + left
    return quantities
