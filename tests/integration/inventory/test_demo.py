"""The demo retailer's stock loads into inventory, once, and the subgraph answers for it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.runtime import Runtime
from domains.inventory import tables
from domains.inventory.app import create_app
from retailgraph.demo import inventory as demo
from retailgraph.demo.catalog import demo_catalog
from tests.integration.inventory.conftest import gql, serve
from tests.support import suite_clock


@pytest.fixture
def backend() -> str:
    # The demo runs on the embedded default; the service layer it uses is tested on both.
    return "sqlite"


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_demo_stock_loads_once_and_answers_a_product_page_query(
    engine: AsyncEngine,
) -> None:
    catalog = demo_catalog()
    runtime = Runtime(
        bus=InProcessBus(), cache=MemoryStore(), migrate_on_start=True, clock=suite_clock()
    )
    async with serve(create_app(runtime, engine=engine), seed=False) as (client, domain):
        await demo.load(domain, catalog)
        assert await _count(engine, tables.stock) == len(catalog.stock)
        reservations = await _count(engine, tables.reservations)
        assert 0 < reservations <= demo.RESERVATIONS
        outbox = await _count(engine, tables.outbox)
        await demo.load(domain, catalog)
        assert await _count(engine, tables.outbox) == outbox, "a second load changes nothing"

        sku = catalog.featured_skus[0]
        body = await gql(
            client,
            """query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
                web: availability(channel: "web") { available countsIncoming
                     locations { locationId allocated location { name } } }
                store: availability(channel: "store") { available }
                stockLevels { locationId onHand reserved incoming available } } } }""",
            {"r": [{"__typename": "Product", "sku": sku}]},
        )
    assert "errors" not in body
    product = body["data"]["_entities"][0]
    rows = {row.location_id: row for row in catalog.stock if row.sku == sku}
    assert {level["locationId"] for level in product["stockLevels"]} == set(rows)
    assert product["web"]["countsIncoming"] is True
    assert product["web"]["available"] > 0
    names = {loc["location"]["name"] for loc in product["web"]["locations"]}
    assert "Distribution centre North" in names
    reserved = sum(level["reserved"] for level in product["stockLevels"])
    assert reserved > 0, "the first demo SKU carries a demo reservation"
