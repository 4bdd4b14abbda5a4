"""Fetching each subgraph's ``_service { sdl }``, then composing.

Each subgraph can come with its own httpx transport, so the embedded mode composes from
in-process ASGI apps (``compose_from_apps``) exactly as production composes over HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from gateway.supergraph.compose.compose import SubgraphSource, compose
from gateway.supergraph.compose.errors import CompositionError, CompositionIssue

SERVICE_QUERY = "query SubgraphServiceSdl { _service { sdl } }"


async def fetch_subgraphs(
    endpoints: Mapping[str, str],
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    request_timeout: float = 10.0,
) -> list[SubgraphSource]:
    """One ``SubgraphSource`` per subgraph; every failure is collected, then raised."""
    transports = transports or {}

    async def one(name: str, url: str) -> SubgraphSource | CompositionIssue:
        transport = transports.get(name)
        async with httpx.AsyncClient(transport=transport, timeout=request_timeout) as client:
            try:
                return SubgraphSource(name, url, await _service_sdl(client, url))
            except (httpx.HTTPError, ValueError) as error:
                return CompositionIssue(
                    "SUBGRAPH_FETCH_FAILED",
                    f"[{name}] Could not read _service {{ sdl }} from {url}: {error}",
                    (name,),
                )

    results = await asyncio.gather(*(one(n, u) for n, u in sorted(endpoints.items())))
    issues = [r for r in results if isinstance(r, CompositionIssue)]
    if issues:
        raise CompositionError(issues)
    return [r for r in results if isinstance(r, SubgraphSource)]


async def compose_from_urls(
    endpoints: Mapping[str, str],
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    request_timeout: float = 10.0,
) -> str:
    sources = await fetch_subgraphs(
        endpoints, transports=transports, request_timeout=request_timeout
    )
    return compose(sources)


async def compose_from_apps(
    apps: Mapping[str, Any],
    *,
    urls: Mapping[str, str] | None = None,
    path: str = "/graphql",
) -> str:
    """Compose from running in-process ASGI apps (their lifespans already started).

    ``urls`` are what the supergraph records for each subgraph (the gateway's route to
    it); by default ``http://<name><path>``.
    """
    endpoints = {name: (urls or {}).get(name, f"http://{name}{path}") for name in apps}
    transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}
    return await compose_from_urls(endpoints, transports=transports)


async def _service_sdl(client: httpx.AsyncClient, url: str) -> str:
    response = await client.post(
        url,
        json={"query": SERVICE_QUERY},
        headers={"accept": "application/graphql-response+json, application/json"},
    )
    try:
        body = response.json()
    except ValueError:
        raise ValueError(f"HTTP {response.status_code}, not a JSON response") from None
    sdl = ((body.get("data") or {}).get("_service") or {}).get("sdl")
    if not isinstance(sdl, str):
        errors = "; ".join(e.get("message", "?") for e in body.get("errors") or [])
        raise ValueError(f"HTTP {response.status_code}, no SDL in the response ({errors})")
    return sdl
