"""WebSocket connections to subgraphs: over the network (aiohttp), or in process (ASGI).

Both give the same small interface, so the graphql-transport-ws client above them is
written once. The in-process socket drives a subgraph's ASGI app with the ASGI WebSocket
messages directly, as ``executor/in_process.py`` does for HTTP in the embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from starlette.types import ASGIApp, Message

SUBPROTOCOL = "graphql-transport-ws"
_CLOSE_WAIT = 2.0
"""Seconds to wait for a subgraph to answer our close: releasing must not hang on it."""
_log = logging.getLogger(__name__)


class SocketClosed(Exception):
    """The subgraph closed the WebSocket (or it could not be opened)."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"closed with {code}: {reason}" if code else reason or "closed")
        self.code = code
        self.reason = reason


class Socket(Protocol):
    async def send(self, text: str) -> None: ...

    async def receive(self) -> str:
        """The next text frame; raises ``SocketClosed`` once the socket is closed."""
        ...

    async def close(self) -> None: ...


class NetworkSocket:
    """A WebSocket from aiohttp; the session is shared by every upstream subscription."""

    def __init__(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        self._websocket = websocket

    @classmethod
    async def open(
        cls, session: aiohttp.ClientSession, url: str, headers: Mapping[str, str], seconds: float
    ) -> NetworkSocket:
        try:
            async with asyncio.timeout(seconds):
                websocket = await session.ws_connect(
                    url,
                    protocols=(SUBPROTOCOL,),
                    headers=dict(headers),
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=_CLOSE_WAIT),
                    autoping=True,
                    max_msg_size=0,
                )
        except (aiohttp.ClientError, OSError, ValueError, TimeoutError) as error:
            raise SocketClosed(None, f"cannot open a WebSocket to {url}: {error}") from None
        return cls(websocket)

    async def send(self, text: str) -> None:
        try:
            await self._websocket.send_str(text)
        except (aiohttp.ClientError, ConnectionError) as error:
            raise SocketClosed(None, str(error)) from None

    async def receive(self) -> str:
        message = await self._websocket.receive()
        if message.type == aiohttp.WSMsgType.TEXT:
            return str(message.data)
        if message.type == aiohttp.WSMsgType.BINARY:
            return bytes(message.data).decode()
        code = self._websocket.close_code
        raise SocketClosed(code, str(message.extra or ""))

    async def close(self) -> None:
        await self._websocket.close()


class InProcessSocket:
    """An ASGI app's WebSocket endpoint, called in process."""

    def __init__(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._closed: SocketClosed | None = None
        self._task = asyncio.create_task(self._run(app, scope))

    @classmethod
    async def open(
        cls, app: ASGIApp, url: str, headers: Mapping[str, str], seconds: float
    ) -> InProcessSocket:
        parts = urlsplit(url)
        scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "wss" if parts.scheme == "https" else "ws",
            "server": (parts.hostname or "in-process", parts.port or 80),
            "client": ("127.0.0.1", 0),
            "root_path": "",
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"host", (parts.netloc or "in-process").encode())],
            "subprotocols": [SUBPROTOCOL],
            "state": {},
            "extensions": {},
        }
        socket = cls(app, scope)
        await socket._to_app.put({"type": "websocket.connect"})
        try:
            async with asyncio.timeout(seconds):
                accepted = await socket._from_app.get()
        except TimeoutError:
            await socket.close()
            raise SocketClosed(None, f"{url} did not accept the WebSocket in time") from None
        if accepted["type"] != "websocket.accept":
            await socket.close()
            raise SocketClosed(accepted.get("code", 1006), f"{url} refused the WebSocket")
        return socket

    async def _run(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        try:
            await app(scope, self._to_app.get, self._from_app.put)
        except Exception:
            _log.exception("an in-process subgraph failed on its WebSocket")
        finally:
            await self._from_app.put({"type": "websocket.close", "code": 1011})

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise self._closed
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def receive(self) -> str:
        if self._closed is not None:
            raise self._closed
        message = await self._from_app.get()
        if message["type"] == "websocket.send":
            text = message.get("text")
            return text if text is not None else bytes(message.get("bytes") or b"").decode()
        self._closed = SocketClosed(message.get("code", 1000), message.get("reason") or "")
        raise self._closed

    async def close(self) -> None:
        if self._closed is None:
            self._closed = SocketClosed(1000, "closed by the gateway")
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        try:
            async with asyncio.timeout(_CLOSE_WAIT):
                await asyncio.shield(self._task)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
