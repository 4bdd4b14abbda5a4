"""The aiohttp sessions the gateway makes every outbound HTTP call with: subgraphs,
an identity provider's keys, other processes' metrics.

aiohttp brings what a gateway in front of other teams' services needs (TLS, proxies, a
maintained HTTP/1.1 parser in C) at a CPU cost close to a bare asyncio client's. A session
is used as a plain transport: no cookie jar (it would leak one client's cookies into
another's requests), no redirects, bytes in and bytes out.
"""

from __future__ import annotations

import aiohttp


def open_session(
    max_connections: int = 100, keepalive_expiry: float = 30.0, *, proxy: str | None = None
) -> aiohttp.ClientSession:
    """The one kind of aiohttp session the gateway calls anything with (subgraphs, an
    identity provider's keys, other processes' metrics); open it inside its event loop."""
    connector = aiohttp.TCPConnector(
        limit=0,  # the bound is per origin, below
        limit_per_host=max_connections,
        keepalive_timeout=keepalive_expiry,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        # compressing loopback or LAN answers costs more CPU than it saves; answers
        # compressed anyway are still decoded
        skip_auto_headers=("accept-encoding",),
        auto_decompress=True,
        # aiohttp's trust_env reads the environment and ~/.netrc on every request
        # (about 0.25 ms of CPU); the proxies come from the settings instead
        trust_env=False,
        proxy=proxy,
    )
