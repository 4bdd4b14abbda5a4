"""Liveness and readiness, for load balancers and orchestrators.

``/health`` says the process answers, and nothing more: an orchestrator restarts a
process whose liveness fails, and restarting the gateway cures no subgraph or database.
``/ready`` says whether this process can serve now: its supergraph is loaded and every
check it was given passes (the subgraphs answer; in the embedded system, the databases and
Redis too). A replica that is not ready answers 503 with the reasons, and a load balancer
sends its traffic elsewhere until it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.engine import Engine

# Seconds each check may take: an orchestrator's probe times out after a few seconds
# (Kubernetes: 1 s by default, usually raised to a few), and a check that hangs is itself
# a reason not to send traffic.
CHECK_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """``probe`` answers the reasons this process cannot serve (none: it can)."""

    name: str
    probe: Callable[[], Awaitable[Sequence[str]]]


async def health(request: Request) -> Response:
    """Alive: the process answers. Says nothing about subgraphs, on purpose."""
    return JSONResponse({"status": "ok"})


def readiness(
    engine: Engine, checks: Sequence[ReadinessCheck] = ()
) -> Callable[[Request], Awaitable[Response]]:
    """Ready once the engine has a supergraph and every check passes: until then, keep
    traffic away (503, with the reasons)."""

    async def ready(request: Request) -> Response:
        if not engine.ready:
            reasons = ["the supergraph is not loaded yet"]
            return JSONResponse({"status": "starting", "reasons": reasons}, status_code=503)
        reasons = await unmet(checks)
        if reasons:
            return JSONResponse({"status": "not ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    return ready


async def unmet(checks: Sequence[ReadinessCheck]) -> list[str]:
    """Every check's reasons, the checks run at once, each within ``CHECK_TIMEOUT``."""
    found = await asyncio.gather(*(_run(check) for check in checks))
    return [reason for reasons in found for reason in reasons]


async def _run(check: ReadinessCheck) -> Sequence[str]:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return await check.probe()
    except TimeoutError:
        return [f"{check.name}: no answer within {CHECK_TIMEOUT:g} s"]
    except Exception as error:  # a failing check is a reason, never a 500
        return [f"{check.name}: {type(error).__name__}: {error}"]
