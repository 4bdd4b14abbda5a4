"""The inventory reconciliation: the ERP's quantities against our on hand, per SKU and
location, with the likely cause of each difference, and an explicit repair.

Causes, checked in this order:
- ``pending-movement``: done ERP moves the stock poller has not applied yet account for
  the whole difference; the next poll settles it, so repair leaves it alone.
- ``unposted-order``: units our orders hold there (reserved or committed) cover the
  difference, so an order has likely reached one side and not yet the other.
- ``unexplained``: anything else; this is what ``--repair`` adjusts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from domains.inventory import ledger
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import MAX_BATCH, Movement, MovementType
from domains.inventory.service import apply_stock_movements
from erp.port import ErpPort, dedupe_moves
from erp.sync.moves import Skipped, movements_for
from erp.sync.stock import FEED, StockPoller

PENDING_MOVEMENT = "pending-movement"
UNPOSTED_ORDER = "unposted-order"
UNEXPLAINED = "unexplained"

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Divergence:
    sku: str
    location_id: str
    erp: int
    ours: int
    pending: int
    held: int
    cause: str

    @property
    def difference(self) -> int:
        """How far we are from the ERP: positive when the ERP has more."""
        return self.erp - self.ours

    def as_json(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "locationId": self.location_id,
            "erp": self.erp,
            "ours": self.ours,
            "difference": self.difference,
            "pendingMovements": self.pending,
            "heldByOrders": self.held,
            "cause": self.cause,
        }


@dataclass
class ReconcileReport:
    compared: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    repaired: list[Movement] = field(default_factory=list)
    not_repaired: list[tuple[Divergence, str]] = field(default_factory=list)

    @property
    def divergent_units(self) -> int:
        """The operators' KPI: units by which the ERP and we disagree, all pairs summed."""
        return sum(abs(d.difference) for d in self.divergences)

    def as_json(self) -> dict[str, object]:
        return {
            "compared": self.compared,
            "divergentPairs": len(self.divergences),
            "divergentUnits": self.divergent_units,
            "divergences": [d.as_json() for d in self.divergences],
            "repaired": [
                {
                    "sku": m.sku,
                    "locationId": m.location_id,
                    "adjustment": m.quantity,
                    "sourceDocumentId": m.source_document_id,
                }
                for m in self.repaired
            ],
            "notRepaired": [{**d.as_json(), "reason": reason} for d, reason in self.not_repaired],
        }


async def reconcile_inventory(
    erp: ErpPort,
    inventory: InventoryDomain,
    *,
    repair: bool = False,
    skus: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
) -> ReconcileReport:
    """Compare every SKU at every location of ours, or only ``skus`` / ``locations``."""
    known = await ledger.all_location_ids(inventory.uow())
    places = [loc for loc in known if locations is None or loc in locations]
    wanted = None if skus is None else list(skus)
    ours = {
        (lv.sku, lv.location_id): lv
        for lv in await ledger.stock_at(inventory.uow(), places, skus=wanted)
    }
    theirs = {
        (level.sku, level.location): level.quantity
        for level in await erp.stock_levels(skus=wanted, locations=places)
        if level.location in places and (wanted is None or level.sku in wanted)
    }
    pending = await _pending(erp, inventory, set(known))
    report = ReconcileReport()
    for pair in sorted(ours.keys() | theirs.keys()):
        report.compared += 1
        level = ours.get(pair)
        our_qty = level.on_hand if level else 0
        erp_qty = theirs.get(pair, Decimal(0))
        if erp_qty == our_qty:
            continue
        held = (level.reserved + level.committed) if level else 0
        waiting = pending.get(pair, 0)
        difference = erp_qty - our_qty
        if waiting and waiting == difference:
            cause = PENDING_MOVEMENT
        elif abs(difference) <= held:
            cause = UNPOSTED_ORDER
        else:
            cause = UNEXPLAINED
        report.divergences.append(
            Divergence(pair[0], pair[1], int(erp_qty), our_qty, waiting, held, cause)
        )
    if repair:
        await _repair(inventory, report)
    return report


async def _pending(erp: ErpPort, inventory: InventoryDomain, ours: set[str]) -> dict[Pair, int]:
    """The on-hand change per pair of the done ERP moves the poller has not applied yet."""
    poller = StockPoller(erp, inventory, feed=FEED)
    position = await poller.position()
    if position.watermark is None:
        return {}
    page = await erp.stock_moves_since(position.watermark, poller.overlap)
    delta: dict[Pair, int] = defaultdict(int)
    for move in dedupe_moves(list(page.moves), set(position.seen)):
        mapped = movements_for(move, ours)
        if isinstance(mapped, Skipped):
            continue
        for movement in mapped:
            delta[(movement.sku, movement.location_id)] += _on_hand_change(movement)
    return dict(delta)


def _on_hand_change(movement: Movement) -> int:
    if movement.type in (MovementType.PICK, MovementType.TRANSFER):
        return -movement.quantity
    return movement.quantity


async def _repair(inventory: InventoryDomain, report: ReconcileReport) -> None:
    """Adjust our on hand to the ERP's for the unexplained divergences, once per day and
    divergence (the key names both, so rerunning the repair applies nothing twice)."""
    day = inventory.clock.now().date().isoformat()
    adjustments: list[tuple[Divergence, Movement]] = []
    for divergence in report.divergences:
        if divergence.cause != UNEXPLAINED:
            report.not_repaired.append((divergence, f"{divergence.cause}: settles on its own"))
        elif divergence.erp < 0:
            report.not_repaired.append((divergence, "the ERP holds a negative quantity"))
        else:
            document = (
                f"reconcile:{day}:{divergence.sku}@{divergence.location_id}:"
                f"{divergence.ours}->{divergence.erp}"
            )
            adjustments.append(
                (
                    divergence,
                    Movement(
                        MovementType.ADJUSTMENT,
                        divergence.sku,
                        divergence.location_id,
                        divergence.difference,
                        document,
                        0,
                    ),
                )
            )
    movements = [movement for _, movement in adjustments]
    for start in range(0, len(movements), MAX_BATCH):
        applied = await apply_stock_movements(inventory.uow(), movements[start : start + MAX_BATCH])
        report.repaired.extend(applied.applied)
        for rejection in applied.rejected:
            found = next(d for d, m in adjustments if m is rejection.movement)
            report.not_repaired.append((found, f"{rejection.code}: {rejection.message}"))


def summary_rows(report: ReconcileReport) -> Sequence[Sequence[object]]:
    return [
        (d.sku, d.location_id, d.erp, d.ours, f"{d.difference:+d}", d.cause)
        for d in report.divergences
    ]
