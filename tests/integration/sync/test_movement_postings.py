"""Movements a WMS sends reach the ERP through the posting worker exactly once, on SQLite
and PostgreSQL: a post cut off after the ERP made the move, an outage, a refusal that is
dead-lettered and replayed. Until posted they are pending in the reconciliation."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from domains.inventory import erp_postings, service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.erp_postings import PostingStatus
from domains.inventory.model import DivergenceCause, Movement, MovementOrigin, MovementType
from domains.orders.bootstrap import OrdersDomain
from erp.port import Item
from erp.posting.worker import ErpSyncWorker
from erp.simulator import Faults, SimulatedErp
from erp.sync.reconcile import reconcile_inventory
from erp.sync.stock import StockPoller
from tests.integration.orders.erp_support import fast_worker
from tests.integration.sync.support import on_hand, set_on_hand

SKU, OTHER = "ST-0001-01", "ST-0001-02"
DC, STORE = "DC-NORTH", "STORE-BERLIN"


def _erp(**faults: float) -> SimulatedErp:
    return SimulatedErp(
        items=[Item(SKU, SKU, Decimal(10))],
        stock={(SKU, DC): Decimal(20), (SKU, STORE): Decimal(5), (OTHER, DC): Decimal(1)},
        faults=Faults(**faults),
    )


async def _stocked(inventory: InventoryDomain) -> None:
    await set_on_hand(inventory, {(SKU, DC): 20, (SKU, STORE): 5, (OTHER, DC): 1})


async def _statuses(inventory: InventoryDomain) -> list[PostingStatus]:
    return [p.status for p in reversed(await erp_postings.postings(inventory.engine))]


async def _settle(inventory: InventoryDomain, worker: ErpSyncWorker, within: float = 30) -> None:
    """Run the worker until no movement posting is pending or in progress."""
    deadline = time.monotonic() + within
    while {PostingStatus.PENDING, PostingStatus.IN_PROGRESS} & set(await _statuses(inventory)):
        assert time.monotonic() < deadline, await _statuses(inventory)
        if not await worker.run_once():
            await asyncio.sleep(0.01)


def _receipt_and_transfer() -> list[Movement]:
    return [
        Movement(MovementType.RECEIPT, SKU, DC, 6, "ASN-1", 1),
        Movement(MovementType.TRANSFER, SKU, STORE, 2, "TO-1", 1, to_location_id=DC),
    ]


async def test_a_post_cut_off_after_the_erp_made_the_move_completes_once(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await _stocked(inventory)
    erp = _erp(fail_after_create_rate=1.0)
    await service.apply_stock_movements(
        inventory.uow(), _receipt_and_transfer(), origin=MovementOrigin.WMS
    )
    worker = fast_worker(orders.engine, erp, movements=inventory.engine)

    # One SKU's movements reach the ERP one at a time, in the order they happened.
    assert await worker.run_once() == 1
    # The receipt's move reached the ERP, but its answer did not come back: it is retried.
    assert await _statuses(inventory) == [PostingStatus.PENDING] * 2
    assert len(erp.state().moves) == 1
    erp.faults = Faults()
    await _settle(inventory, worker)

    assert await _statuses(inventory) == [PostingStatus.POSTED] * 2
    levels = {lv.location: lv.quantity for lv in await erp.stock_levels([SKU])}
    assert levels == {DC: Decimal(26), STORE: Decimal(3)}
    # The retry found the receipt's move by its reference: one move per movement.
    assert erp.calls.count("post_stock_move") == 3
    assert len(erp.state().moves) == 2
    assert (await reconcile_inventory(erp, inventory)).divergences == []


async def test_an_outage_holds_movements_as_pending_and_they_drain_once_it_ends(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await _stocked(inventory)
    erp = _erp()
    await StockPoller(erp, inventory).poll_once()  # the ERP's starting position
    erp.outage = True
    await service.apply_stock_movements(
        inventory.uow(), _receipt_and_transfer(), origin=MovementOrigin.WMS
    )
    worker = fast_worker(orders.engine, erp, movements=inventory.engine)
    for _ in range(5):
        await worker.run_once()
    assert set(await _statuses(inventory)) == {PostingStatus.PENDING}

    erp.outage = False
    report = await reconcile_inventory(erp, inventory, repair=True)
    assert [(d.location_id, d.difference, d.pending, d.cause) for d in report.divergences] == [
        (DC, -6, -6, DivergenceCause.PENDING_MOVEMENT),
        (STORE, 2, 2, DivergenceCause.PENDING_MOVEMENT),
    ]
    assert report.repaired == []
    assert await on_hand(inventory, SKU) == {DC: 26, STORE: 3}

    await _settle(inventory, worker)
    assert (await reconcile_inventory(erp, inventory)).divergences == []
    # The ERP's feed reads our two posted moves back and applies neither.
    polled = await StockPoller(erp, inventory).poll_once()
    assert (polled.fresh, polled.applied) == (2, [])
    assert await on_hand(inventory, SKU) == {DC: 26, STORE: 3}


async def test_a_refused_movement_is_dead_lettered_stays_explained_and_posts_once_replayed(
    inventory: InventoryDomain, orders: OrdersDomain
) -> None:
    await _stocked(inventory)
    erp = _erp()  # it holds one OTHER but has no item for it
    await service.apply_stock_movements(
        inventory.uow(),
        [Movement(MovementType.ADJUSTMENT, OTHER, DC, 2, "FOUND-1", 1)],
        origin=MovementOrigin.WMS,
    )
    worker = fast_worker(orders.engine, erp, movements=inventory.engine)
    await _settle(inventory, worker)
    [posting] = await erp_postings.postings(inventory.engine)
    assert posting.status is PostingStatus.DEAD_LETTERED
    assert "Unknown product" in (posting.last_error or "")

    # Dead-lettered, the two found units are still explained, and no repair reverts them.
    report = await reconcile_inventory(erp, inventory, repair=True, skus=[OTHER])
    assert [(d.difference, d.cause) for d in report.divergences] == [
        (-2, DivergenceCause.PENDING_MOVEMENT)
    ]
    assert report.repaired == []

    learned = erp.state()  # the ERP learns the product
    learned.items[OTHER] = Item(OTHER, OTHER, Decimal(10))
    erp.restore(learned)
    assert await erp_postings.replay(inventory.engine, now=inventory.clock.now()) == 1
    await _settle(inventory, worker)
    assert await _statuses(inventory) == [PostingStatus.POSTED]
    assert (await reconcile_inventory(erp, inventory, skus=[OTHER])).divergences == []
