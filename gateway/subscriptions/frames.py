"""Writing ready-made WebSocket frames to a socket, past ASGI's ``send``.

A subscription event goes to thousands of sockets as the same bytes: a server's text
frame is unmasked, so for every subscriber whose operation has the same id the whole
frame, header included, is identical. ASGI's ``send`` takes text and frames it again per
socket, in a coroutine per call. Our uvicorn WebSocket protocol adds a scope extension,
``FRAMES``, whose ``write`` puts a frame built once straight on the socket's transport.
At 10,000 subscribers, uvicorn's ``send`` (the await, websockets' framing and Starlette's
wrapper) took 17% of the gateway's profile samples, beside 25% for the write itself
(``bench/README.md``).

``write`` writes only what can go at once: it declines when the socket is closing or
its client has stopped reading (the transport is over its high-water mark), and the
connection then queues the frame behind ASGI's ``send``, which waits for the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

FRAMES = "retailgraph.websocket.frames"
"""The scope extension: ``scope["extensions"][FRAMES]["write"]`` is a ``WriteFrame``."""

WriteFrame = Callable[[bytes], bool]
"""Writes a whole frame (``text_frame``) now; False when it cannot go at once."""


def text_frame(payload: bytes) -> bytes:
    """``payload`` (UTF-8) as one unmasked, unfragmented text frame (RFC 6455 5.2)."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 1 << 16:
        return b"\x81\x7e" + length.to_bytes(2, "big") + payload
    return b"\x81\x7f" + length.to_bytes(8, "big") + payload


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, offering ``FRAMES`` to the app."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # Frames are written uncompressed: a connection that took an extension (the
        # gateway declines permessage-deflate, gateway/server.py) keeps ASGI's send.
        if self.response.status_code == 101 and not self.conn.extensions:
            extensions = self.scope.get("extensions")
            if extensions is not None:
                extensions[FRAMES] = {"write": self.write}

    def write(self, frame: bytes) -> bool:
        # Each frame goes whole in one transport write, so it never interleaves with
        # the frames uvicorn writes itself (pings, close); after a close, nothing goes.
        if (
            self.close_sent
            or self.conn.state is not State.OPEN
            or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True
