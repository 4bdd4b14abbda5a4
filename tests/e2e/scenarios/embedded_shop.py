"""A small retailer on the embedded shape, as `retailgraph run` builds it
(`retailgraph.embedded.create_app`), served over HTTP, with its ERP simulator in the
data folder that the commands (`retailgraph sync`, `reconcile`, `erp simulate`) open too.

TOP-1 and TOP-2 have 10 units at the DC (north) and 10 at the store ST (south), in our
stock and in the ERP's. The ERP worker posts at ``RATE`` posts a second, one at a time,
and retries quickly, so an outage's drain is short and its pace measurable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db.engine import DatabaseLocations
from adapters.runtime import Runtime
from domains.products import service as products_service
from erp.port import Item
from erp.settings import PostingWorkerSettings, ReconcileSettings
from erp.simulator import SimulatedErp
from erp.simulator_store import SIMULATOR_FILE, StoredSimulator
from gateway.settings import GatewaySettings
from kernel.clock import SettableClock
from retailgraph.embedded import DEMO_KEYS, NEWCOMER, create_app
from tests.e2e.gateway.subscriptions.served import served
from tests.integration.inventory.conftest import seed_locations, stock
from tests.integration.pricing.support import seed_prices, settle
from tests.support import suite_clock

SKUS = ("TOP-1", "TOP-2")
RATE = 5.0  # posts a second
AS_STOREFRONT = {"X-API-Key": DEMO_KEYS["storefront"]}
AS_OPERATOR = {"X-API-Key": DEMO_KEYS["operator"]}
COMMAND = [sys.executable, "-m", "retailgraph.cli"]

PLACE_ORDER = """
mutation ($key: String!, $sku: ID!, $quantity: Int!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: "web", customerReference: "scenario"
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC" }
    lines: [{ sku: $sku, quantity: $quantity }]
  }) { order { id number } }
}
"""
ERP_SYNC = """
query ($id: ID!) {
  order(id: $id) { number erpSync { status attempts lastError nextAttemptAt erpDocumentId } }
}
"""


@dataclass
class Shop:
    gateway: str
    app: Any
    erp: StoredSimulator
    clock: SettableClock
    data_dir: Path

    async def answer(self, query: str, headers: dict[str, str], **variables: Any) -> Any:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"http://{self.gateway}/graphql",
                json={"query": query, "variables": variables},
                headers=headers,
            )
        return response.json()

    async def post(self, query: str, headers: dict[str, str], **variables: Any) -> Any:
        body = await self.answer(query, headers, **variables)
        assert "errors" not in body, body
        return body["data"]

    async def place(self, key: str, sku: str = "TOP-1", quantity: int = 1) -> dict[str, str]:
        data = await self.post(PLACE_ORDER, AS_STOREFRONT, key=key, sku=sku, quantity=quantity)
        order: dict[str, str] = data["placeOrder"]["order"]
        return order

    async def erp_sync(self, order_id: str) -> dict[str, Any]:
        sync: dict[str, Any] = (await self.post(ERP_SYNC, AS_OPERATOR, id=order_id))["order"][
            "erpSync"
        ]
        return sync

    async def command(self, *args: str) -> str:
        """``retailgraph ARGS`` as its own process, on this shop's data folder."""
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RETAILGRAPH_")},
            "RETAILGRAPH_DATA_DIR": str(self.data_dir),
        }
        for name in ("DATABASE_URL", "REDIS_URL"):
            environment.pop(name, None)
        done = await asyncio.to_thread(
            subprocess.run,
            [*COMMAND, *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def _erp_seed(skus: tuple[str, ...]) -> Callable[[], SimulatedErp]:
    def seed() -> SimulatedErp:
        return SimulatedErp(
            items=[Item(sku, sku, Decimal(20)) for sku in skus],
            stock={(sku, place): Decimal(10) for sku in skus for place in ("DC", "ST")},
        )

    return seed


@contextlib.asynccontextmanager
async def embedded_shop(
    data_dir: Path,
    *,
    reconcile: ReconcileSettings | None = None,
    skus: tuple[str, ...] = SKUS,
) -> AsyncIterator[Shop]:
    """The shop; ``skus`` (priced by ``seed_prices``) are stocked as TOP-1 and TOP-2 are."""
    clock = suite_clock()
    runtime = Runtime(
        databases=DatabaseLocations(data_dir=data_dir),
        bus=InProcessBus(),
        cache=MemoryStore(),
        migrate_on_start=True,
        clock=clock,
    )
    erp = StoredSimulator(data_dir / SIMULATOR_FILE, clock=clock, seed=_erp_seed(skus))
    erp.sales()  # the file holds this shop's ERP before any command opens it
    worker = PostingWorkerSettings(
        rate=RATE,
        burst=1,
        concurrency=4,
        base_delay=0.05,
        max_delay=0.3,
        breaker_reset=0.3,
        poll_interval=0.05,
    ).worker_settings("")
    app = create_app(
        runtime,
        demo=False,
        settings=GatewaySettings.model_validate(NEWCOMER),
        erp=erp,
        worker=worker,
        reconcile=reconcile,
    )
    async with served(app) as address:
        domains = app.state.domains
        await products_service.import_items(
            domains["products"].uow(),
            [
                {"sku": sku, "name": sku, "description": "", "brand": "Northwind",
                 "category": "apparel/tops", "unit_of_measure": "EA", "style": "TOP",
                 "attributes": {}, "variant": {}}
                for sku in skus
            ],
        )  # fmt: skip
        await seed_prices(domains["pricing"])
        await seed_locations(domains["inventory"])
        for sku in skus:
            for place in ("DC", "ST"):
                await stock(domains["inventory"], sku, place, on_hand=10)
        await settle(domains["pricing"])
        yield Shop(address, app, StoredSimulator(erp.path, clock=clock), clock, data_dir)
