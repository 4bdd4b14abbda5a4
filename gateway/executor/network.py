"""Subgraph fetches over the network, through one pooled aiohttp session.

aiohttp brings what a gateway in front of other teams' subgraphs needs (TLS, proxies, a
maintained HTTP/1.1 parser in C) at a CPU cost close to a bare asyncio client's. The
session is used as a plain transport: no cookie jar (it would leak one client's cookies
into another's requests), no redirects, bytes in and bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from gateway.sessions import open_session

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
        self._session = open_session(self._max_connections, self._keepalive_expiry)
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


@dataclass(frozen=True, slots=True)
class Proxies:
    """The forward proxies subgraph requests go through (``[gateway.proxy]``, or the usual
    ``HTTP_PROXY``, ``HTTPS_PROXY`` and ``NO_PROXY``)."""

    http: str | None = None
    https: str | None = None
    # Comma-separated hosts and domains reached directly; "*" for every host.
    no_proxy: str | None = None

    def for_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        proxy = {"http": self.http, "https": self.https}.get(parts.scheme)
        if not proxy:
            return None
        if self._exempt(parts.hostname or ""):
            return None
        return proxy

    def _exempt(self, host: str) -> bool:
        """Whether ``no_proxy`` names ``host`` or a domain it is in (``.example.com`` and
        ``example.com`` both cover ``api.example.com``)."""
        host = host.lower().rstrip(".")
        for entry in (self.no_proxy or "").split(","):
            entry = entry.strip().lower().lstrip(".").split(":")[0]
            if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
                return True
        return False
