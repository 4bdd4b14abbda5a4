"""The inventory reconciliation against the ERP simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domains.inventory import repository, service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import CauseTotals, Divergence, DivergenceCause, StockLevel
from erp.simulator import SimulatedErp
from erp.sync.reconcile import reconcile_inventory
from erp.sync.stock import StockPoller
from tests.integration.sync.support import on_hand, set_on_hand

PENDING, HELD, LOST = "ST-0001-01", "ST-0001-02", "ST-0001-03"
PENDING_MOVEMENT = DivergenceCause.PENDING_MOVEMENT
UNPOSTED_ORDER = DivergenceCause.UNPOSTED_ORDER
UNEXPLAINED = DivergenceCause.UNEXPLAINED


async def test_each_divergence_gets_its_likely_cause_and_only_unexplained_ones_are_repaired(
    inventory: InventoryDomain,
) -> None:
    erp = SimulatedErp(stock={(sku, "DC-NORTH"): Decimal(20) for sku in (PENDING, HELD, LOST)})
    await set_on_hand(inventory, {(sku, "DC-NORTH"): 20 for sku in (PENDING, HELD, LOST)})
    await StockPoller(erp, inventory).poll_once()
    erp.adjust_stock(PENDING, "DC-NORTH", Decimal(5))  # not polled yet
    await service.import_stock_levels(
        inventory.uow(), [StockLevel(HELD, "DC-NORTH", on_hand=24, committed=4)]
    )
    await set_on_hand(inventory, {(LOST, "DC-NORTH"): 17})

    report = await reconcile_inventory(erp, inventory, repair=True)
    assert [(d.sku, d.difference, d.cause) for d in report.divergences] == [
        (PENDING, 5, PENDING_MOVEMENT),
        (HELD, -4, UNPOSTED_ORDER),
        (LOST, 3, UNEXPLAINED),
    ]
    assert report.divergent_units == 12
    assert [(m.sku, m.quantity) for m in report.repaired] == [(LOST, 3)]
    assert sorted(d.sku for d, _ in report.not_repaired) == sorted([PENDING, HELD])
    assert (await on_hand(inventory, LOST)) == {"DC-NORTH": 20}
    shown = report.as_json()
    assert shown["divergentPairs"] == 3
    assert shown["repaired"] == [
        {
            "sku": LOST,
            "locationId": "DC-NORTH",
            "adjustment": 3,
            "sourceDocumentId": report.repaired[0].source_document_id,
        }
    ]

    await StockPoller(erp, inventory).poll_once()
    after = await reconcile_inventory(erp, inventory)
    assert [(d.sku, d.cause) for d in after.divergences] == [(HELD, UNPOSTED_ORDER)]


async def test_a_whole_reconciliation_is_stored_with_its_divergences_and_a_narrowed_one_is_not(
    inventory: InventoryDomain,
) -> None:
    erp = SimulatedErp(stock={(sku, "DC-NORTH"): Decimal(20) for sku in (PENDING, HELD, LOST)})
    await set_on_hand(inventory, {(PENDING, "DC-NORTH"): 20, (HELD, "DC-NORTH"): 20})
    await set_on_hand(inventory, {(LOST, "DC-NORTH"): 13})

    report = await reconcile_inventory(erp, inventory, repair=True)
    await reconcile_inventory(erp, inventory, skus=[LOST])

    async with inventory.engine.connect() as conn:
        [stored] = await repository.load_reconciliations(conn, last=5)
        divergences = await repository.load_divergences(conn, [stored.id], first=10)
    assert report.stored == stored
    assert (stored.compared, stored.divergent_pairs, stored.divergent_units) == (3, 1, 7)
    assert stored.by_cause[UNEXPLAINED] == CauseTotals(pairs=1, units=7)
    assert stored.by_cause[PENDING_MOVEMENT] == CauseTotals()
    assert divergences[stored.id] == [
        Divergence(LOST, "DC-NORTH", 20, 13, 0, 0, UNEXPLAINED, repaired=True)
    ]


async def test_only_the_newest_reconciliations_are_kept(
    inventory: InventoryDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "KEPT_RECONCILIATIONS", 2)
    erp = SimulatedErp(stock={(LOST, "DC-NORTH"): Decimal(20)})
    for on_hand_now in (11, 12, 13):
        await set_on_hand(inventory, {(LOST, "DC-NORTH"): on_hand_now})
        await reconcile_inventory(erp, inventory)

    async with inventory.engine.connect() as conn:
        kept = await repository.load_reconciliations(conn, last=5)
        divergences = await repository.load_divergences(conn, [r.id for r in kept], first=10)
    assert [r.divergent_units for r in kept] == [7, 8]
    assert sorted(d.ours for found in divergences.values() for d in found) == [12, 13]
