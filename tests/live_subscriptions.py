"""Subscription tests over a real socket: an app served by uvicorn on the test's loop, and
a graphql-transport-ws client that speaks the protocol frame by frame."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from adapters.bus.hub import SubscriptionHub

PROTOCOL = "graphql-transport-ws"
# Long enough for a busy 2-core machine; a frame that never comes fails the test, it does
# not measure anything.
FRAME_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def serving_over_tcp(app: Starlette) -> AsyncIterator[str]:
    """``app`` (lifespan included) on a free local port until the block ends; yields
    its ``ws://`` base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Client:
    """One graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._held: dict[str, list[dict[str, Any]]] = {}  # frames of other operations

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        async with asyncio.timeout(FRAME_TIMEOUT):
            while True:
                message: dict[str, Any] = json.loads(await self.connection.recv())
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                    continue
                return message

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def next_message(self, operation_id: str) -> dict[str, Any]:
        """The next frame for the operation; frames for others are kept for them."""
        held = self._held.get(operation_id)
        if held:
            return held.pop(0)
        while True:
            message = await self.receive()
            if message.get("id") == operation_id:
                return message
            self._held.setdefault(str(message.get("id")), []).append(message)

    async def next_data(self, operation_id: str) -> dict[str, Any]:
        """The data of the next ``next`` frame for the operation (any other frame fails)."""
        message = await self.next_message(operation_id)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete"})


@contextlib.asynccontextmanager
async def ws_client(base_url: str) -> AsyncIterator[Client]:
    async with connect(f"{base_url}/graphql", subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        client = Client(connection)
        await client.send({"type": "connection_init", "payload": {}})
        assert (await client.receive())["type"] == "connection_ack"
        yield client


async def subscribers_reach(hub: SubscriptionHub, count: int) -> None:
    """Wait until ``hub`` has ``count`` subscribers: a subscribe frame has no answer, so
    a test waits for it to take effect before making the change it watches for."""
    async with asyncio.timeout(FRAME_TIMEOUT):
        while hub.subscriber_count != count:  # noqa: ASYNC110 - the hub has no such signal
            await asyncio.sleep(0.01)


async def eventually(check: Callable[[], Any]) -> None:
    async with asyncio.timeout(FRAME_TIMEOUT):
        while not await check():  # noqa: ASYNC110 - polling what the check reads
            await asyncio.sleep(0.02)
