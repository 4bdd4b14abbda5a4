"""The demo orders load on SQLite, cover the lifecycle, and answer realistic queries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from adapters.db.engine import create_engine
from domains.orders import tables
from domains.orders.app import create_app
from domains.orders.model import OrderStatus
from retailgraph.demo import orders as demo_orders
from retailgraph.demo.catalog import demo_catalog
from tests.integration.orders.conftest import Subgraph, runtime


@pytest.fixture(scope="module")
async def demo_subgraph(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Subgraph]:
    path: Path = tmp_path_factory.mktemp("orders-demo") / "orders.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    app = create_app(runtime(), engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            subgraph = Subgraph(app, client)
            await demo_orders.load(subgraph.domain, demo_catalog())
            yield subgraph
    await engine.dispose()


async def count(subgraph: Subgraph, table: object) -> int:
    async with subgraph.domain.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_demo_orders_cover_every_status_and_load_once(demo_subgraph: Subgraph) -> None:
    async with demo_subgraph.domain.engine.connect() as conn:
        statuses = set((await conn.execute(select(tables.orders.c.status))).scalars())
    assert statuses == {status.value for status in OrderStatus}
    orders, events = (
        await count(demo_subgraph, tables.orders),
        await count(demo_subgraph, tables.outbox),
    )
    assert orders == demo_orders.ORDERS
    await demo_orders.load(demo_subgraph.domain, demo_catalog())
    assert (
        await count(demo_subgraph, tables.orders),
        await count(demo_subgraph, tables.outbox),
    ) == (
        orders,
        events,
    )


async def test_demo_answers_pickups_in_berlin_and_recent_orders_of_a_featured_product(
    demo_subgraph: Subgraph,
) -> None:
    pickups = await demo_subgraph.post(
        '{ orders(locationId: "STORE-BERLIN", first: 50) { edges { node { '
        "number channel status fulfilment { type } totals { total { amount currency } } "
        "history { to } } } } }"
    )
    nodes = [edge["node"] for edge in pickups["data"]["orders"]["edges"]]
    assert len(nodes) >= 5
    assert {node["fulfilment"]["type"] for node in nodes} == {"PICKUP_AT_STORE"}
    assert {node["channel"] for node in nodes} >= {"store", "web"}
    refunded = [node for node in nodes if node["status"] == "REFUNDED"]
    for node in refunded:
        assert node["history"][-1] == {"to": "REFUNDED"}

    featured = demo_catalog().featured_skus[0]
    recent = await demo_subgraph.post(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { "
        "recentOrders(first: 3) { number createdAt lines { sku promotionalUnitPrice { amount } } "
        "} } } }",
        {"r": [{"__typename": "Product", "sku": featured}]},
    )
    found = recent["data"]["_entities"][0]["recentOrders"]
    assert len(found) == 3
    assert [o["createdAt"] for o in found] == sorted((o["createdAt"] for o in found), reverse=True)
    assert all(any(line["sku"] == featured for line in o["lines"]) for o in found)
