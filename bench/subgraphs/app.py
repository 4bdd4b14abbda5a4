"""One ASGI app serving the four subgraphs under /accounts, /products, /inventory, /reviews.

Responses are memoised by path and request body, like the public benchmark's subgraphs:
after the first request of each shape a subgraph answers from memory, so the CPU a run
burns is the gateway's. This is a plain ASGI callable rather than a framework app for the
same reason: the fewer cycles per subgraph request, the cleaner the measurement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import strawberry

from bench.subgraphs import accounts, inventory, products, reviews

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SCHEMAS: dict[str, strawberry.federation.Schema] = {
    "/accounts": accounts.schema,
    "/products": products.schema,
    "/inventory": inventory.schema,
    "/reviews": reviews.schema,
}

JSON_HEADERS = [(b"content-type", b"application/json")]


class SubgraphsApp:
    def __init__(self, memoise: bool = True) -> None:
        self.memoise = memoise
        self.responses: dict[tuple[str, bytes], tuple[int, bytes]] = {}
        self.requests_served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _run_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"].rstrip("/") or "/"
        if path == "/health":
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if path == "/stats":
            # How many subgraph requests a gateway made: the harness reports it per request.
            await _respond(send, 200, orjson.dumps({"requests": self.requests_served}))
            return
        schema = SCHEMAS.get(path)
        if schema is None:
            await _respond(send, 404, b'{"errors":[{"message":"Not found"}]}')
            return
        if scope["method"] != "POST":
            await _respond(send, 405, b'{"errors":[{"message":"POST only"}]}')
            return
        body = await _read_body(receive)
        self.requests_served += 1
        key = (path, body)
        cached = self.responses.get(key) if self.memoise else None
        if cached is None:
            cached = await _execute(schema, body)
            if self.memoise:
                self.responses[key] = cached
        await _respond(send, *cached)


async def _execute(schema: strawberry.federation.Schema, body: bytes) -> tuple[int, bytes]:
    try:
        request = orjson.loads(body)
        query = request["query"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return 400, b'{"errors":[{"message":"Expected a JSON body with a query"}]}'
    result = await schema.execute(
        query,
        variable_values=request.get("variables"),
        operation_name=request.get("operationName"),
    )
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    return 200, orjson.dumps(response)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})


async def _run_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(memoise: bool = True) -> SubgraphsApp:
    return SubgraphsApp(memoise=memoise)
