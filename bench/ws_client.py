"""A lean graphql-transport-ws client for load: thousands of sockets in one process.

A general-purpose client spends more CPU per frame than the gateway under test, and its
time is inside the measured latency; this one is an ``asyncio.Protocol`` that parses
server frames (unmasked, unfragmented text, ping, close) and hands each text payload to a
callback with the time it arrived. Client frames are masked with a zero key, which the
protocol allows.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import zlib
from collections.abc import Callable

import orjson

OnText = Callable[[bytes, float], None]
_DEFLATE = b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"


class _Protocol(asyncio.Protocol):
    def __init__(self, on_text: OnText) -> None:
        self.on_text = on_text
        self.inflate: zlib._Decompress | None = None  # when the server took permessage-deflate
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.first_text: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.upgraded, self.first_text):
            if not future.done():
                future.set_exception(ConnectionError("the gateway closed the socket"))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buffer[: buffer.find(b"\r\n")]:
                self.upgraded.set_exception(ConnectionError(bytes(buffer[:200]).decode()))
                return
            if b"permessage-deflate" in buffer[:end].lower():
                self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            del buffer[: end + 4]
            self.upgraded.set_result(None)
        while len(buffer) >= 2:
            length, offset = buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            opcode, compressed = buffer[0] & 0x0F, buffer[0] & 0x40
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if compressed and self.inflate is not None:
                payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 1:
                if not self.first_text.done():
                    self.first_text.set_result(payload)
                else:
                    self.on_text(payload, now)
            elif opcode == 9:
                self.send(payload, opcode=10)
            elif opcode == 8 and self.transport is not None:
                self.transport.close()

    def send(self, payload: bytes, opcode: int = 1) -> None:
        assert self.transport is not None
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
        self.transport.write(header + b"\x00\x00\x00\x00" + payload)


class Subscriber:
    """One socket with one subscription; ``close()`` to leave."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        query: str,
        variables: dict[str, object],
        on_text: OnText,
        deflate: bool = False,
    ) -> Subscriber:
        """``deflate`` offers permessage-deflate, as browsers do."""
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: _Protocol(on_text), host, port)
        key = base64.b64encode(os.urandom(16))
        assert protocol.transport is not None
        protocol.transport.write(
            b"GET /graphql HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() + b"\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
            + (_DEFLATE if deflate else b"")
            + b"\r\n"
        )
        await protocol.upgraded
        protocol.send(b'{"type":"connection_init"}')
        ack = await protocol.first_text
        if b"connection_ack" not in ack:
            raise ConnectionError(f"no connection_ack: {ack!r}")
        payload = {"query": query, "variables": variables}
        protocol.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return cls(protocol)

    def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.send((1000).to_bytes(2, "big"), opcode=8)
            self._protocol.transport.close()
