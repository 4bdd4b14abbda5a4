"""The inventory reconciliation: the ERP's quantities against our on hand, per SKU and
location, with the likely cause of each difference (``DivergenceCause``), and an
explicit repair of the unexplained ones.

A reconciliation of every SKU at every location is stored (inventory's
``record_reconciliation``): the divergence KPIs, the console and
``Query.inventoryReconciliations`` read the newest. One narrowed to some SKUs or
locations is reported only, so it never stands in for the whole picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import ledger
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import (
    MAX_BATCH,
    Divergence,
    DivergenceCause,
    Movement,
    MovementOrigin,
    MovementType,
    Reconciliation,
    divergence_cause,
)
from domains.inventory.service import apply_stock_movements, record_reconciliation
from erp.port import ErpPort, dedupe_moves
from erp.posting.queue import unposted_returns
from erp.sync.moves import Skipped, movements_for
from erp.sync.stock import FEED, StockPoller

Pair = tuple[str, str]

REPAIR_FEED = "reconciliation-repairs"  # the import-rejects KPI's feed label


def divergence_json(divergence: Divergence) -> dict[str, object]:
    return {
        "sku": divergence.sku,
        "locationId": divergence.location_id,
        "erp": divergence.erp,
        "ours": divergence.ours,
        "difference": divergence.difference,
        "pendingMovements": divergence.pending,
        "heldByOrders": divergence.held,
        "cause": divergence.cause.value,
        "repaired": divergence.repaired,
    }


@dataclass
class ReconcileReport:
    compared: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    repaired: list[Movement] = field(default_factory=list)
    not_repaired: list[tuple[Divergence, str]] = field(default_factory=list)
    stored: Reconciliation | None = None

    @property
    def divergent_units(self) -> int:
        """The operators' KPI: units by which the ERP and we disagree, all pairs summed."""
        return sum(abs(d.difference) for d in self.divergences)

    def as_json(self) -> dict[str, object]:
        return {
            "id": None if self.stored is None else self.stored.id,
            "compared": self.compared,
            "divergentPairs": len(self.divergences),
            "divergentUnits": self.divergent_units,
            "divergences": [divergence_json(d) for d in self.divergences],
            "repaired": [
                {
                    "sku": m.sku,
                    "locationId": m.location_id,
                    "adjustment": m.quantity,
                    "sourceDocumentId": m.source_document_id,
                }
                for m in self.repaired
            ],
            "notRepaired": [
                {**divergence_json(d), "reason": reason} for d, reason in self.not_repaired
            ],
        }


async def reconcile_inventory(
    erp: ErpPort,
    inventory: InventoryDomain,
    *,
    repair: bool = False,
    skus: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
    orders: AsyncEngine | None = None,
    reference_prefix: str = "",
) -> ReconcileReport:
    """Compare every SKU at every location of ours, or only ``skus`` / ``locations``;
    the whole comparison is stored. ``orders`` (the orders database, where the ERP
    posting queue of orders is) lets returns not yet posted explain what they brought
    back; ``reference_prefix`` is the one the ERP worker puts before our references."""
    known = await ledger.all_location_ids(inventory.uow())
    places = [loc for loc in known if locations is None or loc in locations]
    sources = _Sources(erp, inventory, set(known), orders, reference_prefix)
    report = ReconcileReport()
    report.compared, report.divergences = await sources.compare(
        places, None if skus is None else list(skus)
    )
    # The two sides are read one after the other, while documents may be posted and moves
    # made: a difference caught in between is read again, and only one that is still
    # unexplained then is reported as such.
    unsure = sorted({d.sku for d in report.divergences if d.cause == DivergenceCause.UNEXPLAINED})
    for start in range(0, len(unsure), MAX_BATCH):
        batch = unsure[start : start + MAX_BATCH]
        _, again = await sources.compare(places, batch)
        kept = [d for d in report.divergences if d.sku not in set(batch)]
        report.divergences = sorted([*kept, *again], key=lambda d: (d.sku, d.location_id))
    if repair:
        await _repair(inventory, report)
    if skus is None and locations is None:
        report.stored = await record_reconciliation(
            inventory.uow(), report.compared, report.divergences
        )
    return report


@dataclass(frozen=True)
class _Sources:
    """What a comparison reads: our stock, the ERP's, and what is on its way between."""

    erp: ErpPort
    inventory: InventoryDomain
    known: set[str]
    orders: AsyncEngine | None
    reference_prefix: str

    async def compare(
        self, places: list[str], wanted: list[str] | None
    ) -> tuple[int, list[Divergence]]:
        """The pairs compared and those that differ, with their likely causes."""
        erp, inventory = self.erp, self.inventory
        ours = {
            (lv.sku, lv.location_id): lv
            for lv in await ledger.stock_at(inventory.uow(), places, skus=wanted)
        }
        theirs = {
            (level.sku, level.location): level.quantity
            for level in await erp.stock_levels(skus=wanted, locations=places)
            if level.location in places and (wanted is None or level.sku in wanted)
        }
        pending = await _pending(erp, inventory, self.known, self.reference_prefix)
        # What we hold and the ERP has not heard of yet: our own postings on their way.
        owed = await ledger.owed_to_erp(inventory.uow())
        if self.orders is not None:
            for pair, units in (await unposted_returns(self.orders)).items():
                owed[pair] = owed.get(pair, 0) + units
        for pair, units in owed.items():
            pending[pair] = pending.get(pair, 0) - units
        compared = 0
        divergences = []
        for pair in sorted(ours.keys() | theirs.keys()):
            compared += 1
            level = ours.get(pair)
            our_qty = level.on_hand if level else 0
            erp_qty = theirs.get(pair, Decimal(0))
            if erp_qty == our_qty:
                continue
            held = (level.reserved + level.committed) if level else 0
            waiting = pending.get(pair, 0)
            cause = divergence_cause(int(erp_qty - our_qty), waiting, held)
            divergences.append(
                Divergence(pair[0], pair[1], int(erp_qty), our_qty, waiting, held, cause)
            )
        return compared, divergences


async def _pending(
    erp: ErpPort, inventory: InventoryDomain, ours: set[str], reference_prefix: str
) -> dict[Pair, int]:
    """The on-hand change per pair of the done ERP moves the poller has not applied yet."""
    poller = StockPoller(erp, inventory, feed=FEED)
    position = await poller.position()
    if position.watermark is None:
        return {}
    page = await erp.stock_moves_since(position.watermark, poller.overlap)
    delta: dict[Pair, int] = defaultdict(int)
    for move in dedupe_moves(list(page.moves), set(position.seen)):
        mapped = movements_for(move, ours, reference_prefix)
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
        if divergence.cause != DivergenceCause.UNEXPLAINED:
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
        applied = await apply_stock_movements(
            inventory.uow(),
            movements[start : start + MAX_BATCH],
            feed=REPAIR_FEED,
            # A repair takes the ERP's figure: the ERP has nothing to hear of it.
            origin=MovementOrigin.ERP,
        )
        report.repaired.extend(applied.applied)
        for rejection in applied.rejected:
            found = next(d for d, m in adjustments if m is rejection.movement)
            report.not_repaired.append((found, f"{rejection.code}: {rejection.message}"))
    repaired = {(m.sku, m.location_id) for m in report.repaired}
    report.divergences = [
        replace(d, repaired=True) if (d.sku, d.location_id) in repaired else d
        for d in report.divergences
    ]


def summary_rows(report: ReconcileReport) -> Sequence[Sequence[object]]:
    return [
        (d.sku, d.location_id, d.erp, d.ours, f"{d.difference:+d}", d.cause.value)
        for d in report.divergences
    ]
