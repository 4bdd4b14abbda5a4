"""Subscriptions through the gateway: the root field from its owner over WebSocket, the
other subgraphs' fields per event, shared upstreams, and release on disconnect."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.app import create_app
from gateway.federated import FederatedEngine
from gateway.supergraph.compose import compose_from_urls
from tests.e2e.gateway.subscriptions.conftest import LiveGateway
from tests.e2e.gateway.subscriptions.served import (
    eventually,
    receive,
    send,
    served,
    socket_to,
    subscribe,
)
from tests.e2e.gateway.subscriptions.subgraphs import StockEvent, StockFeed, subgraph_apps

STOCK_WITH_NAMES = """
subscription StockAt($at: ID!) {
  stockChanged(locationId: $at) { sku onHand product { name } }
}
"""


def stock_data(sku: str, on_hand: int) -> dict[str, object]:
    return {"stockChanged": {"sku": sku, "onHand": on_hand, "product": {"name": f"Name of {sku}"}}}


async def test_each_event_gets_the_fields_other_subgraphs_own(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("s", STOCK_WITH_NAMES, at="DC-1"))
        await eventually(lambda: gateway.feed.active == 1)

        gateway.feed.publish(StockEvent("A-1", "DC-1", 5))
        gateway.feed.publish(StockEvent("B-2", "DC-1", 0))
        gateway.feed.publish(StockEvent("C-3", "DC-2", 9))  # another store: not for us
        gateway.feed.publish(StockEvent("A-1", "DC-1", 4))

        received = [(await receive(websocket))["payload"] for _ in range(3)]
        assert received == [
            {"data": stock_data("A-1", 5)},
            {"data": stock_data("B-2", 0)},
            {"data": stock_data("A-1", 4)},
        ]


async def test_identical_subscriptions_share_one_upstream_subscription(
    gateway: LiveGateway,
) -> None:
    async with (
        socket_to(gateway.address) as first,
        socket_to(gateway.address) as second,
        socket_to(gateway.address) as elsewhere,
    ):
        await send(first, subscribe("1", STOCK_WITH_NAMES, at="DC-1"))
        await send(second, subscribe("2", STOCK_WITH_NAMES, at="DC-1"))
        await send(elsewhere, subscribe("3", STOCK_WITH_NAMES, at="DC-2"))
        await eventually(lambda: gateway.engine.subscriptions.subscribers == 3)
        await eventually(lambda: gateway.feed.active == 2)

        gateway.feed.publish(StockEvent("A-1", "DC-1", 5))
        gateway.feed.publish(StockEvent("A-1", "DC-2", 6))

        assert (await receive(first))["payload"] == {"data": stock_data("A-1", 5)}
        assert (await receive(second))["payload"] == {"data": stock_data("A-1", 5)}
        assert (await receive(elsewhere))["payload"] == {"data": stock_data("A-1", 6)}
        assert gateway.feed.opened == 2
        assert gateway.feed.active == 2


async def test_the_upstream_stays_open_until_the_last_sharing_client_leaves(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as staying:
        await send(staying, subscribe("1", STOCK_WITH_NAMES, at="DC-1"))
        async with socket_to(gateway.address) as leaving:
            await send(leaving, subscribe("2", STOCK_WITH_NAMES, at="DC-1"))
            await eventually(lambda: gateway.engine.subscriptions.subscribers == 2)
            await eventually(lambda: gateway.feed.active == 1)
            assert gateway.engine.subscriptions.upstream_subscriptions == 1
        gateway.feed.publish(StockEvent("A-1", "DC-1", 3))

        assert (await receive(staying))["payload"] == {"data": stock_data("A-1", 3)}
        assert gateway.feed.active == 1
    await eventually(lambda: gateway.feed.active == 0)
    assert gateway.engine.subscriptions.upstream_subscriptions == 0


async def test_a_client_that_disconnects_releases_its_upstream_subscriptions(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("a", STOCK_WITH_NAMES, at="DC-1"))
        await send(websocket, subscribe("b", STOCK_WITH_NAMES, at="DC-2"))
        await eventually(lambda: gateway.feed.active == 2)

    await eventually(lambda: gateway.feed.active == 0)
    assert gateway.engine.subscriptions.upstream_subscriptions == 0


async def test_subscriptions_reach_network_subgraphs_over_websocket() -> None:
    feed = StockFeed()
    subgraphs = Starlette(
        routes=[Mount(f"/{name}", app) for name, app in subgraph_apps(feed).items()]
    )
    async with served(subgraphs) as subgraphs_address, contextlib.AsyncExitStack() as stack:
        urls = {name: f"http://{subgraphs_address}/{name}/graphql" for name in ("stock", "catalog")}
        engine = FederatedEngine(await compose_from_urls(urls))
        address = await stack.enter_async_context(served(create_app(engine)))
        async with socket_to(address) as websocket:
            await send(websocket, subscribe("s", STOCK_WITH_NAMES, at="DC-1"))
            await eventually(lambda: feed.active == 1)
            feed.publish(StockEvent("A-1", "DC-1", 2))

            assert (await receive(websocket))["payload"] == {"data": stock_data("A-1", 2)}

        await eventually(lambda: feed.active == 0)
