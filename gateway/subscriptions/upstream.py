"""The gateway as a graphql-transport-ws client of the subgraph that owns a subscription.

One upstream WebSocket carries one subscription: sharing happens above, in the fan-out,
so closing the socket is how the last subscriber releases the subgraph.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson

from gateway.executor import FetchFailed, SubgraphOptions
from gateway.subscriptions.sockets import InProcessSocket, NetworkSocket, Socket, SocketClosed

_SKIPPED_HEADERS = frozenset({"content-type", "accept", "content-length"})


class Upstream:
    """Opens subscriptions on subgraphs, by name: over the network or in process."""

    def __init__(
        self,
        urls: Mapping[str, str],
        subgraphs: Mapping[str, SubgraphOptions] | None = None,
        *,
        connect_timeout: float = 10.0,
    ) -> None:
        self._urls = dict(urls)
        self._subgraphs = dict(subgraphs or {})
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    async def subscribe(
        self,
        service: str,
        operation: str,
        operation_name: str | None,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> AsyncIterator[dict[str, Any]]:
        """Each ``next`` payload (``data``, ``errors``) until the subgraph completes.

        Raises ``FetchFailed`` when the socket cannot be opened, the subgraph refuses the
        connection or the operation, or the socket closes before ``complete``.
        """
        socket = await self._open(service, headers)
        try:
            await _initialise(socket, service, self._connect_timeout)
            payload: dict[str, Any] = {"query": operation, "variables": dict(variables)}
            if operation_name:
                payload["operationName"] = operation_name
            await socket.send(_encode({"id": "1", "type": "subscribe", "payload": payload}))
            while True:
                message = _decode(await socket.receive())
                kind = message.get("type")
                if kind == "next" and isinstance(message.get("payload"), dict):
                    yield message["payload"]
                elif kind == "error":
                    errors = message.get("payload")
                    yield {"data": None, "errors": errors if isinstance(errors, list) else []}
                    return
                elif kind == "complete":
                    return
                elif kind == "ping":
                    await socket.send('{"type":"pong"}')
        except SocketClosed as closed:
            raise FetchFailed(
                "SUBREQUEST_HTTP_ERROR", f"Subscription to '{service}' ended: {closed}"
            ) from None
        finally:
            await socket.close()

    async def _open(self, service: str, headers: Mapping[str, str]) -> Socket:
        options = self._subgraphs.get(service, SubgraphOptions())
        timeout = options.timeout if options.timeout is not None else self._connect_timeout
        handshake = {k: v for k, v in headers.items() if k.lower() not in _SKIPPED_HEADERS}
        try:
            if options.app is not None:
                url = options.url or f"http://{service}.in-process/graphql"
                return await InProcessSocket.open(options.app, url, handshake, timeout)
            network_url = options.url or self._urls.get(service)
            if network_url is None:
                raise SocketClosed(None, f"unknown subgraph '{service}'")
            if self._session is None:
                self._session = aiohttp.ClientSession(
                    cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
                )
            return await NetworkSocket.open(self._session, network_url, handshake, timeout)
        except SocketClosed as closed:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", str(closed)) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _initialise(socket: Socket, service: str, seconds: float) -> None:
    await socket.send('{"type":"connection_init"}')
    try:
        async with asyncio.timeout(seconds):
            while True:
                kind = _decode(await socket.receive()).get("type")
                if kind == "connection_ack":
                    return
                if kind == "ping":
                    await socket.send('{"type":"pong"}')
    except TimeoutError:
        raise FetchFailed(
            "SUBREQUEST_TIMEOUT", f"Subgraph '{service}' did not acknowledge the connection"
        ) from None


def _encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()


def _decode(text: str) -> dict[str, Any]:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        raise SocketClosed(None, "the subgraph sent a message that is not a JSON object")
    return message
