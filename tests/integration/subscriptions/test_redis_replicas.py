"""Subscriptions on Redis Streams across two inventory replicas sharing one database and
one Redis: what one replica applies reaches subscribers on both exactly once, in order,
and a cursor from one replica resumes on the other."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from adapters.bus import RedisStreamsBus
from adapters.cache import RedisStore
from adapters.runtime import Runtime
from domains.inventory import tables
from domains.inventory.app import create_app
from domains.inventory.bootstrap import InventoryDomain
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import new_sku, seed_locations
from tests.live_subscriptions import serving_over_tcp, subscribers_reach, ws_client
from tests.services import require_redis
from tests.support import suite_clock

pytestmark = pytest.mark.redis

STOCK = """subscription ($loc: ID!, $skus: [ID!], $after: String) {
  stockChanged(locationId: $loc, skus: $skus, after: $after) {
    cursor stockLevel { onHand }
  }
}"""

MOVE = """mutation ($m: [StockMovementInput!]!) {
  applyStockMovements(movements: $m) { applied { sku } rejected { code } }
}"""


class Replica:
    def __init__(self, base_url: str, domain: InventoryDomain) -> None:
        self.ws_url = base_url
        self.http_url = base_url.replace("ws://", "http://")
        self.domain = domain

    async def receive_stock(self, sku: str, quantity: int) -> None:
        """A receipt of ``quantity`` units of ``sku`` at the DC, through this replica."""
        movement = {
            "type": "RECEIPT",
            "sku": sku,
            "locationId": "DC",
            "quantity": quantity,
            "sourceDocumentId": f"GRN-{uuid.uuid4().hex[:8]}",
        }
        async with httpx.AsyncClient(base_url=self.http_url) as client:
            response = await client.post(
                "/graphql", json={"query": MOVE, "variables": {"m": [movement]}}
            )
        body: dict[str, Any] = response.json()
        assert body["data"]["applyStockMovements"]["applied"] == [{"sku": sku}], body


@contextlib.asynccontextmanager
async def replica(make_engine: EngineFactory, prefix: str) -> AsyncIterator[Replica]:
    client = redis.Redis.from_url(require_redis())
    bus = RedisStreamsBus(client, prefix=prefix, shards=4, block=0.05, lease=0.3)
    cache = RedisStore(client, prefix=f"{prefix}:")
    runtime = Runtime(bus=bus, cache=cache, migrate_on_start=False, clock=suite_clock())
    app = create_app(runtime, engine=await make_engine())
    try:
        async with serving_over_tcp(app) as base_url:
            yield Replica(base_url, app.state.domain)
    finally:
        await runtime.close()
        await client.aclose()


@pytest.fixture
async def replicas(make_engine: EngineFactory) -> AsyncIterator[tuple[Replica, Replica]]:
    engine = await make_engine()
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all)
    prefix = f"test-subs-{uuid.uuid4().hex}"
    async with replica(make_engine, prefix) as one, replica(make_engine, prefix) as two:
        await seed_locations(one.domain)
        yield one, two


async def on_hands(client: Any, operation_id: str, count: int) -> list[int]:
    return [
        (await client.next_data(operation_id))["stockChanged"]["stockLevel"]["onHand"]
        for _ in range(count)
    ]


async def test_a_movement_through_one_replica_reaches_subscribers_on_both_once_in_order(
    replicas: tuple[Replica, Replica],
) -> None:
    one, two = replicas
    sku = new_sku()
    variables = {"loc": "DC", "skus": [sku]}
    async with ws_client(one.ws_url) as on_one, ws_client(two.ws_url) as on_two:
        await on_one.subscribe("s", STOCK, variables)
        await on_two.subscribe("s", STOCK, variables)
        await subscribers_reach(one.domain.runtime.hub, 1)
        await subscribers_reach(two.domain.runtime.hub, 1)
        for quantity in range(1, 6):
            await one.receive_stock(sku, quantity)
        assert await on_hands(on_two, "s", 5) == [1, 3, 6, 10, 15]
        assert await on_hands(on_one, "s", 5) == [1, 3, 6, 10, 15]
        # Nothing came twice: the next frame on each is the next change.
        await two.receive_stock(sku, 6)
        assert await on_hands(on_two, "s", 1) == [21]
        assert await on_hands(on_one, "s", 1) == [21]


async def test_a_cursor_from_one_replica_resumes_on_the_other_with_no_gap_or_duplicate(
    replicas: tuple[Replica, Replica],
) -> None:
    one, two = replicas
    sku = new_sku()
    variables = {"loc": "DC", "skus": [sku]}
    async with ws_client(one.ws_url) as client:
        await client.subscribe("s", STOCK, variables)
        await subscribers_reach(one.domain.runtime.hub, 1)
        await one.receive_stock(sku, 1)
        cursor = (await client.next_data("s"))["stockChanged"]["cursor"]
    await one.receive_stock(sku, 2)  # missed while disconnected
    await one.receive_stock(sku, 3)  # missed while disconnected
    async with ws_client(two.ws_url) as client:
        await client.subscribe("s", STOCK, {**variables, "after": cursor})
        await subscribers_reach(two.domain.runtime.hub, 1)
        await one.receive_stock(sku, 4)
        assert await on_hands(client, "s", 3) == [3, 6, 10]
        await two.receive_stock(sku, 5)
        assert await on_hands(client, "s", 1) == [15]
