"""Read models stay fresh across replicas on Redis: a query on one replica right after a
change made through another sees the new value, with warm caches in Redis."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import RedisStreamsBus
from adapters.cache import RedisStore
from adapters.runtime import Runtime
from domains.inventory import tables as inventory_tables
from domains.inventory.app import create_app as inventory_app
from domains.pricing import tables as pricing_tables
from domains.pricing.app import create_app as pricing_app
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import new_sku, seed_locations
from tests.integration.pricing.support import live_promotion, percent_terms, seed_prices
from tests.services import require_redis
from tests.support import serving, suite_clock

pytestmark = pytest.mark.redis

AVAILABILITY = """query ($sku: String!) {
  _entities(representations: [{__typename: "Product", sku: $sku}]) {
    ... on Product { availability(channel: "web") { available } }
  }
}"""

RECEIVE = """mutation ($sku: ID!) {
  applyStockMovements(movements: [{type: RECEIPT, sku: $sku, locationId: "DC", quantity: 4,
                                   sourceDocumentId: "GRN-1"}]) { applied { sku } }
}"""

PRICE = """{
  _entities(representations: [{__typename: "Product", sku: "TOP-1"}]) {
    ... on Product { price(channel: "web", currency: "EUR") { promotional { amount } } }
  }
}"""


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


@contextlib.asynccontextmanager
async def replicas(
    make_app: Any, make_engine: EngineFactory, metadata: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Any]]:
    """Two replicas of one subgraph on one database, one Redis bus and one Redis cache."""
    engine: AsyncEngine = await make_engine()
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    prefix = f"test-rm-{uuid.uuid4().hex}"
    clients = [redis.Redis.from_url(require_redis()) for _ in range(2)]
    runtimes = [
        Runtime(
            bus=RedisStreamsBus(c, prefix=prefix, shards=4, block=0.05, lease=0.3),
            cache=RedisStore(c, prefix=f"{prefix}:"),  # other tests' caches apart
            migrate_on_start=False,
            clock=suite_clock(),
        )
        for c in clients
    ]
    apps = [make_app(runtime, engine=await make_engine()) for runtime in runtimes]
    try:
        async with serving(apps[0], "http://one") as one, serving(apps[1], "http://two") as two:
            yield one, two, apps[0].state.domain
    finally:
        for runtime in runtimes:
            await runtime.close()
        for client in clients:
            await client.aclose()


async def test_availability_read_on_one_replica_right_after_a_movement_on_another_is_new(
    make_engine: EngineFactory,
) -> None:
    sku = new_sku()
    async with replicas(inventory_app, make_engine, inventory_tables.metadata) as (
        one,
        two,
        domain,
    ):
        await seed_locations(domain)
        before = await post(two, AVAILABILITY, sku=sku)  # cached in Redis now
        assert before["_entities"] == [{"availability": {"available": 0}}]
        await post(one, RECEIVE, sku=sku)
        after = await post(two, AVAILABILITY, sku=sku)
        assert after["_entities"] == [{"availability": {"available": 4}}]


async def test_price_read_on_one_replica_right_after_a_promotion_pause_on_another_is_new(
    make_engine: EngineFactory,
) -> None:
    async with replicas(pricing_app, make_engine, pricing_tables.metadata) as (one, two, domain):
        await seed_prices(domain)
        promotion_id = f"PROMO-{uuid.uuid4().hex[:8]}"
        await live_promotion(domain, percent_terms(skus=["TOP-1"], categories=[]), promotion_id)
        before = await post(two, PRICE)  # the live promotions are cached in Redis now
        assert before["_entities"] == [{"price": {"promotional": {"amount": "16.00"}}}]
        await post(one, "mutation ($id: ID!) { pausePromotion(id: $id) { id } }", id=promotion_id)
        after = await post(two, PRICE)
        assert after["_entities"] == [{"price": {"promotional": {"amount": "20.00"}}}]
