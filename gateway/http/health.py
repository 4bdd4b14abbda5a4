"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.engine import Engine


async def health(request: Request) -> Response:
    """Alive: the process answers. Says nothing about subgraphs, on purpose."""
    return JSONResponse({"status": "ok"})


def readiness(engine: Engine) -> Callable[[Request], Awaitable[Response]]:
    """Ready once the engine has a supergraph: until then, keep traffic away (503)."""

    async def ready(request: Request) -> Response:
        if engine.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "starting"}, status_code=503)

    return ready
