"""Stock changes reach subscribers on every gateway replica, through every inventory
replica, on the Redis Streams bus: once each, in order, with the product's name.

Two inventory replicas share one database and one Redis; each gateway replica reaches
its own inventory replica over the network, and the products subgraph for names.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from starlette.applications import Starlette

from adapters.bus.redis_streams import RedisStreamsBus
from adapters.cache import MemoryStore
from adapters.runtime import Runtime
from domains.inventory.app import create_app as inventory_app
from domains.products import service as products_service
from domains.products.app import create_app as products_app
from gateway.app import create_app as gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from retailgraph.supergraph import SCHEMA_PATH
from tests.conftest import EngineFactory
from tests.e2e.gateway.subscriptions.served import (
    WAIT,
    closed_with,
    eventually,
    receive,
    send,
    served,
    socket_to,
    subscribe,
)
from tests.integration.inventory.conftest import seed_locations
from tests.services import require_redis
from tests.support import TRUSTED_CALLERS, suite_clock

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STOCK = """
subscription Stock($at: ID!, $skus: [ID!], $after: String) {
  stockChanged(locationId: $at, skus: $skus, after: $after) {
    cursor sku locationId stockLevel { onHand } product { name }
  }
}
"""
MOVE = """
mutation Move($movement: StockMovementInput!) {
  applyStockMovements(movements: [$movement]) { rejected { code message } }
}
"""


@dataclass
class Replicas:
    gateways: list[str]
    """The gateways' ``host:port``; gateway i reaches inventory replica i."""
    engines: list[FederatedEngine]
    inventories: list[Starlette]
    skus: list[str]
    """Three products of this test alone."""

    def hub_subscribers(self, replica: int) -> int:
        count: int = self.inventories[replica].state.domain.runtime.hub.subscriber_count
        return count

    async def receive_stock(self, replica: int, sku: str, quantity: int, line: int) -> None:
        """A receipt applied through gateway ``replica`` (so inventory replica ``replica``)."""
        movement = {
            "type": "RECEIPT",
            "sku": sku,
            "locationId": "ST",
            "quantity": quantity,
            "sourceDocumentId": f"ASN-{sku}",
            "lineNumber": line,
        }
        async with httpx.AsyncClient(timeout=WAIT) as client:
            response = await client.post(
                f"http://{self.gateways[replica]}/graphql",
                json={"query": MOVE, "variables": {"movement": movement}},
            )
        body = response.json()
        assert body == {"data": {"applyStockMovements": {"rejected": []}}}, body


@pytest.fixture
async def replicas(make_engine: EngineFactory) -> AsyncIterator[Replicas]:
    url = require_redis()
    prefix = f"test:{uuid.uuid4().hex[:12]}"
    clients = [redis.Redis.from_url(url) for _ in range(2)]
    database = await make_engine()
    style = f"T{uuid.uuid4().hex[:8]}"
    skus = [f"{style}-{n:02d}" for n in (1, 2, 3)]
    async with contextlib.AsyncExitStack() as stack:
        inventories: list[Starlette] = []
        inventory_urls: list[str] = []
        for index, client in enumerate(clients):
            bus = RedisStreamsBus(client, prefix=prefix, consumer_name=f"inventory-{index}")
            runtime = Runtime(
                bus=bus, cache=MemoryStore(), migrate_on_start=True, clock=suite_clock()
            )
            app = inventory_app(runtime, engine=database)
            address = await stack.enter_async_context(served(app))
            stack.push_async_callback(runtime.close)
            inventories.append(app)
            inventory_urls.append(f"http://{address}/graphql")
        await seed_locations(inventories[0].state.domain)
        products = products_app(
            Runtime(cache=MemoryStore(), migrate_on_start=True, clock=suite_clock()),
            engine=await make_engine(),
        )
        products_address = await stack.enter_async_context(served(products))
        await products_service.import_items(products.state.domain.uow(), [_item(s) for s in skus])
        gateways, engines = [], []
        for inventory_url in inventory_urls:
            engine = FederatedEngine(
                SCHEMA_PATH.read_text(),
                subgraphs={
                    "inventory": SubgraphOptions(url=inventory_url),
                    "products": SubgraphOptions(url=f"http://{products_address}/graphql"),
                },
            )
            trusted = gateway_app(engine, clients=TRUSTED_CALLERS)
            gateways.append(await stack.enter_async_context(served(trusted)))
            engines.append(engine)
        yield Replicas(gateways, engines, inventories, skus)
    for client in clients:
        await client.aclose()


def _item(sku: str) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Name of {sku}",
        "description": "",
        "brand": "Northwind",
        "category": "apparel/tops",
        "unit_of_measure": "EA",
        "style": sku.rsplit("-", 1)[0],
        "attributes": {},
        "variant": {},
    }


