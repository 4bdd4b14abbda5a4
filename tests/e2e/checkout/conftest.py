"""The whole system for checkout tests: the real gateway over the four domain subgraphs,
one private database, one bus, and a small seeded catalogue.

Orders reaches pricing and inventory in process, as in the embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from adapters.db.engine import create_engine
from domains.inventory import service as inventory
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from domains.pricing import imports
from domains.pricing import service as pricing
from domains.products import service as products
from gateway.app import create_app as create_gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs
from retailgraph.supergraph import SCHEMA_PATH
from tests.conftest import EngineFactory
from tests.support import TRUSTED_CALLERS, local_runtime

DC = "DC-TEST"
STORE = "STORE-TEST"
# sku: (tax rate, EUR price, units on hand at the DC)
CATALOGUE = {
    "FLASH-1": ("0.19", "49.99", 50),
    "MUG-1": ("0.07", "9.99", 100),
    "TEE-1": ("0.19", "20.00", 30),
}

PLACE_ORDER = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    created
    order {
      id number status correlationId idempotencyKey
      fulfilment { type locationId }
      lines { id position sku quantity unitPrice { amount } promotionalUnitPrice { amount }
              lineTotal { amount } }
      totals { subtotal { amount } discount { amount } total { amount currency } }
    }
  }
}
"""


@dataclass
class Shop:
    client: httpx.AsyncClient
    domains: dict[str, Any]

    async def post(self, query: str, variables: dict[str, Any], **headers: str) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def place(
        self, key: str, lines: list[tuple[str, int]], *, location: str = DC, **headers: str
    ) -> dict[str, Any]:
        order_input = {
            "idempotencyKey": key,
            "channel": "web",
            "currency": "EUR",
            "customerReference": "cust-7",
            "fulfilment": {"type": "SHIP_FROM_DC", "locationId": location},
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        }
        return await self.post(PLACE_ORDER, {"input": order_input}, **headers)

    async def stock(self, sku: str, location: str = DC) -> dict[str, int]:
        body = await self.post(
            "query($sku: ID!, $loc: ID!) { product(sku: $sku) { stock(locationId: $loc) "
            "{ onHand committed reserved available } } }",
            {"sku": sku, "loc": location},
        )
        quantities: dict[str, int] = body["data"]["product"]["stock"]
        return quantities

    async def scalar(self, domain: str, sql: str, **params: Any) -> Any:
        async with self.domains[domain].engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()

    async def settle(self) -> None:
        """Until orders' events have reached inventory, and inventory's pricing (the
        in-process bus calls the consumers inside the relay's publish)."""
        relays = [self.domains[name].relay for name in ("orders", "inventory")]
        for _ in range(2000):
            for relay in relays:
                await relay.drain()
            if not any([await relay.depth() for relay in relays]):
                return
            await asyncio.sleep(0.01)
        depths = [await relay.depth() for relay in relays]
        raise AssertionError(f"the outboxes did not drain: {depths}")


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def seed(domains: dict[str, Any]) -> None:
    pricing_domain, inventory_domain = domains["pricing"], domains["inventory"]
    items = [
        {
            "sku": sku,
            "name": f"Test {sku}",
            "brand": "Test",
            "category": "test",
            "unit_of_measure": "each",
            "style": sku,
        }
        for sku in CATALOGUE
    ]
    report = await products.import_items(domains["products"].uow(), items)
    assert not report.rejected, report.rejected
    await imports.register_skus(
        pricing_domain.uow(),
        [imports.SkuFacts(sku, "test", Decimal(rate)) for sku, (rate, _, _) in CATALOGUE.items()],
    )
    rows = [imports.PriceRow(sku, "EUR", price) for sku, (_, price, _) in CATALOGUE.items()]
    await imports.import_price_list(pricing_domain.uow, "EUR", rows)
    now = pricing_domain.clock.now()
    terms = pricing.build_terms(
        name="Mugs: buy 2, get 1 free",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
        kind="BUY_X_GET_Y",
        buy=2,
        get=1,
        skus=["MUG-1"],
    )
    await pricing.create_promotion(pricing_domain.uow(), terms, promotion_id="mugs-b2g1")
    await pricing.activate_promotion(pricing_domain.uow(), "mugs-b2g1")
    for location, kind in ((DC, LocationKind.DC), (STORE, LocationKind.STORE)):
        await inventory.save_location(
            inventory_domain.uow(),
            id=location,
            name=location,
            kind=kind,
            region="north",
            rules=[ChannelRule("web"), ChannelRule("store")],
        )
    levels = [StockLevel(sku, DC, on_hand=units) for sku, (_, _, units) in CATALOGUE.items()]
    await inventory.import_stock_levels(inventory_domain.uow(), levels)


@pytest.fixture
async def shop(backend: str, make_engine: EngineFactory, tmp_path: Path) -> AsyncIterator[Shop]:
    # Private databases; orders reaches the other domains in process. On SQLite each
    # domain has its own file, as in the embedded mode: one file's write lock would make
    # the orders relay and the inventory consumer it calls wait on each other.
    if backend == "sqlite":
        engines = {
            name: create_engine(f"sqlite+aiosqlite:///{tmp_path / name}.db") for name in DOMAINS
        }
    else:
        shared = await make_engine()
        engines = dict.fromkeys(DOMAINS, shared)
    runtime = local_runtime()
    apps = {name: DOMAINS[name].create_app(runtime, engine=engines[name]) for name in DOMAINS}
    runtime.subgraphs.update(apps)
    federated = FederatedEngine(
        SCHEMA_PATH.read_text(),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
    )
    gateway = create_gateway_app(federated, clients=TRUSTED_CALLERS)
    async with contextlib.AsyncExitStack() as stack:
        domains = await stack.enter_async_context(running_subgraphs(apps))
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        transport = httpx.ASGITransport(app=gateway)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60)
        )
        await seed(domains)
        yield Shop(client, domains)
    await runtime.close()
    if backend == "sqlite":
        for engine in engines.values():
            await engine.dispose()
