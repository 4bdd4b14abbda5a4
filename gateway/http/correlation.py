"""X-Correlation-ID on every request and response (generated when missing or unusable).

The id is written back into the request headers, so the engine forwards the same id to
every subgraph fetch and the client sees it on the response. It is bound to the log
context while the request is served, so every line written meanwhile carries it.
"""

from __future__ import annotations

import itertools
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.contextvars import bind_contextvars, reset_contextvars

HEADER = b"x-correlation-id"
_USABLE = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
# A random prefix per process and a counter: unique across replicas, and far cheaper per
# request than a uuid4 (which reads the OS's random source every time).
_PREFIX = uuid.uuid4().hex[:16]
_COUNTER = itertools.count(1)


def new_correlation_id() -> bytes:
    return f"{_PREFIX}{next(_COUNTER):016x}".encode()


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        supplied = next((value for name, value in headers if name == HEADER), None)
        correlation_id = supplied if supplied and _USABLE.match(supplied) else new_correlation_id()
        headers = [(n, v) for n, v in headers if n != HEADER]
        headers.append((HEADER, correlation_id))
        scope = {**scope, "headers": headers}
        bound = bind_contextvars(correlation_id=correlation_id.decode())
        try:
            await self._call(scope, receive, send, correlation_id)
        finally:
            reset_contextvars(**bound)

    async def _call(
        self, scope: Scope, receive: Receive, send: Send, correlation_id: bytes
    ) -> None:
        if scope["type"] == "websocket":
            # nothing to add to a socket's frames: pass them on without another hop
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (HEADER, correlation_id)],
                }
            await send(message)

        await self.app(scope, receive, send_with_id)
