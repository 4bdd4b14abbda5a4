"""Serving ASGI apps with uvicorn on the test's own event loop, and a protocol client.

The same loop, so the test can publish into the subgraphs' feed and watch it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from gateway.subscriptions.frames import FrameWritingProtocol

WAIT = 10.0
"""A bound on waiting for something that should happen at once (a guard, not a figure)."""


@contextlib.asynccontextmanager
async def served(app: Any, **options: Any) -> AsyncIterator[str]:
    """``app`` on a free port, lifespan and all, with the gateway's WebSocket protocol
    and settings (gateway/server.py); yields ``host:port``. ``options`` go to uvicorn's
    config (the gateway's own HTTP protocol, say, or ``ws="websockets-sansio"`` for a
    server without ready-made frames)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        **{
            "log_level": "warning",
            "lifespan": "on",
            "ws": FrameWritingProtocol,
            "ws_per_message_deflate": False,
            **options,
        },
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def socket_to(
    address: str, *, init: bool = True, payload: dict[str, Any] | None = None
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws socket to the gateway, acknowledged unless ``init=False``."""
    async with connect(
        f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
    ) as websocket:  # type: ignore[list-item]
        if init:
            message: dict[str, Any] = {"type": "connection_init"}
            if payload is not None:
                message["payload"] = payload
            await send(websocket, message)
            assert await receive(websocket) == {"type": "connection_ack"}
        yield websocket


async def send(websocket: ClientConnection, message: dict[str, Any]) -> None:
    await websocket.send(orjson.dumps(message).decode())


async def receive(websocket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        frame = await websocket.recv()
    message: dict[str, Any] = orjson.loads(frame)
    return message


async def closed_with(websocket: ClientConnection) -> tuple[int | None, str | None]:
    """The close code and reason the server sent, once the socket has closed."""
    async with asyncio.timeout(WAIT):
        with contextlib.suppress(Exception):
            while True:
                await websocket.recv()
    frame = websocket.protocol.close_rcvd
    return (frame.code, frame.reason) if frame else (None, None)


def subscribe(operation_id: str, query: str, **variables: Any) -> dict[str, Any]:
    return {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables},
    }


async def eventually(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait until ``condition`` holds (things that follow a disconnect take a moment)."""
    async with asyncio.timeout(WAIT):
        while True:
            outcome = condition()
            if not isinstance(outcome, bool):
                outcome = await outcome
            if outcome:
                return
            await asyncio.sleep(0.01)
