"""Fetching each subgraph's ``_service { sdl }``, then composing.

A subgraph can be an in-process ASGI app, so the embedded mode composes from its apps
(``compose_from_apps``) exactly as production composes over HTTP (aiohttp).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from starlette.types import ASGIApp

from gateway.executor import in_process
from gateway.supergraph.compose.compose import SubgraphSource, compose
from gateway.supergraph.compose.errors import CompositionError, CompositionIssue

SERVICE_QUERY = "query SubgraphServiceSdl { _service { sdl } }"


async def fetch_subgraphs(
    endpoints: Mapping[str, str],
    *,
    apps: Mapping[str, ASGIApp] | None = None,
    request_timeout: float = 10.0,
) -> list[SubgraphSource]:
    """One ``SubgraphSource`` per subgraph; every failure is collected, then raised."""
    apps = apps or {}

    async def one(
        session: aiohttp.ClientSession, name: str, url: str
    ) -> SubgraphSource | CompositionIssue:
        try:
            async with asyncio.timeout(request_timeout):
                sdl = await _service_sdl(session, apps.get(name), url)
            return SubgraphSource(name, url, sdl)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            return CompositionIssue(
                "SUBGRAPH_FETCH_FAILED",
                f"[{name}] Could not read _service {{ sdl }} from {url}: {error!s}",
                (name,),
            )

    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    ) as session:
        results = await asyncio.gather(*(one(session, n, u) for n, u in sorted(endpoints.items())))
    issues = [r for r in results if isinstance(r, CompositionIssue)]
    if issues:
        raise CompositionError(issues)
    return [r for r in results if isinstance(r, SubgraphSource)]


async def compose_from_urls(
    endpoints: Mapping[str, str],
    *,
    apps: Mapping[str, ASGIApp] | None = None,
    request_timeout: float = 10.0,
) -> str:
    sources = await fetch_subgraphs(endpoints, apps=apps, request_timeout=request_timeout)
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
    return await compose_from_urls(endpoints, apps=apps)


async def _service_sdl(session: aiohttp.ClientSession, app: ASGIApp | None, url: str) -> str:
    request = orjson.dumps({"query": SERVICE_QUERY})
    headers = {
        "content-type": "application/json",
        "accept": "application/graphql-response+json, application/json",
    }
    if app is not None:
        status, content = await in_process.call(app, "POST", url, request, headers)
    else:
        async with session.post(url, data=request, headers=headers) as response:
            status, content = response.status, await response.read()
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise ValueError(f"HTTP {status}, not a JSON response") from None
    sdl = ((body.get("data") or {}).get("_service") or {}).get("sdl")
    if not isinstance(sdl, str):
        errors = "; ".join(e.get("message", "?") for e in body.get("errors") or [])
        raise ValueError(f"HTTP {status}, no SDL in the response ({errors})")
    return sdl
