"""An ERP that lives in the process: the embedded default and the stage for fault tests.

Faults are drawn from a seeded random generator so a failing test replays exactly. An
outage or an injected error happens before any state changes, like a request that never
reached the ERP; `fail_after_create` models the nastier case of a post that did reach it.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from erp.port import (
    CUSTOMER,
    DEFAULT_OVERLAP,
    LOST_FOUND,
    STORAGE,
    SUPPLIER,
    TRANSIT,
    Cancellation,
    CancelledLine,
    ErpRateLimited,
    ErpRejected,
    ErpSale,
    ErpUnavailable,
    Item,
    MovesPage,
    OrderLine,
    PriceListEntry,
    SalesOrder,
    StockLevel,
    StockMove,
    StockMovePosting,
    as_return,
)
from kernel.clock import Clock, SystemClock

CUSTOMER_LOCATION = "CUSTOMER"
SUPPLIER_LOCATION = "SUPPLIER"
LOST_LOCATION = "LOST"
TRANSIT_LOCATION = "TRANSIT"
# Every other location the simulator meets is a warehouse coded by our location id.
_OUTSIDE = {
    CUSTOMER_LOCATION: CUSTOMER,
    SUPPLIER_LOCATION: SUPPLIER,
    LOST_LOCATION: LOST_FOUND,
    TRANSIT_LOCATION: TRANSIT,
}
_PLACE_OF_KIND = {kind: place for place, kind in _OUTSIDE.items()}


@dataclass
class SimulatorState:
    """Everything the simulator knows, so it can live somewhere other than this process
    (``erp.simulator_store`` keeps it in the embedded data folder). Document ids and move
    ids count up from ``next_sale_id`` and ``next_move_id``."""

    items: dict[str, Item] = field(default_factory=dict)
    stock: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    sales: dict[str, ErpSale] = field(default_factory=dict)
    moves: dict[str, StockMove] = field(default_factory=dict)
    next_sale_id: int = 1
    next_move_id: int = 1
    # Price list lines set in the ERP, by (price list, sku); an item's list price is the
    # "default" list's line when there is none.
    price_lines: dict[tuple[str, str], PriceListEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after: float = 1.0
    fail_after_create_rate: float = 0.0


class SimulatedErp:
    def __init__(
        self,
        *,
        faults: Faults | None = None,
        seed: int = 0,
        items: list[Item] | None = None,
        stock: dict[tuple[str, str], Decimal] | None = None,
        warehouse: str = "DC-NORTH",
        clock: Clock | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self._random = random.Random(seed)
        # The ERP's own clock: stock moves carry the ERP's change times.
        self._clock = clock or SystemClock()
        self._warehouse = warehouse
        self._items = {item.sku: item for item in items or []}
        self._stock: dict[tuple[str, str], Decimal] = dict(stock or {})
        self._sales: dict[str, ErpSale] = {}
        self._sale_ids = itertools.count(1)
        self._moves: dict[str, StockMove] = {}
        self._move_ids = itertools.count(1)
        self._price_lines: dict[tuple[str, str], PriceListEntry] = {}
        self.outage = False
        # Only the posting of documents fails (the ERP's write API is down, its reads
        # answer): what lets a reconciliation see what is still on its way.
        self.posts_down = False
        # Sales and cancellations posted meanwhile are history the seed's stock stands after
        # already (the demo retailer's past orders): recorded, with no stock moved.
        self.history = False
        self.calls: list[str] = []

    # fault injection -------------------------------------------------------------------

    async def _enter(self, operation: str) -> None:
        self.calls.append(operation)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        if self.outage or (self.posts_down and operation.startswith("post_")):
            raise ErpUnavailable(f"ERP is down ({operation})")
        if self._random.random() < self.faults.rate_limit_rate:
            raise ErpRateLimited("Too many requests", retry_after=self.faults.retry_after)
        if self._random.random() < self.faults.error_rate:
            raise ErpUnavailable(f"Injected ERP failure ({operation})")

    # documents -------------------------------------------------------------------------

    async def post_sales_order(self, order: SalesOrder) -> str:
        await self._enter("post_sales_order")
        return self._post(order, ships=not self.history)

    async def post_return(self, order: SalesOrder) -> str:
        await self._enter("post_return")
        return self._post(as_return(order))

    def _post(self, order: SalesOrder, *, ships: bool = True) -> str:
        existing = self._sales.get(order.reference)
        if existing is not None:
            return existing.document_id
        for line in order.lines:
            if self._items and line.sku not in self._items:
                raise ErpRejected(f"Unknown product {line.sku!r}")
            if line.quantity == 0:
                raise ErpRejected(f"Line for {line.sku!r} has no quantity")
        sale = ErpSale(
            document_id=str(next(self._sale_ids)),
            reference=order.reference,
            state="confirmed",
            lines=order.lines,
            location=order.location or self._warehouse,
        )
        self._sales[order.reference] = sale
        # The simulator ships a sale as it is posted: one shipment per sale.
        for line in order.lines if ships else ():
            self._record_move(line.sku, line.quantity, order.location or self._warehouse, sale=sale)
        if self._random.random() < self.faults.fail_after_create_rate:
            raise ErpUnavailable("Connection lost after the sale was created")
        return sale.document_id

    async def post_stock_move(self, move: StockMovePosting) -> str:
        await self._enter("post_stock_move")
        return self._post_move(move)

    def _post_move(self, move: StockMovePosting) -> str:
        existing = next((m for m in self._moves.values() if m.reference == move.reference), None)
        if existing is not None:
            return existing.move_id
        if self._items and move.sku not in self._items:
            raise ErpRejected(f"Unknown product {move.sku!r}")
        if move.quantity <= 0:
            raise ErpRejected(f"A stock move of {move.sku!r} moves a positive quantity")
        source = move.from_location or _PLACE_OF_KIND.get(move.from_kind)
        target = move.to_location or _PLACE_OF_KIND.get(move.to_kind)
        if source is None or target is None or source == target:
            raise ErpRejected(f"A stock move of {move.sku!r} needs two different ends")
        # Only warehouses hold stock the simulator counts; the places outside do not.
        for location, delta in ((source, -move.quantity), (target, move.quantity)):
            if location not in _OUTSIDE:
                key = (move.sku, location)
                self._stock[key] = self._stock.get(key, Decimal(0)) + delta
        recorded = self._add_move(move.sku, source, target, move.quantity, reference=move.reference)
        if self._random.random() < self.faults.fail_after_create_rate:
            raise ErpUnavailable("Connection lost after the stock move was made")
        return recorded.move_id

    async def find_sale(self, reference: str) -> ErpSale | None:
        await self._enter("find_sale")
        return self._sales.get(reference)

    async def post_cancellation(self, cancellation: Cancellation) -> str:
        await self._enter("post_cancellation")
        sale = self._sales.get(cancellation.reference)
        if sale is None:
            raise ErpRejected(f"No sale with reference {cancellation.reference!r}")
        if sale.state == "cancelled":
            return sale.document_id
        if cancellation.lines:
            self._amend(sale, cancellation.lines)
            return sale.document_id
        wanted = set(cancellation.skus)
        unknown = wanted - {line.sku for line in sale.lines}
        if unknown:
            raise ErpRejected(f"Sale {sale.reference!r} has no lines for {sorted(unknown)}")
        cancelled = [line for line in sale.lines if not wanted or line.sku in wanted]
        kept = tuple(line for line in sale.lines if line not in cancelled)
        for line in cancelled:
            self._uncommit(sale, line.sku, line.quantity)
        self._sales[sale.reference] = replace(
            sale, lines=kept, state="cancelled" if not kept else sale.state
        )
        return sale.document_id

    def _amend(self, sale: ErpSale, cuts: tuple[CancelledLine, ...]) -> None:
        """Takes exactly the cancelled units off the sale's lines (its last lines of a SKU
        first); a SKU that holds the ``remaining`` units already was amended before (a
        retry). Every cut is checked before any is made."""
        lines = list(sale.lines)
        due: list[CancelledLine] = []
        for cut in cuts:
            held = sum((line.quantity for line in lines if line.sku == cut.sku), Decimal(0))
            if held == cut.remaining:
                continue
            if held != cut.remaining + cut.quantity:
                raise ErpRejected(
                    f"Sale {sale.reference!r} holds {held} of {cut.sku!r}, not the "
                    f"{cut.remaining + cut.quantity} a cancellation of {cut.quantity} expects"
                )
            due.append(cut)
        for cut in due:
            left = cut.quantity
            for index in reversed(range(len(lines))):
                line = lines[index]
                if line.sku == cut.sku and left > 0:
                    taken = min(line.quantity, left)
                    lines[index] = replace(line, quantity=line.quantity - taken)
                    left -= taken
            self._uncommit(sale, cut.sku, cut.quantity)
        kept = tuple(line for line in lines if line.quantity != 0)
        self._sales[sale.reference] = replace(
            sale, lines=kept, state="cancelled" if not kept else sale.state
        )

    def _uncommit(self, sale: ErpSale, sku: str, quantity: Decimal) -> None:
        """Cancelled units of ``sale`` go back to its location, unless they are history
        the seed's stock stands after already."""
        if not self.history:
            self._record_move(sku, -quantity, sale.location or self._warehouse)

    def _record_move(
        self, sku: str, sold: Decimal, location: str, *, sale: ErpSale | None = None
    ) -> None:
        """Selling moves goods from the location to the customer; negative means back."""
        source, target = location, CUSTOMER_LOCATION
        quantity = sold
        if sold < 0:
            source, target, quantity = target, source, -sold
        key = (sku, location)
        self._stock[key] = self._stock.get(key, Decimal(0)) - sold
        if sale is None:
            self._add_move(sku, source, target, quantity)
        else:
            shipment = f"sim-shipment-{sale.document_id}"
            self._add_move(sku, source, target, quantity, shipment, sale.reference)

    def _add_move(
        self,
        sku: str,
        source: str,
        target: str,
        quantity: Decimal,
        shipment: str | None = None,
        order_reference: str | None = None,
        *,
        reference: str | None = None,
    ) -> StockMove:
        move_id = str(next(self._move_ids))
        move = StockMove(
            move_id=move_id,
            sku=sku,
            from_location=source,
            to_location=target,
            quantity=quantity,
            state="done",
            changed_at=self._clock.now(),
            from_warehouse=None if source in _OUTSIDE else source,
            to_warehouse=None if target in _OUTSIDE else target,
            from_kind=_OUTSIDE.get(source, STORAGE),
            to_kind=_OUTSIDE.get(target, STORAGE),
            shipment=shipment,
            order_reference=order_reference,
            reference=reference,
        )
        self._moves[move_id] = move
        return move

    # reads -----------------------------------------------------------------------------

    async def stock_levels(
        self, skus: list[str] | None = None, locations: list[str] | None = None
    ) -> list[StockLevel]:
        await self._enter("stock_levels")
        return [
            StockLevel(sku, location, quantity)
            for (sku, location), quantity in sorted(self._stock.items())
            if (skus is None or sku in skus) and (locations is None or location in locations)
        ]

    async def stock_moves_since(
        self,
        watermark: datetime.datetime | None,
        overlap: datetime.timedelta = DEFAULT_OVERLAP,
    ) -> MovesPage:
        await self._enter("stock_moves_since")
        since = None if watermark is None else watermark - overlap
        moves = sorted(
            (m for m in self._moves.values() if since is None or m.changed_at >= since),
            key=lambda m: (m.changed_at, int(m.move_id)),
        )
        latest = max((m.changed_at for m in moves), default=watermark)
        return MovesPage(moves=tuple(moves), watermark=latest)

    async def shipment_moves(self, shipment: str) -> list[StockMove]:
        await self._enter("shipment_moves")
        return [move for move in self._moves.values() if move.shipment == shipment]

    async def price_lists(self) -> list[PriceListEntry]:
        await self._enter("price_lists")
        lines = {
            ("default", item.sku): PriceListEntry("default", item.sku, item.list_price, "EUR")
            for item in self._items.values()
        }
        lines.update(self._price_lines)
        return list(lines.values())

    async def items(self) -> list[Item]:
        await self._enter("items")
        return list(self._items.values())

    async def close(self) -> None:
        return None

    # where its state lives -------------------------------------------------------------

    def state(self) -> SimulatorState:
        """The simulator's state as it is now (the dicts themselves, not copies)."""
        next_sale, next_move = next(self._sale_ids), next(self._move_ids)
        self._sale_ids, self._move_ids = itertools.count(next_sale), itertools.count(next_move)
        return SimulatorState(
            self._items,
            self._stock,
            self._sales,
            self._moves,
            next_sale,
            next_move,
            self._price_lines,
        )

    def restore(self, state: SimulatorState) -> None:
        """Takes ``state`` as its own (what ``state()`` gave, possibly from another process)."""
        self._items, self._stock = state.items, state.stock
        self._sales, self._moves = state.sales, state.moves
        self._price_lines = state.price_lines
        self._sale_ids = itertools.count(state.next_sale_id)
        self._move_ids = itertools.count(state.next_move_id)

    # test conveniences -----------------------------------------------------------------

    def sales_by_reference(self, reference: str) -> list[ErpSale]:
        sale = self._sales.get(reference)
        return [] if sale is None else [sale]

    def adjust_stock(self, sku: str, location: str, delta: Decimal) -> StockMove:
        """Simulates a change made inside the ERP (a receipt, a count correction)."""
        key = (sku, location)
        self._stock[key] = self._stock.get(key, Decimal(0)) + delta
        source, target = (SUPPLIER_LOCATION, location) if delta >= 0 else (location, LOST_LOCATION)
        return self._add_move(sku, source, target, abs(delta))

    def set_prices(self, lines: list[PriceListEntry]) -> None:
        """Simulates price list lines changed in the ERP (a mass price change): each
        replaces the line of its price list and SKU."""
        for line in lines:
            self._price_lines[(line.price_list, line.sku)] = line

    def transfer_stock(self, sku: str, source: str, target: str, quantity: Decimal) -> StockMove:
        """Simulates a transfer done in the ERP between two of its warehouses."""
        for location, delta in ((source, -quantity), (target, quantity)):
            self._stock[(sku, location)] = self._stock.get((sku, location), Decimal(0)) + delta
        return self._add_move(sku, source, target, quantity)


__all__ = ["Faults", "OrderLine", "SimulatedErp", "SimulatorState"]
