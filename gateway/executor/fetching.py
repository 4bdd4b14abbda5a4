"""Sending one GraphQL request to one subgraph.

The executor depends on the ``Fetcher`` protocol only, so tests can answer from fakes and
the embedded mode can call subgraphs in process. ``HttpFetcher`` is the real one: one
pooled keep-alive client for every subgraph reached over the network (``http11``, or
aiohttp or httpx on request), and one ``httpx.ASGITransport`` per subgraph app served in
process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp
import httpx
import orjson
from starlette.types import ASGIApp

from gateway.executor.http11 import Http11Pool, HttpFailure, Target
from gateway.executor.network import NetworkClient, proxy_for

DEFAULT_TIMEOUT = 30.0

NetworkClientName = Literal["lean", "httpx", "aiohttp"]
NETWORK_CLIENTS: dict[str, NetworkClientName] = {
    "lean": "lean",
    "httpx": "httpx",
    "aiohttp": "aiohttp",
}


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
    max_keepalive_connections: int = 256
    keepalive_expiry: float = 30.0
    """Only for ``httpx`` and ``aiohttp``; the lean client keeps connections until closed."""
    client: NetworkClientName = "lean"
    """How network subgraphs are reached: ``lean`` (``http11``), httpx's pool, or aiohttp
    (``network``: TLS, proxies from the environment; about 2.5 ms more CPU per benchmark
    request than ``lean``)."""
    subgraphs: Mapping[str, SubgraphOptions] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Route:
    timeout: float
    target: Target | None = None
    """Set when the lean client serves this subgraph."""
    transport: httpx.AsyncBaseTransport | None = None
    url: httpx.URL | None = None
    network_url: str | None = None
    """Set when aiohttp serves this subgraph."""
    client_timeout: aiohttp.ClientTimeout | None = None
    proxy: str | None = None


class HttpFetcher:
    """Fetches over pooled keep-alive HTTP/1.1, or in process for subgraphs given as apps.

    Network subgraphs go through ``http11.Http11Pool`` unless ``client`` says otherwise
    (``network.NetworkClient`` for aiohttp) or a ``transport`` is given. In-process apps
    go through ``httpx.ASGITransport``. httpx is used at the transport level: a gateway
    needs none of the client's cookie jar (which would leak one client's cookies into
    another's requests), redirects or auth flows.
    """

    def __init__(
        self,
        urls: Mapping[str, str],
        options: HttpOptions | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = options or HttpOptions()
        self._pool = Http11Pool(options.max_connections, options.max_keepalive_connections)
        self._network = NetworkClient(options.max_connections, options.keepalive_expiry)
        self._transports: list[httpx.AsyncBaseTransport] = []
        network: httpx.AsyncBaseTransport | None = transport
        if network is None and options.client == "httpx":
            limits = httpx.Limits(
                max_connections=options.max_connections,
                max_keepalive_connections=options.max_keepalive_connections,
                keepalive_expiry=options.keepalive_expiry,
            )
            network = httpx.AsyncHTTPTransport(limits=limits, http1=True, http2=False)
        if network is not None:
            self._transports.append(network)
        self._routes: dict[str, _Route] = {}
        for name in set(urls) | set(options.subgraphs):
            sub = options.subgraphs.get(name, SubgraphOptions())
            timeout = sub.timeout if sub.timeout is not None else options.default_timeout
            if sub.app is not None:
                # an app that crashes answers 500, as it would over the network
                in_process = httpx.ASGITransport(app=sub.app, raise_app_exceptions=False)
                self._transports.append(in_process)
                url = sub.url or f"http://{name}.in-process/graphql"
                self._routes[name] = _Route(timeout, transport=in_process, url=httpx.URL(url))
            elif network is None and options.client == "aiohttp":
                url = sub.url or urls[name]
                self._routes[name] = _Route(
                    timeout,
                    network_url=url,
                    client_timeout=aiohttp.ClientTimeout(total=timeout),
                    proxy=proxy_for(url),
                )
            elif network is not None:
                url = sub.url or urls[name]
                self._routes[name] = _Route(timeout, transport=network, url=httpx.URL(url))
            else:
                self._routes[name] = _Route(timeout, target=Target.parse(sub.url or urls[name]))

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        route = self._routes.get(service)
        if route is None:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", f"unknown subgraph '{service}'")
        try:
            if route.network_url is not None:
                assert route.client_timeout is not None
                status, content = await self._network.post(
                    route.network_url,
                    body,
                    headers,
                    route.client_timeout,
                    proxy=route.proxy,
                    retry=not mutation,
                )
            else:
                async with asyncio.timeout(route.timeout):
                    if route.target is not None:
                        status, content = await self._pool.post(
                            route.target, body, headers, retry=not mutation
                        )
                    else:
                        status, content = await _httpx_post(route, body, headers)
        except TimeoutError:
            raise FetchFailed(
                "SUBREQUEST_TIMEOUT",
                f"Subgraph '{service}' did not answer within {route.timeout:g} s",
            ) from None
        except (httpx.HTTPError, HttpFailure, aiohttp.ClientError, OSError, ValueError) as error:
            # ValueError: aiohttp refuses a header value that would split the request
            raise FetchFailed(
                "SUBREQUEST_HTTP_ERROR", f"HTTP fetch failed from '{service}': {error}"
            ) from None
        return _decode(service, status, content)

    async def aclose(self) -> None:
        self._pool.close()
        await self._network.aclose()
        for transport in self._transports:
            await transport.aclose()


async def _httpx_post(route: _Route, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
    assert route.transport is not None
    assert route.url is not None
    request = httpx.Request("POST", route.url, content=body, headers=headers)
    response = await route.transport.handle_async_request(request)
    try:
        return response.status_code, await response.aread()
    finally:
        await response.aclose()


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
