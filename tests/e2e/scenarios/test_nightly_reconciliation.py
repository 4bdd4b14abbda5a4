"""Scenario 9 through the gateway on the embedded shape: stock diverges between the
simulated ERP and us in the three ways the scenario names, the scheduled reconciliation
runs when the clock reaches its time, `inventoryReconciliations` lists each divergence
with its cause and size, `retailgraph reconcile inventory --repair` fixes the
unexplained one, and the next night's run shows only what settles on its own.

Movements a WMS sends through `applyStockMovements` are ours to tell the ERP: the ERP
worker posts them, so they never become a divergence for a repair to revert; until they
are posted they are pending movements of their size.

The commands run as their own processes on the shop's data folder: they and the
embedded app see one ERP."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any

from domains.inventory import service as inventory_service
from domains.inventory.model import StockLevel
from erp.settings import ReconcileSettings
from tests.e2e.scenarios.embedded_shop import AS_OPERATOR, Shop, embedded_shop

NIGHTLY = ReconcileSettings(every=86400, at="02:00", check_interval=0.05)
RECONCILIATIONS = """{
  inventoryReconciliations(last: 10) {
    id ranAt compared divergentPairs divergentUnits
    divergences { sku locationId erp ours difference pendingMovements heldByOrders cause }
  }
}"""
COUNT_CORRECTION = """mutation {
  applyStockMovements(movements: [{type: ADJUSTMENT, sku: "TOP-2", locationId: "ST",
                                   quantity: -3, sourceDocumentId: "count-ST-1"}]) {
    rejected { code }
  }
}"""
RECEIPT_AND_TRANSFER = """mutation {
  applyStockMovements(movements: [
    { type: RECEIPT, sku: "TOP-1", locationId: "DC", quantity: 6, sourceDocumentId: "ASN-9" }
    { type: TRANSFER, sku: "TOP-2", locationId: "ST", toLocationId: "DC", quantity: 4,
      sourceDocumentId: "TO-9" }
  ]) { applied { sourceDocumentId } rejected { code } }
}"""
LEVELS = """{
  one: product(sku: "TOP-1") { dc: stock(locationId: "DC") { onHand } }
  two: product(sku: "TOP-2") {
    dc: stock(locationId: "DC") { onHand incoming } st: stock(locationId: "ST") { onHand }
  }
}"""
WAIT = 60.0


async def _night(shop: Shop) -> dict[str, Any]:
    """Move the clock a day on; the reconciliation the schedule then runs."""
    shop.clock.advance(timedelta(days=1))
    now = shop.clock.now()
    due = datetime.combine(now.date(), time_of_day(2, 0), tzinfo=UTC)
    deadline = time.monotonic() + WAIT
    while True:
        listed = (await shop.post(RECONCILIATIONS, AS_OPERATOR))["inventoryReconciliations"]
        ran = [
            r
            for r in listed
            if due <= datetime.fromisoformat(r["ranAt"]) <= now + timedelta(minutes=1)
        ]
        if ran:
            found: dict[str, Any] = ran[0]
            return found
        assert time.monotonic() < deadline, "the scheduled reconciliation did not run"
        await asyncio.sleep(0.1)


async def _erp_has(shop: Shop, sku: str, location: str, quantity: int) -> None:
    """Wait until the ERP holds ``quantity`` of ``sku`` at ``location``."""
    deadline = time.monotonic() + WAIT
    while True:
        levels = await shop.erp.stock_levels([sku], [location])
        if [level.quantity for level in levels] == [Decimal(quantity)]:
            return
        assert time.monotonic() < deadline, (sku, location, levels)
        await asyncio.sleep(0.1)


async def _posted(shop: Shop, order_id: str) -> None:
    deadline = time.monotonic() + WAIT
    while (await shop.erp_sync(order_id))["status"] != "POSTED":
        assert time.monotonic() < deadline, "the order was not posted"
        await asyncio.sleep(0.1)


def _listed(reconciliation: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    return {
        (d["sku"], d["locationId"], d["difference"], d["cause"])
        for d in reconciliation["divergences"]
    }


async def test_the_nightly_reconciliation_explains_each_divergence_and_a_repair_fixes_one(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data", reconcile=NIGHTLY) as shop:
        # An order reaches the ERP, which ships it there; the stock poller's first poll
        # then takes the ERP's position, so our side has not seen the shipment: the two
        # units our order holds explain the difference.
        order = await shop.place(f"night-{uuid.uuid4()}", "TOP-1", 2)
        await _posted(shop, order["id"])
        assert "First poll" in await shop.command("sync", "stock")
        # The ERP receives 5 TOP-2 at the DC; the poller has not read it yet.
        shop.erp.adjust_stock("TOP-2", "DC", Decimal(5))
        # The store counts 3 TOP-2 fewer: the ERP worker tells the ERP.
        corrected = await shop.post(COUNT_CORRECTION, AS_OPERATOR)
        assert corrected == {"applyStockMovements": {"rejected": []}}
        await _erp_has(shop, "TOP-2", "ST", 7)
        # A stock snapshot then sets TOP-2 at the store to 4 on our side alone, and the ERP
        # never hears of it.
        await inventory_service.import_stock_levels(
            shop.app.state.domains["inventory"].uow(), [StockLevel("TOP-2", "ST", on_hand=4)]
        )

        first = await _night(shop)
        assert _listed(first) == {
            ("TOP-1", "DC", -2, "UNPOSTED_ORDER"),
            ("TOP-2", "DC", 5, "PENDING_MOVEMENT"),
            ("TOP-2", "ST", 3, "UNEXPLAINED"),
        }
        assert (first["compared"], first["divergentPairs"], first["divergentUnits"]) == (4, 3, 10)
        by_pair = {(d["sku"], d["locationId"]): d for d in first["divergences"]}
        assert (by_pair["TOP-1", "DC"]["erp"], by_pair["TOP-1", "DC"]["ours"]) == (8, 10)
        assert by_pair["TOP-1", "DC"]["heldByOrders"] == 2
        assert by_pair["TOP-2", "DC"]["pendingMovements"] == 5
        assert (by_pair["TOP-2", "ST"]["erp"], by_pair["TOP-2", "ST"]["ours"]) == (7, 4)

        repaired = await shop.command("reconcile", "inventory", "--repair")
        assert "Repaired TOP-2 at ST: adjusted by +3" in repaired

        second = await _night(shop)
        assert _listed(second) == {
            ("TOP-1", "DC", -2, "UNPOSTED_ORDER"),
            ("TOP-2", "DC", 5, "PENDING_MOVEMENT"),
        }
        assert second["id"] != first["id"]


async def test_the_commands_and_the_embedded_app_share_one_erp(tmp_path: Path) -> None:
    async with embedded_shop(tmp_path / "data") as shop:
        order = await shop.place(f"shared-{uuid.uuid4()}", "TOP-1", 1)
        await _posted(shop, order["id"])  # posted by the app's worker
        first = await shop.command("sync", "stock")
        assert "its 1 earlier moves are part of the stock already" in first
        shop.erp.adjust_stock("TOP-2", "ST", Decimal(4))
        second = await shop.command("sync", "stock")
        assert "1 new: 1 movements applied" in second
        report = json.loads(await shop.command("reconcile", "inventory", "--json"))
    listed = [
        (d["sku"], d["locationId"], d["erp"], d["ours"], d["cause"]) for d in report["divergences"]
    ]
    assert listed == [("TOP-1", "DC", 9, 10, "unposted-order")]


async def test_movements_from_a_wms_reach_the_erp_and_are_pending_until_they_do(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data") as shop:
        assert "First poll" in await shop.command("sync", "stock")
        # The ERP takes no posts for now; its stock can still be read.
        down = await shop.command("erp", "simulate", "outage", "posts")
        assert "down for posting" in down
        applied = await shop.post(RECEIPT_AND_TRANSFER, AS_OPERATOR)
        assert applied["applyStockMovements"] == {
            "applied": [{"sourceDocumentId": "ASN-9"}, {"sourceDocumentId": "TO-9"}],
            "rejected": [],
        }

        # Not posted yet: each difference is the movement on its way, of its size.
        waiting = json.loads(await shop.command("reconcile", "inventory", "--json"))
        pending = {
            (d["sku"], d["locationId"], d["erp"], d["ours"], d["pendingMovements"], d["cause"])
            for d in waiting["divergences"]
        }
        assert pending == {
            ("TOP-1", "DC", 10, 16, -6, "pending-movement"),
            # The 4 units left the store; they are in transit to the DC, not on hand there.
            ("TOP-2", "ST", 10, 6, 4, "pending-movement"),
        }
        # A repair leaves them alone: they settle on their own.
        repair = json.loads(await shop.command("reconcile", "inventory", "--repair", "--json"))
        assert repair["repaired"] == []
        assert len(repair["notRepaired"]) == 2
        levels = await shop.post(LEVELS, AS_OPERATOR)
        assert levels == {
            "one": {"dc": {"onHand": 16}},
            "two": {"dc": {"onHand": 10, "incoming": 4}, "st": {"onHand": 6}},
        }

        # Back up: the worker posts both, once, and the two sides agree.
        await shop.command("erp", "simulate", "outage", "off")
        await _erp_has(shop, "TOP-1", "DC", 16)
        await _erp_has(shop, "TOP-2", "ST", 6)
        settled = json.loads(await shop.command("reconcile", "inventory", "--json"))
        assert settled["divergences"] == []
        # The ERP's stock-move feed does not bring our own movements back: of its three
        # new moves, only the ERP's own receipt at the store is applied.
        shop.erp.adjust_stock("TOP-1", "ST", Decimal(1))
        synced = " ".join((await shop.command("sync", "stock")).split())
        assert "3 new: 1 movements applied" in synced, synced
        assert "2 moves skipped" in synced, synced
        assert (
            json.loads(await shop.command("reconcile", "inventory", "--json"))["divergences"] == []
        )
