"""Sending one GraphQL request to one subgraph.

The executor depends on the ``Fetcher`` protocol only, so tests can answer from fakes and
the embedded mode can call subgraphs in process. ``HttpFetcher`` is the real one: one
pooled keep-alive ``httpx.AsyncClient`` for every subgraph reached over the network, and
one client over ``httpx.ASGITransport`` per subgraph app served in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson
from starlette.types import ASGIApp

DEFAULT_TIMEOUT = 30.0


class FetchFailed(Exception):
    """The subgraph gave no usable GraphQL response; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fetcher(Protocol):
    async def fetch(self, service: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """POST ``body`` (a GraphQL request as JSON) to ``service``; the decoded response.

        Raises ``FetchFailed`` when the response is not a GraphQL response.
        """
        ...


@dataclass(frozen=True, slots=True)
class SubgraphOptions:
    """How to reach one subgraph; unset values fall back to the supergraph and defaults."""

    url: str | None = None
    app: ASGIApp | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class HttpOptions:
    default_timeout: float = DEFAULT_TIMEOUT
    max_connections: int = 512
    max_keepalive_connections: int = 256
    keepalive_expiry: float = 30.0
    subgraphs: Mapping[str, SubgraphOptions] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Route:
    transport: httpx.AsyncBaseTransport
    url: httpx.URL
    timeout: float


class HttpFetcher:
    """Fetches over pooled HTTP/1.1 keep-alive, or in process for subgraphs given as apps.

    Requests go straight to httpx's transports: a gateway needs none of the client's
    cookie jar (which would leak one client's cookies into another's requests), redirects
    or auth flows, and skipping them saves a good share of the per-fetch CPU.
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        options: HttpOptions | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = options or HttpOptions()
        limits = httpx.Limits(
            max_connections=options.max_connections,
            max_keepalive_connections=options.max_keepalive_connections,
            keepalive_expiry=options.keepalive_expiry,
        )
        # Timeouts are enforced around the whole fetch (below), because ASGITransport
        # ignores httpx's own; the pool's are left off so there is one clock, not two.
        network = transport or httpx.AsyncHTTPTransport(limits=limits, http1=True, http2=False)
        self._transports: list[httpx.AsyncBaseTransport] = [network]
        self._routes: dict[str, _Route] = {}
        for name in set(urls) | set(options.subgraphs):
            sub = options.subgraphs.get(name, SubgraphOptions())
            timeout = sub.timeout if sub.timeout is not None else options.default_timeout
            if sub.app is not None:
                # an app that crashes answers 500, as it would over the network
                route_transport: httpx.AsyncBaseTransport = httpx.ASGITransport(
                    app=sub.app, raise_app_exceptions=False
                )
                self._transports.append(route_transport)
                url = sub.url or f"http://{name}.in-process/graphql"
            else:
                route_transport = network
                url = sub.url or urls[name]
            self._routes[name] = _Route(route_transport, httpx.URL(url), timeout)

    async def fetch(self, service: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        route = self._routes.get(service)
        if route is None:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", f"unknown subgraph '{service}'")
        request = httpx.Request("POST", route.url, content=body, headers=headers)
        try:
            async with asyncio.timeout(route.timeout):
                response = await route.transport.handle_async_request(request)
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
        except TimeoutError:
            raise FetchFailed(
                "SUBREQUEST_TIMEOUT",
                f"Subgraph '{service}' did not answer within {route.timeout:g} s",
            ) from None
        except httpx.HTTPError as error:
            raise FetchFailed(
                "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': {error}"
            ) from None
        return _decode(service, response.status_code, content)

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()


def _decode(service: str, status: int, content: bytes) -> dict[str, Any]:
    if not 200 <= status < 300:
        raise FetchFailed(
            "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': status {status}"
        )
    try:
        decoded = orjson.loads(content)
    except orjson.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict) or not ("data" in decoded or "errors" in decoded):
        raise FetchFailed(
            "SUBREQUEST_MALFORMED_RESPONSE",
            f"Subgraph '{service}' did not return a GraphQL response",
        )
    return decoded
