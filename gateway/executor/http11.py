"""A lean keep-alive HTTP/1.1 client for subgraph fetches.

A gateway's subgraph traffic is narrow: POST a small JSON body, read a JSON answer, over
a handful of long-lived connections. httpx serves that through several layers (models,
anyio streams, h11's pure-Python parser) that cost about a millisecond of CPU per fetch,
which is most of a federated request's budget. This client writes requests as bytes on
asyncio transports and parses answers with httptools (the C parser uvicorn uses).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools


class HttpFailure(Exception):
    """The connection failed or the answer was not HTTP."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed URL plus the start of every request to it, encoded once."""

    origin: Origin
    request_head: bytes

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = parts.netloc.rsplit("@", 1)[-1]
        head = f"POST {path} HTTP/1.1\r\nhost: {host}\r\n".encode("latin-1")
        return cls(Origin(parts.scheme, parts.hostname, port), head)


class _Connection(asyncio.Protocol):
    """One connection; answers one request at a time (no pipelining)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: list[bytes] = []
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.keep_alive = False
        self.received_any = False
        self._framed = False
        self._headers_done = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(HttpFailure(f"invalid HTTP response: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._framed and self._waiter is not None:
            # no content-length and not chunked: the body ran until the server closed
            self.on_message_complete()
            return
        self._fail(HttpFailure("connection closed before the response was complete"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        waiter, self._waiter = self._waiter, None
        body = b"".join(self._chunks)
        self._chunks = []
        if waiter is not None and not waiter.done():
            waiter.set_result((self._parser.get_status_code(), body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.received_any = False
        self.keep_alive = False
        self._framed = False
        self._headers_done = False
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self._waiter

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Http11Pool:
    """Keep-alive connections per origin, at most ``max_connections`` open to each."""

    def __init__(self, max_connections: int = 512, max_idle: int = 256) -> None:
        self._max_connections = max_connections
        self._max_idle = max_idle
        self._idle: dict[Origin, list[_Connection]] = {}
        self._slots: dict[Origin, asyncio.Semaphore] = {}
        self._ssl: ssl.SSLContext | None = None

    async def post(
        self, target: Target, body: bytes, headers: Mapping[str, str], *, retry: bool = True
    ) -> tuple[int, bytes]:
        """``(status, body)``; raises ``HttpFailure`` (or ``OSError`` on connect).

        ``retry`` allows sending again on a fresh connection when a reused one fails
        before any byte of the answer: the usual race with a server closing an idle
        connection. Without it (mutations) the failure is reported instead, because
        the server may have run the request before the connection broke.
        """
        data = b"".join(
            (
                target.request_head,
                _encode_headers(headers),
                b"content-length: %d\r\n\r\n" % len(body),
                body,
            )
        )
        origin = target.origin
        slots = self._slots.get(origin)
        if slots is None:
            slots = self._slots[origin] = asyncio.Semaphore(self._max_connections)
        async with slots:
            connection = self._take_idle(origin)
            if connection is not None:
                try:
                    return await self._send(origin, connection, data)
                except HttpFailure:
                    # The server may have closed an idle connection just as we reused it;
                    # a request that got no byte back is safe to send again, once.
                    if connection.received_any or not retry:
                        raise
            connection = await self._connect(origin)
            return await self._send(origin, connection, data)

    async def _send(
        self, origin: Origin, connection: _Connection, data: bytes
    ) -> tuple[int, bytes]:
        finished = False
        try:
            answer = await connection.request(data)
            finished = True
            return answer
        finally:
            if finished and connection.keep_alive and not connection.closed:
                self._release(origin, connection)
            else:
                connection.close()  # interrupted (timeout) or not reusable: never pool it

    def _take_idle(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    def _release(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < self._max_idle:
            idle.append(connection)
        else:
            connection.close()

    async def _connect(self, origin: Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        context = None
        if origin.scheme == "https":
            context = self._ssl = self._ssl or ssl.create_default_context()
        _, connection = await loop.create_connection(
            _Connection, origin.host, origin.port, ssl=context
        )
        return connection

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


def _encode_headers(headers: Mapping[str, str]) -> bytes:
    lines = []
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            continue  # never let a forwarded value split the request
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1", "replace")
