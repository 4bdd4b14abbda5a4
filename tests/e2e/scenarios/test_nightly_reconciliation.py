"""Scenario 9 through the gateway on the embedded shape: stock diverges between the
simulated ERP and us in the three ways the scenario names, the scheduled reconciliation
runs when the clock reaches its time, `inventoryReconciliations` lists each divergence
with its cause and size, `retailgraph reconcile inventory --repair` fixes the
unexplained one, and the next night's run shows only what settles on its own.

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
        # We count 3 TOP-2 fewer at the store, and the ERP never hears of it.
        corrected = await shop.post(COUNT_CORRECTION, AS_OPERATOR)
        assert corrected == {"applyStockMovements": {"rejected": []}}

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
        assert (by_pair["TOP-2", "ST"]["erp"], by_pair["TOP-2", "ST"]["ours"]) == (10, 7)

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
