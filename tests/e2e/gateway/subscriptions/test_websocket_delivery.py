"""How events reach many WebSocket subscribers: written once per event and operation id,
in order with every other frame of a connection, over our uvicorn protocol's ready-made
frames or, on a server without them, ASGI's send; a client that stops reading is dropped
alone."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import pytest
from websockets.asyncio.client import connect

from gateway.subscriptions import websocket as websocket_endpoint
from gateway.subscriptions.frames import FrameWritingProtocol
from tests.e2e.gateway.subscriptions.conftest import live_gateway
from tests.e2e.gateway.subscriptions.served import (
    WAIT,
    eventually,
    receive,
    send,
    socket_to,
    subscribe,
)
from tests.e2e.gateway.subscriptions.subgraphs import StockEvent

STOCK = "subscription ($at: ID!) { stockChanged(locationId: $at) { sku onHand } }"
SERVERS = {"ready-made frames": {}, "ASGI send": {"ws": "websockets-sansio"}}


def stock(operation_id: str, on_hand: int, sku: str = "A-1") -> dict[str, Any]:
    data = {"stockChanged": {"sku": sku, "onHand": on_hand}}
    return {"id": operation_id, "type": "next", "payload": {"data": data}}


@pytest.mark.parametrize("server", SERVERS.values(), ids=SERVERS.keys())
async def test_subscribers_of_one_stream_get_every_event_in_order_under_their_own_ids(
    server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[bytes] = []
    write = FrameWritingProtocol.write

    def counted(protocol: FrameWritingProtocol, frame: bytes) -> bool:
        written.append(frame)
        return write(protocol, frame)

    monkeypatch.setattr(FrameWritingProtocol, "write", counted)
    async with (
        live_gateway(server=server) as gateway,
        socket_to(gateway.address) as first,
        socket_to(gateway.address) as second,
        socket_to(gateway.address) as third,
    ):
        await send(first, subscribe("1", STOCK, at="DC-1"))
        await send(second, subscribe("1", STOCK, at="DC-1"))
        await send(third, subscribe("a", STOCK, at="DC-1"))
        await send(third, subscribe("b", STOCK, at="DC-1"))
        await eventually(lambda: gateway.engine.subscriptions.subscribers == 4)
        await eventually(lambda: gateway.feed.active == 1)

        for on_hand in (1, 2, 3):
            gateway.feed.publish(StockEvent("A-1", "DC-1", on_hand))
        await send(first, subscribe("q", '{ product(sku: "A-1") { name } }'))

        assert [await receive(first) for _ in range(5)] == [
            stock("1", 1),
            stock("1", 2),
            stock("1", 3),
            {"id": "q", "type": "next", "payload": {"data": {"product": {"name": "Name of A-1"}}}},
            {"id": "q", "type": "complete"},
        ]
        assert [await receive(second) for _ in range(3)] == [stock("1", n) for n in (1, 2, 3)]
        third_got = [await receive(third) for _ in range(6)]
        for operation_id in ("a", "b"):
            assert [m for m in third_got if m["id"] == operation_id] == [
                stock(operation_id, n) for n in (1, 2, 3)
            ]
        assert gateway.feed.active == 1
        # Over our protocol the events went out as ready-made frames: 12 writes (three
        # events, four subscribers) of 9 frames (built once per event and operation id).
        events = [frame for frame in written if b'"stockChanged"' in frame]
        built = {id(frame) for frame in events}  # ``written`` keeps each one alive
        assert (len(events), len(built)) == ((12, 9) if "ws" not in server else (0, 0))


@pytest.mark.parametrize("server", SERVERS.values(), ids=SERVERS.keys())
async def test_a_client_that_stops_reading_ends_too_slow_and_the_others_get_every_event(
    server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket_endpoint, "BACKLOG", 3)
    # Frames big enough to fill the socket buffers soon, compressed or not.
    big_sku = secrets.token_hex(30_000)
    async with (
        live_gateway(server=server) as gateway,
        socket_to(gateway.address) as reader,
        # A client whose buffer holds one message stops reading the socket when full.
        connect(
            f"ws://{gateway.address}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            max_queue=1,
        ) as stalled,
    ):
        await send(stalled, {"type": "connection_init"})
        assert await receive(stalled) == {"type": "connection_ack"}
        await send(reader, subscribe("r", STOCK, at="DC-1"))
        await send(stalled, subscribe("s", STOCK, at="DC-1"))
        await eventually(lambda: gateway.engine.subscriptions.subscribers == 2)
        await eventually(lambda: gateway.feed.active == 1)
        read: list[dict[str, Any]] = []

        async def keep_reading() -> None:
            while True:
                read.append(await receive(reader))

        reading = asyncio.create_task(keep_reading())
        published = 0
        async with asyncio.timeout(WAIT):
            while gateway.engine.subscriptions.subscribers == 2:
                published += 1
                gateway.feed.publish(StockEvent(big_sku, "DC-1", published))
                await asyncio.sleep(0.001)
        await eventually(lambda: len(read) == published)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading

        assert read == [stock("r", n, big_sku) for n in range(1, published + 1)]
        stalled_got = []
        while (message := await receive(stalled))["type"] == "next":
            stalled_got.append(message)
        assert message == {"id": "s", "type": "complete"}
        *events, last_words = stalled_got
        assert events == [stock("s", n, big_sku) for n in range(1, len(events) + 1)]
        assert [e["extensions"]["code"] for e in last_words["payload"]["errors"]] == [
            "SUBSCRIBER_TOO_SLOW"
        ]
        assert gateway.feed.active == 1
