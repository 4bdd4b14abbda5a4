"""A WebSocket connection is bounded: document size, operations at once, frame size, and
close reasons that fit a close frame."""

from __future__ import annotations

import orjson

from tests.e2e.gateway.subscriptions.conftest import LiveGateway
from tests.e2e.gateway.subscriptions.served import (
    closed_with,
    receive,
    send,
    socket_to,
    subscribe,
)

STOCK = "subscription ($loc: ID!) { stockChanged(locationId: $loc) { sku } }"


async def test_a_document_past_the_size_limit_gets_an_error_and_the_socket_stays_open(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("big", STOCK + " " * 120_000, loc="DC"))
        error = await receive(websocket)
        assert error["type"] == "error"
        assert [e["extensions"]["code"] for e in error["payload"]] == ["DOCUMENT_TOO_LARGE"]
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}


async def test_a_connection_runs_at_most_a_hundred_operations_at_once(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        for number in range(100):
            await send(websocket, subscribe(f"op-{number}", STOCK, loc="DC"))
        await send(websocket, subscribe("one-too-many", STOCK, loc="DC"))
        refused = await receive(websocket)
        assert refused["id"] == "one-too-many"
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["TOO_MANY_OPERATIONS"]
        await send(websocket, {"id": "op-0", "type": "complete"})
        await send(websocket, subscribe("now-there-is-room", STOCK, loc="DC"))
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}


async def test_a_frame_past_the_body_limit_closes_the_socket_with_1009(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        await websocket.send(orjson.dumps({"type": "ping", "payload": {"x": "y" * 1_100_000}}))
        code, _ = await closed_with(websocket)
    assert code == 1009


async def test_a_close_reason_that_quotes_the_client_is_cut_to_fit_a_close_frame(
    gateway: LiveGateway,
) -> None:
    long_id = "x" * 500
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe(long_id, STOCK, loc="DC"))
        await send(websocket, subscribe(long_id, STOCK, loc="DC"))
        code, reason = await closed_with(websocket)
    assert code == 4409
    assert reason is not None
    assert len(reason.encode()) <= 123
