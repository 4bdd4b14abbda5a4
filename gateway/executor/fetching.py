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
    client: httpx.AsyncClient
    url: str
    timeout: float


class HttpFetcher:
    """Fetches over pooled HTTP/1.1 keep-alive, or in process for subgraphs given as apps."""

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
        # ignores httpx's own; httpx's are left off so there is one clock, not two.
        self._network = httpx.AsyncClient(limits=limits, timeout=None, transport=transport)
        self._clients = [self._network]
        self._routes: dict[str, _Route] = {}
        for name in set(urls) | set(options.subgraphs):
            sub = options.subgraphs.get(name, SubgraphOptions())
            timeout = sub.timeout if sub.timeout is not None else options.default_timeout
            if sub.app is not None:
                # an app that crashes answers 500, as it would over the network
                transport_in_process = httpx.ASGITransport(app=sub.app, raise_app_exceptions=False)
                client = httpx.AsyncClient(transport=transport_in_process)
                self._clients.append(client)
                url = sub.url or f"http://{name}.in-process/graphql"
            else:
                client = self._network
                url = sub.url or urls[name]
            self._routes[name] = _Route(client, url, timeout)

    async def fetch(self, service: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        route = self._routes.get(service)
        if route is None:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", f"unknown subgraph '{service}'")
        try:
            async with asyncio.timeout(route.timeout):
                response = await route.client.post(route.url, content=body, headers=headers)
        except TimeoutError:
            raise FetchFailed(
                "SUBREQUEST_TIMEOUT",
                f"Subgraph '{service}' did not answer within {route.timeout:g} s",
            ) from None
        except httpx.HTTPError as error:
            raise FetchFailed(
                "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': {error}"
            ) from None
        return _decode(service, response)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


def _decode(service: str, response: httpx.Response) -> dict[str, Any]:
    if not 200 <= response.status_code < 300:
        raise FetchFailed(
            "SUBREQUEST_HTTP_ERROR",
            f"HTTP fetch failed from '{service}': {response.status_code}: {response.reason_phrase}",
        )
    try:
        decoded = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict) or not ("data" in decoded or "errors" in decoded):
        raise FetchFailed(
            "SUBREQUEST_MALFORMED_RESPONSE",
            f"Subgraph '{service}' did not return a GraphQL response",
        )
    return decoded
