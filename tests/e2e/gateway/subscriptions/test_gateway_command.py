"""``retailgraph gateway`` serves subscriptions from network subgraphs, behind API keys."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.security.clients import key_hash
from gateway.supergraph.compose import compose_from_urls
from tests.e2e.gateway.server import RunningServer, running_command
from tests.e2e.gateway.subscriptions.served import closed_with, receive, send, socket_to
from tests.e2e.gateway.subscriptions.subgraphs import StockFeed, subgraph_apps
from tests.e2e.gateway.threaded import serving_in_thread

COUNTDOWN = {"query": "subscription { countdown(start: 2) }"}


def test_the_gateway_command_serves_subscriptions_to_holders_of_an_api_key(
    tmp_path: Path,
) -> None:
    apps = subgraph_apps(StockFeed())
    subgraphs = Starlette(routes=[Mount(f"/{name}", app) for name, app in apps.items()])
    # A members-only gateway: one client whose key is being rotated, no anonymous caller.
    settings = tmp_path / "retailgraph.toml"
    settings.write_text(
        "[gateway.anonymous]\nenabled = false\n"
        "[gateway.clients.member]\n"
        f'api_key_hashes = ["{key_hash("key-1")}", "{key_hash("key-2")}"]\n'
    )
    with serving_in_thread(subgraphs) as base_url:
        urls = {name: f"{base_url}/{name}/graphql" for name in apps}
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(asyncio.run(compose_from_urls(urls)))
        with running_command(
            "gateway", "--supergraph", str(supergraph), "--config", str(settings)
        ) as server:
            address = server.url.removeprefix("http://")
            refused, frames = asyncio.run(_over_websocket(address))
            streamed = httpx.post(
                f"{server.url}/graphql",
                json=COUNTDOWN,
                headers={"accept": "text/event-stream", "authorization": "Bearer key-1"},
            )

    assert refused == (4401, "Unauthorized")
    assert frames == [
        {"id": "1", "type": "next", "payload": {"data": {"countdown": 2}}},
        {"id": "1", "type": "next", "payload": {"data": {"countdown": 1}}},
        {"id": "1", "type": "complete"},
    ]
    assert streamed.text == (
        'event: next\ndata: {"data":{"countdown":2}}\n\n'
        'event: next\ndata: {"data":{"countdown":1}}\n\n'
        "event: complete\ndata: \n\n"
    )


async def _over_websocket(address: str) -> tuple[tuple[int | None, str | None], list[object]]:
    async with socket_to(address, init=False) as websocket:
        await send(websocket, {"type": "connection_init", "payload": {"apiKey": "nope"}})
        refused = await closed_with(websocket)
    async with socket_to(address, payload={"apiKey": "key-2"}) as websocket:
        await send(websocket, {"id": "1", "type": "subscribe", "payload": COUNTDOWN})
        frames = [await receive(websocket) for _ in range(3)]
    return refused, frames


def test_the_gateway_command_exits_cleanly_on_sigterm_with_subscribers_connected(
    tmp_path: Path,
) -> None:
    apps = subgraph_apps(StockFeed())
    subgraphs = Starlette(routes=[Mount(f"/{name}", app) for name, app in apps.items()])
    with serving_in_thread(subgraphs) as base_url:
        urls = {name: f"{base_url}/{name}/graphql" for name in apps}
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(asyncio.run(compose_from_urls(urls)))
        with running_command("gateway", "--supergraph", str(supergraph)) as server:
            closed, (status, output) = asyncio.run(_terminated_while_subscribed(server))

    assert status == 0, output
    assert closed[0] is not None
    assert "Traceback" not in output


async def _terminated_while_subscribed(
    server: RunningServer,
) -> tuple[tuple[int | None, str | None], tuple[int, str]]:
    stock = 'subscription { stockChanged(locationId: "DC-1") { sku } }'
    async with socket_to(server.url.removeprefix("http://")) as websocket:
        await send(websocket, {"id": "1", "type": "subscribe", "payload": {"query": stock}})
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}
        # a bound for a busy machine: uvicorn's own graceful shutdown allows 10 s
        stopped = asyncio.create_task(asyncio.to_thread(server.terminate, 30.0))
        closed = await closed_with(websocket)
        return closed, await stopped
