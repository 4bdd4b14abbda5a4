"""Subgraph fetches over the network, through one pooled aiohttp session.

aiohttp brings what a gateway in front of other teams' subgraphs needs (TLS, proxies, a
maintained HTTP/1.1 parser in C) at a CPU cost close to a bare asyncio client's. The
session is used as a plain transport: no cookie jar (it would leak one client's cookies
into another's requests), no redirects, bytes in and bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit
from urllib.request import getproxies_environment, proxy_bypass

import aiohttp

ClientError = aiohttp.ClientError


class NetworkClient:
    """Keep-alive connections to every network subgraph, at most ``max_connections`` each.

    The session is created on first use, inside the running event loop that owns it.
    """

    def __init__(self, max_connections: int = 512, keepalive_expiry: float = 30.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=0,  # the bound is per subgraph origin, below
            limit_per_host=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            # compressing loopback or LAN answers costs more CPU than it saves; answers a
            # subgraph compresses anyway are still decoded
            skip_auto_headers=("accept-encoding",),
            auto_decompress=True,
            # aiohttp's trust_env reads the environment and ~/.netrc on every request
            # (about 0.25 ms of CPU); proxy_for() reads the proxy settings once instead
            trust_env=False,
        )
        return self._session

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        client_timeout: aiohttp.ClientTimeout,
        *,
        proxy: str | None = None,
        retry: bool = True,
    ) -> tuple[int, bytes]:
        """``(status, body)``; raises ``aiohttp.ClientError`` or ``TimeoutError``.

        aiohttp never sends a POST twice. ``retry`` allows one more attempt when the
        server closed the connection without answering (the race with a server closing an
        idle keep-alive connection as we reuse it); a mutation is never retried, because
        the subgraph may have run it before the connection broke.
        """
        session = self._session or self._open()
        try:
            return await self._post(session, url, body, headers, client_timeout, proxy)
        except aiohttp.ServerDisconnectedError:
            if not retry:
                raise
        return await self._post(session, url, body, headers, client_timeout, proxy)

    @staticmethod
    async def _post(
        session: aiohttp.ClientSession,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        client_timeout: aiohttp.ClientTimeout,
        proxy: str | None,
    ) -> tuple[int, bytes]:
        async with session.post(
            url,
            data=body,
            headers=headers,
            timeout=client_timeout,
            proxy=proxy,
            allow_redirects=False,
        ) as response:
            return response.status, await response.read()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def proxy_for(url: str) -> str | None:
    """The proxy ``HTTP_PROXY``/``HTTPS_PROXY`` give for ``url``, unless ``NO_PROXY`` exempts it."""
    parts = urlsplit(url)
    proxy = getproxies_environment().get(parts.scheme)
    if proxy is None or proxy_bypass(parts.hostname or ""):
        return None
    return proxy
