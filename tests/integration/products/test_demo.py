"""The demo retailer's catalogue loads into the products subgraph, which then answers."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db.engine import DatabaseLocations
from adapters.runtime import Runtime
from domains.products import repository
from domains.products.app import create_app
from domains.products.model import check_filter
from retailgraph.demo import products as demo
from retailgraph.demo.catalog import demo_catalog
from tests.support import suite_clock

QUERY = """
{
  products(first: 3, filter: {category: "apparel", channel: "store", search: "polo"}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { sku name brand category style publishedIn(channel: "store")
                   variantAttributes { name value } variants { sku } } }
  }
  featured: product(sku: "ST-0001-01") { name publications { channel published since } }
}
"""


async def test_demo_catalogue_loads_once_and_the_subgraph_answers(tmp_path: Path) -> None:
    catalog = demo_catalog()
    runtime = Runtime(
        bus=InProcessBus(),
        cache=MemoryStore(),
        databases=DatabaseLocations(
            per_domain={"products": f"sqlite+aiosqlite:///{tmp_path / 'products.db'}"}
        ),
        migrate_on_start=True,
        clock=suite_clock(),
    )
    app = create_app(runtime)
    async with app.router.lifespan_context(app):
        domain = app.state.domain
        await demo.load(domain, catalog)
        count_events = select(func.count()).select_from(repository.outbox)
        async with domain.engine.connect() as conn:
            events = (await conn.execute(count_events)).scalar_one()
            stored = await repository.count_products(conn, check_filter())
        assert stored == len(catalog.items) == 2000
        await demo.load(domain, catalog)  # already there: nothing happens
        async with domain.engine.connect() as conn:
            assert (await conn.execute(count_events)).scalar_one() == events

        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://products") as client:
            response = await client.post("/graphql", json={"query": QUERY})
    body = response.json()
    assert "errors" not in body, body["errors"]
    page = body["data"]["products"]
    expected = [
        item
        for item in catalog.items
        if item.category.startswith("apparel/")
        and "store" in item.channels
        and "polo" in item.name.lower()
    ]
    assert page["totalCount"] == len(expected) > 3
    assert page["pageInfo"]["hasNextPage"] is True
    first = page["edges"][0]["node"]
    item = min(expected, key=lambda i: i.sku)
    assert (first["sku"], first["name"], first["style"]) == (item.sku, item.name, item.style)
    assert first["publishedIn"] is True
    assert {v["name"]: v["value"] for v in first["variantAttributes"]} == item.variant
    siblings = sorted(i.sku for i in catalog.items if i.style == item.style and i != item)
    assert [v["sku"] for v in first["variants"]] == siblings
    featured = body["data"]["featured"]
    published = {p["channel"] for p in featured["publications"] if p["published"]}
    assert published == set(catalog.items[0].channels)
    assert featured["publications"][0]["since"] == demo.PUBLISHED_SINCE.isoformat()
