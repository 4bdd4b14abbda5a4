"""The inventory reconciliation against the ERP simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from domains.inventory import service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import StockLevel
from erp.simulator import SimulatedErp
from erp.sync.reconcile import (
    PENDING_MOVEMENT,
    UNEXPLAINED,
    UNPOSTED_ORDER,
    reconcile_inventory,
)
from erp.sync.stock import StockPoller
from tests.integration.sync.support import on_hand, set_on_hand

PENDING, HELD, LOST = "ST-0001-01", "ST-0001-02", "ST-0001-03"


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
