"""One HTTP request to a subgraph app served in the same process (the embedded mode and
tests), answered as the app would answer it over the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message


async def call(
    app: ASGIApp, method: str, url: str, body: bytes, headers: Mapping[str, str]
) -> tuple[int, bytes]:
    """``(status, body)``. An app that raises before answering answers 500, as it would
    over the network."""
    parts = urlsplit(url)
    host = parts.hostname or "in-process"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    raw_headers = [(b"host", (parts.netloc or host).encode("latin-1"))]
    raw_headers += [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
    raw_headers.append((b"content-length", str(len(body)).encode("latin-1")))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": parts.scheme or "http",
        "path": parts.path or "/",
        "raw_path": (parts.path or "/").encode("latin-1"),
        "query_string": parts.query.encode("latin-1"),
        "root_path": "",
        "headers": raw_headers,
        "server": (host, port),
        "client": ("127.0.0.1", 123),
        "extensions": {},
    }
    request_sent = False
    answered = asyncio.Event()
    status: int | None = None
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body" and not answered.is_set():
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    try:
        await app(scope, receive, send)
    except Exception:
        if not answered.is_set():
            return 500, b""
    answered.set()
    return status if status is not None else 500, b"".join(chunks)
