"""Long-lived connections are counted per client: a WebSocket past the client's
``max_connections`` is closed with 4429, a subscription past its ``max_subscriptions``
(across its sockets and streams) or past its request quota gets ``RATE_LIMITED``, and
closing frees the slot. SSE streams count as connections. With Redis, replicas count
together."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as redis
from websockets.exceptions import ConnectionClosed

from gateway.security.clients import Client, ClientDirectory, key_hash
from gateway.security.quotas import Quotas, local_quotas, shared_quotas
from gateway.security.ratelimit import LocalConnectionCounter, LocalRateLimiter, RatePolicy
from kernel.clock import SettableClock
from tests.e2e.gateway.subscriptions.conftest import LiveGateway, live_gateway
from tests.e2e.gateway.subscriptions.served import (
    WAIT,
    closed_with,
    eventually,
    receive,
    send,
    socket_to,
    subscribe,
)
from tests.services import require_redis
from tests.support import TEST_NOW

STOCK = "subscription ($at: ID!) { stockChanged(locationId: $at) { sku } }"
KEY = {"apiKey": "shop-key"}
SHOP = Client(
    "shop",
    key_hashes=frozenset({key_hash("shop-key")}),
    rate_limit=RatePolicy("shop", quota=100, window=60),
    max_connections=2,
    max_subscriptions=2,
)


@contextlib.asynccontextmanager
async def limited_gateway(
    client: Client = SHOP, quotas: Quotas | None = None
) -> AsyncIterator[LiveGateway]:
    async with live_gateway(
        clients=ClientDirectory([client]),
        quotas=quotas or local_quotas(SettableClock(TEST_NOW)),
    ) as live:
        yield live


def codes(message: dict[str, object]) -> list[str]:
    payload = message["payload"]
    assert isinstance(payload, list)
    return [error["extensions"]["code"] for error in payload]


async def admitted(address: str) -> bool:
    """Whether a new socket of the client's is acknowledged (else it is closed)."""
    async with socket_to(address, init=False) as websocket:
        await send(websocket, {"type": "connection_init", "payload": KEY})
        with contextlib.suppress(ConnectionClosed):
            return await receive(websocket) == {"type": "connection_ack"}
    return False


async def test_a_socket_past_the_clients_connections_is_closed_and_closing_one_frees_it() -> None:
    async with limited_gateway() as live:
        async with (
            socket_to(live.address, payload=KEY),
            socket_to(live.address, payload=KEY),
            socket_to(live.address, init=False) as third,
        ):
            await send(third, {"type": "connection_init", "payload": KEY})
            code, reason = await closed_with(third)
        # Closed: there is room again (the server sees the close a moment later).
        await eventually(lambda: admitted(live.address))

    assert (code, reason) == (4429, "Too many connections")


async def test_subscriptions_past_the_clients_cap_across_sockets_get_rate_limited() -> None:
    clock = SettableClock(TEST_NOW)
    running = LocalConnectionCounter()
    quotas = Quotas(
        LocalRateLimiter(clock), connections=LocalConnectionCounter(), subscriptions=running
    )
    async with (
        limited_gateway(quotas=quotas) as live,
        socket_to(live.address, payload=KEY) as first,
        socket_to(live.address, payload=KEY) as second,
    ):
        # Each at its own location: one subgraph subscription each, counted by the feed.
        await send(first, subscribe("a", STOCK, at="DC-1"))
        await send(second, subscribe("b", STOCK, at="DC-2"))
        await eventually(lambda: live.feed.active == 2)
        await send(first, subscribe("c", STOCK, at="DC-3"))
        refused = await receive(first)
        # A query is no subscription: it runs.
        await send(second, subscribe("q", '{ product(sku: "A-1") { name } }'))
        answered = await receive(second)

        await send(second, {"id": "b", "type": "complete"})
        await eventually(lambda: _counted(running, "shop", 1))
        await send(first, subscribe("d", STOCK, at="DC-4"))
        await eventually(lambda: live.feed.active == 2)
        await send(first, {"type": "ping"})
        after = await receive(first)

    assert refused["id"] == "c"
    assert refused["type"] == "error"
    assert codes(refused) == ["RATE_LIMITED"]
    assert answered["type"] == "next"
    assert after == {"type": "pong"}


async def test_each_subscribe_spends_the_clients_request_quota() -> None:
    frugal = Client(
        "frugal",
        key_hashes=frozenset({key_hash("shop-key")}),
        rate_limit=RatePolicy("frugal", quota=2, window=60),
    )
    async with limited_gateway(frugal) as live, socket_to(live.address, payload=KEY) as socket:
        for number in range(2):
            await send(socket, subscribe(f"op-{number}", '{ product(sku: "A-1") { name } }'))
            assert (await receive(socket))["type"] == "next"
            assert (await receive(socket))["type"] == "complete"
        await send(socket, subscribe("op-2", '{ product(sku: "A-1") { name } }'))
        refused = await receive(socket)

    assert refused["type"] == "error"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 30}


async def test_an_event_stream_counts_as_a_connection() -> None:
    one = Client("one", key_hashes=frozenset({key_hash("shop-key")}), max_connections=1)
    headers = {"accept": "text/event-stream", "x-api-key": "shop-key"}
    body = {"query": STOCK, "variables": {"at": "DC-1"}}
    async with (
        limited_gateway(one) as live,
        httpx.AsyncClient(base_url=f"http://{live.address}", timeout=WAIT) as client,
    ):
        async with client.stream("POST", "/graphql", json=body, headers=headers) as open_stream:
            assert open_stream.status_code == 200
            await eventually(lambda: live.feed.active == 1)
            refused = await client.post("/graphql", json=body, headers=headers)
            async with socket_to(live.address, init=False) as websocket:
                await send(websocket, {"type": "connection_init", "payload": KEY})
                code, _ = await closed_with(websocket)
        await eventually(lambda: live.feed.active == 0)

        async def admitted() -> bool:
            answer = await client.post(
                "/graphql", json={"query": '{ product(sku: "A-1") { name } }'}, headers=headers
            )
            return answer.status_code == 200

        await eventually(admitted)

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert code == 4429


@pytest.mark.redis
async def test_replicas_on_one_redis_count_a_clients_connections_together() -> None:
    one = Client("one", key_hashes=frozenset({key_hash("shop-key")}), max_connections=1)
    prefix = f"test:{uuid.uuid4().hex}"
    url = require_redis()
    clients = [redis.Redis.from_url(url), redis.Redis.from_url(url)]
    clock = SettableClock(TEST_NOW)
    try:
        async with (
            limited_gateway(one, shared_quotas(clock, clients[0], prefix)) as replica_a,
            limited_gateway(one, shared_quotas(clock, clients[1], prefix)) as replica_b,
        ):
            async with (
                socket_to(replica_a.address, payload=KEY),
                socket_to(replica_b.address, init=False) as refused,
            ):
                await send(refused, {"type": "connection_init", "payload": KEY})
                code, _ = await closed_with(refused)
            # The socket on replica A closed: B admits the client again.
            await eventually(lambda: admitted(replica_b.address))
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))

    assert code == 4429


async def _counted(counter: LocalConnectionCounter, key: str, expected: int) -> bool:
    return await counter.count(key) == expected
