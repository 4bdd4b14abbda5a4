"""Low stock pauses a promotion for a SKU in a region, end to end: a stock movement in
inventory, pricing pausing the promotion there, quotes leaving it out, subscribers told,
stock coming back lifting the pause; and a replayed stale event changing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine
from adapters.runtime import Runtime
from domains.inventory import tables as inventory_tables
from domains.inventory.app import create_app as inventory_app
from domains.inventory.bootstrap import InventoryDomain
from domains.pricing import tables as pricing_tables
from domains.pricing.app import create_app as pricing_app
from domains.pricing.bootstrap import PricingDomain
from kernel.events import Event
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import seed_locations, stock
from tests.integration.pricing.support import live_promotion, percent_terms, seed_prices, settle
from tests.integration.subscriptions.conftest import RuntimeFactory
from tests.live_subscriptions import serving_over_tcp, subscribers_reach, ws_client
from tests.support import EVENT_TIME, serving

PROMOTIONS = """subscription {
  promotionStatusChanged(channel: "store") { change promotionId status sku region }
}"""

QUOTE = """query ($region: String) {
  quote(lines: [{sku: "TOP-1", quantity: 1}], channel: "store", currency: "EUR",
        region: $region) {
    discount { amount }
    lines { appliedPromotions { promotionId } }
  }
}"""

PRODUCT = """query ($region: String) {
  _entities(representations: [{__typename: "Product", sku: "TOP-1"}]) {
    ... on Product {
      price(channel: "store", currency: "EUR", region: $region) { promotional { amount } }
      promotions(channel: "store", region: $region) { id }
    }
  }
}"""

MOVE = """mutation ($type: StockMovementType!, $quantity: Int!, $doc: String!) {
  applyStockMovements(movements: [{type: $type, sku: "TOP-1", locationId: "DC",
                                   quantity: $quantity, sourceDocumentId: $doc}]) {
    applied { sku }
  }
}"""


@dataclass
class Shop:
    runtime: Runtime
    inventory: InventoryDomain
    inventory_http: httpx.AsyncClient
    pricing: PricingDomain
    pricing_http: httpx.AsyncClient
    pricing_ws: str

    async def move(self, movement_type: str, quantity: int, document: str) -> None:
        variables = {"type": movement_type, "quantity": quantity, "doc": document}
        response = await self.inventory_http.post(
            "/graphql", json={"query": MOVE, "variables": variables}
        )
        assert response.json()["data"]["applyStockMovements"]["applied"], response.text

    async def store_discount(self, region: str) -> Decimal:
        response = await self.pricing_http.post(
            "/graphql", json={"query": QUOTE, "variables": {"region": region}}
        )
        body: dict[str, Any] = response.json()
        return Decimal(body["data"]["quote"]["discount"]["amount"])

    async def product_page(self, region: str) -> tuple[str, list[str]]:
        """TOP-1's store price and promotions as a product page in ``region`` shows them."""
        response = await self.pricing_http.post(
            "/graphql", json={"query": PRODUCT, "variables": {"region": region}}
        )
        (product,) = response.json()["data"]["_entities"]
        promotions = [p["id"] for p in product["promotions"]]
        return product["price"]["promotional"]["amount"], promotions


@pytest.fixture
async def pricing_engine(
    backend: str, make_engine: EngineFactory, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """Pricing's database: on SQLite a file of its own, as in the embedded mode (the
    in-process bus runs pricing's consumer inside inventory's relay transaction)."""
    if backend != "sqlite":
        yield await make_engine()
        return
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pricing.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
async def shop(
    make_engine: EngineFactory, pricing_engine: AsyncEngine, make_runtime: RuntimeFactory
) -> AsyncIterator[Shop]:
    """Inventory and pricing in one process on one bus, as the embedded mode runs them.
    TOP-1 (20.00 EUR) has 20% off in stores while a region keeps at least 5 units."""
    runtime = make_runtime()
    inventory = inventory_app(runtime, engine=await make_engine())
    pricing = pricing_app(runtime, engine=pricing_engine)
    async with (
        serving(inventory, "http://inventory") as inventory_http,
        serving_over_tcp(pricing) as pricing_ws,
        httpx.AsyncClient(base_url=pricing_ws.replace("ws://", "http://")) as pricing_http,
    ):
        shop = Shop(
            runtime,
            inventory.state.domain,
            inventory_http,
            pricing.state.domain,
            pricing_http,
            pricing_ws,
        )
        await seed_prices(shop.pricing)
        terms = percent_terms(
            skus=["TOP-1"],
            categories=[],
            channels=["store"],
            low_stock_threshold=5,
            auto_resume=True,
        )
        await live_promotion(shop.pricing, terms, "STORE-20")
        await seed_locations(shop.inventory)
        await stock(shop.inventory, "TOP-1", "DC", on_hand=10)  # north: 10 units
        await settle(shop.pricing)
        yield shop


async def next_update(client: Any) -> dict[str, Any]:
    update: dict[str, Any] = (await client.next_data("p"))["promotionStatusChanged"]
    return update


async def regional_event(shop: Shop, available: int) -> Event:
    """The RegionalAvailabilityChanged inventory recorded for TOP-1 in the north."""
    outbox = inventory_tables.outbox
    async with shop.inventory.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox).where(outbox.c.partition_key == "TOP-1@north").order_by(outbox.c.seq)
            )
        ).all()
    row = next(r for r in rows if r.payload["available"] == available)
    return Event(row.type, row.partition_key, row.payload, id=row.id, occurred_at=EVENT_TIME)


async def test_low_stock_pauses_the_promotion_in_that_region_and_recovery_lifts_it(
    shop: Shop,
) -> None:
    async with ws_client(shop.pricing_ws) as client:
        await client.subscribe("p", PROMOTIONS)
        await subscribers_reach(shop.runtime.hub, 1)

        await shop.move("PICK", 7, "PICK-1")  # north: 3 units, under the threshold of 5
        assert await next_update(client) == {
            "change": "PAUSED_FOR_LOW_STOCK",
            "promotionId": "STORE-20",
            "status": "PAUSED",
            "sku": "TOP-1",
            "region": "north",
        }
        assert await shop.store_discount("north") == 0
        assert await shop.store_discount("south") == Decimal("4.00")
        assert await shop.product_page("north") == ("20.00", [])
        assert await shop.product_page("south") == ("16.00", ["STORE-20"])

        await shop.move("RECEIPT", 5, "GRN-1")  # north: 8 units
        resumed = await next_update(client)
        assert (resumed["change"], resumed["status"]) == ("RESUMED_AFTER_LOW_STOCK", "ACTIVE")
        assert await shop.store_discount("north") == Decimal("4.00")
        assert await shop.product_page("north") == ("16.00", ["STORE-20"])

        # The stale "3 units" event comes again (a redelivery): it must not pause anew.
        await shop.runtime.bus.publish([await regional_event(shop, 3)])
        await shop.move("PICK", 4, "PICK-2")  # north: 4 units, the next real change
        paused = await next_update(client)
        assert (paused["change"], paused["region"]) == ("PAUSED_FOR_LOW_STOCK", "north")

    pauses, outbox = pricing_tables.stock_pauses, pricing_tables.outbox
    async with shop.pricing.engine.connect() as conn:
        available = (await conn.execute(select(pauses.c.available))).scalars().all()
        announced = (
            await conn.execute(
                select(func.count()).where(outbox.c.type == "PromotionStatusChanged")
            )
        ).scalar_one()
    assert available == [4], "the pause comes from the pick, not the replayed event"
    assert announced == 3