async def events_until(websocket: Any, last: dict[str, int]) -> dict[str, list[tuple[int, str]]]:
    """``(onHand, name)`` per SKU, read until each SKU of ``last`` reached its on-hand
    quantity there. Order holds per SKU and location (the partition), not across them."""
    seen: dict[str, list[tuple[int, str]]] = {}

    def reached(sku: str, on_hand: int) -> bool:
        return bool(seen.get(sku)) and seen[sku][-1][0] == on_hand

    while not all(reached(sku, on_hand) for sku, on_hand in last.items()):
        message = await receive(websocket)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        change = message["payload"]["data"]["stockChanged"]
        on_hand, name = change["stockLevel"]["onHand"], change["product"]["name"]
        seen.setdefault(change["sku"], []).append((on_hand, name))
    return seen


def named(sku: str, *quantities: int) -> list[tuple[int, str]]:
    return [(quantity, f"Name of {sku}") for quantity in quantities]


async def test_a_stock_movement_reaches_every_gateway_replica_once_and_in_order(
    replicas: Replicas,
) -> None:
    first, second, end = replicas.skus
    variables = {"at": "ST", "skus": replicas.skus}
    async with (
        socket_to(replicas.gateways[0]) as on_a,
        socket_to(replicas.gateways[0]) as also_on_a,
        socket_to(replicas.gateways[1]) as on_b,
    ):
        for websocket in (on_a, also_on_a, on_b):
            await send(websocket, subscribe("stock", STOCK, **variables))
        await eventually(lambda: replicas.engines[0].subscriptions.subscribers == 2)
        await eventually(lambda: replicas.hub_subscribers(0) == 1)  # shared by both on A
        await eventually(lambda: replicas.hub_subscribers(1) == 1)

        movements = [(first, 5), (second, 1), (first, 2), (second, 4), (first, 1), (end, 1)]
        # then one more unit of each: it comes after everything else of its SKU, so a
        # duplicate of an earlier event would show before it
        movements += [(first, 1), (second, 1), (end, 1)]
        for line, (sku, quantity) in enumerate(movements, start=1):
            await replicas.receive_stock(0, sku, quantity, line)

        expected = {
            first: named(first, 5, 7, 8, 9),
            second: named(second, 1, 5, 6),
            end: named(end, 1, 2),
        }
        for websocket in (on_a, also_on_a, on_b):
            assert await events_until(websocket, {first: 9, second: 6, end: 2}) == expected


async def test_a_subscriber_that_reconnects_after_its_cursor_gets_no_duplicates(
    replicas: Replicas,
) -> None:
    first, _, end = replicas.skus
    variables: dict[str, Any] = {"at": "ST", "skus": replicas.skus}
    async with socket_to(replicas.gateways[0]) as websocket:
        await send(websocket, subscribe("stock", STOCK, **variables))
        await eventually(lambda: replicas.hub_subscribers(0) == 1)
        await replicas.receive_stock(0, first, 1, 1)
        await replicas.receive_stock(0, first, 1, 2)
        seen = [await receive(websocket) for _ in range(2)]
    cursor = seen[-1]["payload"]["data"]["stockChanged"]["cursor"]
    await eventually(lambda: replicas.hub_subscribers(0) == 0)

    await replicas.receive_stock(0, first, 1, 3)  # while the subscriber is away
    async with socket_to(replicas.gateways[1]) as websocket:
        await send(websocket, subscribe("again", STOCK, **variables, after=cursor))
        await eventually(lambda: replicas.hub_subscribers(1) == 1)
        await replicas.receive_stock(1, end, 1, 1)

        assert await events_until(websocket, {first: 3, end: 1}) == {
            first: named(first, 3),
            end: named(end, 1),
        }


async def test_a_malformed_message_closes_its_socket_and_the_others_keep_receiving(
    replicas: Replicas,
) -> None:
    first, _, end = replicas.skus
    variables = {"at": "ST", "skus": replicas.skus}
    async with (
        socket_to(replicas.gateways[0]) as polite,
        socket_to(replicas.gateways[0]) as rude,
        socket_to(replicas.gateways[1]) as elsewhere,
    ):
        for websocket in (polite, rude, elsewhere):
            await send(websocket, subscribe("stock", STOCK, **variables))
        await eventually(lambda: replicas.engines[0].subscriptions.subscribers == 2)
        await eventually(lambda: replicas.hub_subscribers(0) == 1)
        await eventually(lambda: replicas.hub_subscribers(1) == 1)

        await rude.send('{"type": "subscribe", "id": "stock"}')

        assert (await closed_with(rude))[0] == 4400
        await replicas.receive_stock(1, first, 2, 1)
        await replicas.receive_stock(1, end, 1, 1)
        expected = {first: named(first, 2), end: named(end, 1)}
        assert await events_until(polite, {first: 2, end: 1}) == expected
        assert await events_until(elsewhere, {first: 2, end: 1}) == expected
