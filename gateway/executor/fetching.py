"""Sending one GraphQL request to one subgraph.

The executor depends on the ``Fetcher`` protocol only, so tests can answer from fakes and
the embedded mode can call subgraphs in process. ``HttpFetcher`` is the real one: one
pooled aiohttp session for every subgraph reached over the network, and an ASGI call
(``in_process``) for each subgraph app served in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import orjson
from starlette.types import ASGIApp

from gateway.executor import in_process
from gateway.executor.network import NetworkClient, Proxies

DEFAULT_TIMEOUT = 30.0


class FetchFailed(Exception):
    """The subgraph gave no usable GraphQL response; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fetcher(Protocol):
    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        """POST ``body`` (a GraphQL request as JSON) to ``service``; the decoded response.

        Raises ``FetchFailed`` when the response is not a GraphQL response. A ``mutation``
        is never sent twice, not even over a fresh connection after a stale one failed.
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
    """Per subgraph origin."""
    keepalive_expiry: float = 30.0
    """How long an idle keep-alive connection to a subgraph is kept."""
    subgraphs: Mapping[str, SubgraphOptions] = field(default_factory=dict)
    proxies: Proxies = field(default_factory=Proxies)


@dataclass(frozen=True, slots=True)
class _NetworkRoute:
    """A subgraph reached over the network, through aiohttp."""

    timeout: float
    url: str
    client_timeout: aiohttp.ClientTimeout
    proxy: str | None


@dataclass(frozen=True, slots=True)
class _InProcessRoute:
    """A subgraph app called in process."""

    timeout: float
    app: ASGIApp
    url: str


class HttpFetcher:
    """Fetches over aiohttp's pooled keep-alive HTTP, or in process for subgraphs given as apps.

    Network subgraphs go through ``network.NetworkClient`` (aiohttp: TLS, the configured
    proxies). In-process apps are called directly, as ASGI apps.
    """

    def __init__(self, urls: Mapping[str, str], options: HttpOptions | None = None) -> None:
        options = options or HttpOptions()
        self._network = NetworkClient(options.max_connections, options.keepalive_expiry)
        self._routes: dict[str, _NetworkRoute | _InProcessRoute] = {}
        for name in set(urls) | set(options.subgraphs):
            sub = options.subgraphs.get(name, SubgraphOptions())
            timeout = sub.timeout if sub.timeout is not None else options.default_timeout
            if sub.app is not None:
                url = sub.url or f"http://{name}.in-process/graphql"
                self._routes[name] = _InProcessRoute(timeout, sub.app, url)
            else:
                url = sub.url or urls[name]
                self._routes[name] = _NetworkRoute(
                    timeout, url, aiohttp.ClientTimeout(total=timeout), options.proxies.for_url(url)
                )

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        route = self._routes.get(service)
        if route is None:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", f"unknown subgraph '{service}'")
        try:
            if isinstance(route, _NetworkRoute):
                status, content = await self._network.post(
                    route.url,
                    body,
                    headers,
                    route.client_timeout,
                    proxy=route.proxy,
                    retry=not mutation,
                )
            else:
                async with asyncio.timeout(route.timeout):
                    status, content = await in_process.call(
                        route.app, "POST", route.url, body, headers
                    )
        except TimeoutError:
            raise FetchFailed(
                "SUBREQUEST_TIMEOUT",
                f"Subgraph '{service}' did not answer within {route.timeout:g} s",
            ) from None
        except (aiohttp.ClientError, OSError, ValueError) as error:
            # ValueError: aiohttp refuses a header value that would split the request
            raise FetchFailed(
                "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': {error}"
            ) from None
        return _decode(service, status, content)

    async def aclose(self) -> None:
        await self._network.aclose()


def _decode(service: str, status: int, content: bytes) -> dict[str, Any]:
    try:
        decoded = orjson.loads(content)
    except orjson.JSONDecodeError:
        decoded = None
    if not 200 <= status < 300:
        # GraphQL over HTTP answers request errors with 4xx and a body that says why:
        # the subgraph's own errors tell the client more than the status does
        if isinstance(decoded, dict):
            errors = decoded.get("errors")
            if isinstance(errors, list) and errors:
                return decoded
        raise FetchFailed(
            "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': status {status}"
        )
    if not isinstance(decoded, dict) or not ("data" in decoded or "errors" in decoded):
        raise FetchFailed(
            "SUBREQUEST_MALFORMED_RESPONSE",
            f"Subgraph '{service}' did not return a GraphQL response",
        )
    return decoded
