"""Stock moves from the ERP by micro-batch polling (``retailgraph worker stock``).

Each poll reads the moves changed since the stored watermark minus an overlap window
(the ERP's clock, never ours), drops the ones already handed out (move id + change time,
remembered durably with the watermark), turns the done ones into inventory movements
keyed by the ERP move id, and hands customer shipments of our orders to the orders
domain. The watermark moves only after both have been applied, and both are idempotent,
so a poller that dies anywhere in between re-reads and changes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from domains.inventory import feeds, ledger
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import MAX_BATCH, Movement, MovementOrigin
from domains.inventory.service import Rejection, apply_stock_movements
from domains.orders.bootstrap import OrdersDomain
from erp.port import DEFAULT_OVERLAP, ErpPort, StockMove, dedupe_moves, move_key
from erp.sync.moves import Skipped, movements_for
from erp.sync.shipments import (
    PARKED,
    REFUSED,
    ShipmentOutcome,
    confirm_shipment,
    confirm_shipments,
    shipped_quantities,
)

log = logging.getLogger(__name__)

FEED = "erp-stock-moves"
# Customer shipments whose order could not take them yet, keyed "<order>|<shipment>".
PARKED_SHIPMENTS = "erp-parked-shipments"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass
class PollReport:
    read: int = 0
    fresh: int = 0
    applied: list[Movement] = field(default_factory=list)
    duplicates: list[Movement] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    shipments: list[ShipmentOutcome] = field(default_factory=list)
    watermark: datetime.datetime | None = None
    # The first poll of a feed only takes the ERP's current position: the stock it
    # starts from came in as a snapshot (demo load, reconciliation), not as moves.
    baseline: bool = False


class StockPoller:
    def __init__(
        self,
        erp: ErpPort,
        inventory: InventoryDomain,
        orders: OrdersDomain | None = None,
        *,
        overlap: datetime.timedelta = DEFAULT_OVERLAP,
        feed: str = FEED,
        reference_prefix: str = "",
    ) -> None:
        self.erp = erp
        self.reference_prefix = reference_prefix
        self.inventory = inventory
        self.orders = orders
        self.overlap = overlap
        self.feed = feed

    async def position(self) -> feeds.FeedPosition:
        return await feeds.feed_position(self.inventory.uow(), self.feed)

    async def poll_once(self) -> PollReport:
        position = await self.position()
        if position.watermark is None:
            return await self._baseline()
        page = await self.erp.stock_moves_since(position.watermark, self.overlap)
        report = PollReport(read=len(page.moves), watermark=page.watermark)
        # In the order they happened: a transfer leaves before it lands.
        fresh = sorted(
            dedupe_moves(list(page.moves), set(position.seen)), key=lambda m: m.changed_at
        )
        report.fresh = len(fresh)
        await self._apply(fresh, report)
        if self.orders is not None:
            report.shipments = await self._shipments(self.orders, fresh)
        forget = None if page.watermark is None else page.watermark - self.overlap
        await feeds.advance_feed(
            self.inventory.uow(),
            self.feed,
            watermark=page.watermark,
            entries={move_key(move): move.changed_at for move in fresh},
            forget_before=forget,
        )
        return report

    async def _shipments(
        self, orders: OrdersDomain, fresh: Sequence[StockMove]
    ) -> list[ShipmentOutcome]:
        """Parked shipments whose order has moved on, then the new ones; a shipment whose
        order cannot take it yet is parked (durably) rather than lost."""
        outcomes = await self._retry_parked(orders)
        new = await confirm_shipments(orders, fresh, self.reference_prefix)
        parked = {o.parking_key: o for o in new if o.outcome == PARKED}
        if parked:
            now = self.inventory.clock.now()
            await feeds.advance_feed(
                self.inventory.uow(),
                PARKED_SHIPMENTS,
                watermark=None,
                entries=dict.fromkeys(parked, now),
            )
        for outcome in new:
            if outcome.outcome in (PARKED, REFUSED):
                log.warning(
                    "ERP shipment %s of order %s %s (order %s): %s",
                    outcome.shipment,
                    outcome.order_number,
                    "parked until the order can ship"
                    if outcome.outcome == PARKED
                    else "not confirmed",
                    outcome.status,
                    outcome.error,
                )
        return outcomes + new

    async def _retry_parked(self, orders: OrdersDomain) -> list[ShipmentOutcome]:
        parked = await feeds.feed_position(self.inventory.uow(), PARKED_SHIPMENTS)
        outcomes: list[ShipmentOutcome] = []
        settled: list[str] = []
        for key in sorted(parked.seen):
            number, _, shipment = key.partition("|")
            moves = await self.erp.shipment_moves(shipment)
            quantities = shipped_quantities(moves, self.reference_prefix).get((number, shipment))
            outcome = (
                None
                if not quantities
                else await confirm_shipment(orders, number, shipment, quantities)
            )
            if outcome is None or outcome.outcome != PARKED:
                settled.append(key)
            if outcome is not None and outcome.outcome != PARKED:
                outcomes.append(outcome)
        if settled:
            await feeds.forget_entries(self.inventory.uow(), PARKED_SHIPMENTS, settled)
        return outcomes

    async def start_at_erp_position(self) -> bool:
        """Take the ERP's current position as the feed's start, unless it has one: for a
        stock snapshot loaded into our side and the ERP alike (the demo retailer), so that
        what the ERP does from then on reaches us as moves. True when it started here."""
        if (await self.position()).watermark is not None:
            return False
        await self._baseline()
        return True

    async def _baseline(self) -> PollReport:
        page = await self.erp.stock_moves_since(None, self.overlap)
        report = PollReport(read=len(page.moves), watermark=page.watermark, baseline=True)
        window = None if page.watermark is None else page.watermark - self.overlap
        recent = [m for m in page.moves if window is None or m.changed_at >= window]
        await feeds.advance_feed(
            self.inventory.uow(),
            self.feed,
            # An ERP without moves yet starts from the first one it will have.
            watermark=page.watermark or EPOCH,
            entries={move_key(move): move.changed_at for move in recent},
            forget_before=window,
        )
        return report

    async def _apply(self, moves: Sequence[StockMove], report: PollReport) -> None:
        ours = await ledger.known_locations(
            self.inventory.uow(),
            {w for m in moves for w in (m.from_warehouse, m.to_warehouse) if w},
        )
        movements: list[Movement] = []
        for move in moves:
            mapped = movements_for(move, ours, self.reference_prefix)
            if isinstance(mapped, Skipped):
                report.skipped.append(mapped)
            else:
                movements.extend(mapped)
        for start in range(0, len(movements), MAX_BATCH):
            applied = await apply_stock_movements(
                self.inventory.uow(),
                movements[start : start + MAX_BATCH],
                feed=self.feed,
                origin=MovementOrigin.ERP,  # the ERP's own moves: never echoed back
            )
            report.applied.extend(applied.applied)
            report.duplicates.extend(applied.duplicates)
            report.rejected.extend(applied.rejected)
        for rejection in report.rejected:
            log.warning(
                "ERP move %s not applied (%s): %s",
                rejection.movement.source_document_id,
                rejection.code,
                rejection.message,
            )

    async def run(self, *, every: float = 5.0, stop: asyncio.Event | None = None) -> None:
        """Poll until ``stop`` is set; a failed poll is logged and retried next time."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                report = await self.poll_once()
                if report.fresh or report.baseline:
                    log.info(
                        "stock poll: %d moves read, %d new, %d movements applied, %d shipments",
                        report.read,
                        report.fresh,
                        len(report.applied),
                        len(report.shipments),
                    )
            except Exception:
                log.exception("stock poll failed; retrying in %.1fs", every)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
