"""uvicorn's HTTP protocol with a deadline for reading each request.

uvicorn times out idle keep-alive connections, but a client that opens a connection and
sends nothing, or sends half its headers or body and stops, is held for ever: enough of
them exhaust the process's sockets. Here every request must arrive whole (headers and
body) within ``request_timeout`` seconds of its first byte (or of the connection),
else the connection is answered 408 and closed. A request that has arrived is never cut
short however long the gateway takes to answer it.

HTTP/1.1 runs one request at a time per connection: uvicorn stops reading a connection
while a pipelined request waits, so one connection never has more than one in flight.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_BODY = (
    b'{"errors":[{"message":"The request did not arrive in time.",'
    b'"extensions":{"code":"REQUEST_TIMEOUT"}}]}'
)
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _BODY
)


class ReadTimeoutHttpProtocol(HttpToolsProtocol):
    # Seconds; a class attribute because uvicorn builds the protocol from its class (and
    # pickles the class by name to start worker processes).
    request_timeout: float = 10.0
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_read_deadline()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm_read_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Between requests, uvicorn's keep-alive timeout takes over.
        self._disarm_read_deadline()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol has its own init timeout (connection_init).
        self._disarm_read_deadline()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_deadline()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        self._read_deadline = self.loop.call_later(self.request_timeout, self._read_timed_out)

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()
