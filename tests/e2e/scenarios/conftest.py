"""A whole retailer in one process behind the gateway, for the scenarios of SCENARIOS.md."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.db.engine import create_engine
from domains.products import service as products_service
from gateway.app import create_app as gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from kernel.clock import Clock
from retailgraph.domains import DOMAINS
from retailgraph.supergraph import SCHEMA_PATH
from tests.e2e.gateway.subscriptions.served import served
from tests.integration.inventory.conftest import seed_locations, stock
from tests.integration.pricing.support import live_promotion, percent_terms, seed_prices, settle
from tests.support import TRUSTED_CALLERS, local_runtime

MOVE = """mutation ($type: StockMovementType!, $quantity: Int!, $doc: String!) {
  applyStockMovements(movements: [{type: $type, sku: "TOP-1", locationId: "DC",
                                   quantity: $quantity, sourceDocumentId: $doc}]) {
    rejected { code }
  }
}"""

QUOTE = """query ($region: String) {
  quote(lines: [{sku: "TOP-1", quantity: 1}], channel: "store", currency: "EUR",
        region: $region) { discount { amount } }
}"""


@dataclass
class Retailer:
    gateway: str
    apps: dict[str, Starlette]

    async def post(self, query: str, **variables: Any) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://{self.gateway}/graphql", json={"query": query, "variables": variables}
            )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def move(self, movement_type: str, quantity: int, document: str) -> None:
        data = await self.post(MOVE, type=movement_type, quantity=quantity, doc=document)
        assert data == {"applyStockMovements": {"rejected": []}}

    async def store_discount(self, region: str) -> Decimal:
        data = await self.post(QUOTE, region=region)
        return Decimal(data["quote"]["discount"]["amount"])


@contextlib.asynccontextmanager
async def open_retailer(
    tmp_path: Path, *, clock: Clock | None = None, store_promotion: bool = True
) -> AsyncIterator[Retailer]:
    """The four subgraphs in one process on one in-process bus, as `retailgraph run`
    runs them (a database each), behind the gateway served over TCP. TOP-1 (20.00 EUR,
    10 units at the DC in the north and 10 at the store ST in the south); with
    ``store_promotion``, 20% off in stores while a region keeps at least 5 units.
    ``clock`` is every domain's time (the suite's running clock when None)."""
    runtime = local_runtime(clock=clock)
    engines = {name: create_engine(f"sqlite+aiosqlite:///{tmp_path / name}.db") for name in DOMAINS}
    apps = {name: DOMAINS[name].create_app(runtime, engine=engines[name]) for name in DOMAINS}
    runtime.subgraphs.update(apps)  # checkout reaches pricing and inventory in process
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        products = apps["products"].state.domain
        item = {
            "sku": "TOP-1",
            "name": "Merino crew top",
            "description": "",
            "brand": "Northwind",
            "category": "apparel/tops",
            "unit_of_measure": "EA",
            "style": "TOP",
            "attributes": {},
            "variant": {},
        }
        await products_service.import_items(products.uow(), [item])
        pricing = apps["pricing"].state.domain
        await seed_prices(pricing)
        if store_promotion:
            terms = percent_terms(
                skus=["TOP-1"], categories=[], channels=["store"], low_stock_threshold=5
            )
            await live_promotion(pricing, terms, "STORE-20")
        await seed_locations(apps["inventory"].state.domain)
        await stock(apps["inventory"].state.domain, "TOP-1", "DC", on_hand=10)
        await stock(apps["inventory"].state.domain, "TOP-1", "ST", on_hand=10)
        # Every seeding event relayed and handled before a test starts: a store screen
        # subscribed first must not receive the seeded level as a change.
        for app in apps.values():
            await settle(app.state.domain)
        engine = FederatedEngine(
            SCHEMA_PATH.read_text(),
            subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        )
        address = await stack.enter_async_context(
            served(gateway_app(engine, clients=TRUSTED_CALLERS))
        )
        yield Retailer(address, apps)
    await runtime.close()
    for engine_ in engines.values():
        await engine_.dispose()


@pytest.fixture
async def retailer(tmp_path: Path) -> AsyncIterator[Retailer]:
    """The retailer of ``open_retailer``, with the store promotion, on the suite's clock."""
    async with open_retailer(tmp_path) as opened:
        yield opened
