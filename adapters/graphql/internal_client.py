"""The client of a peer subgraph's internal endpoints (``adapters/graphql/internal.py``):
one domain calling another (checkout asks pricing and inventory). The peer is its
GraphQL URL, beside which the endpoints are served, or its ASGI app in the same process
(the embedded mode and tests). The request's correlation id and trace context go along.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import aiohttp
import orjson
from starlette.types import ASGIApp

from adapters.graphql.errors import INTERNAL
from adapters.graphql.internal import PREFIX
from adapters.http import in_process, session
from kernel import correlation, tracing

IN_PROCESS_URL = "http://in-process/graphql"


class RemoteError(Exception):
    """The peer refused the call; ``code`` is its error's, ``details`` the rest of it.
    ``broken``: the peer failed (a 5xx), rather than judged the request."""

    def __init__(
        self, code: str, message: str, details: Mapping[str, Any], *, broken: bool
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = dict(details)
        self.broken = broken


class RemoteUnavailable(Exception):
    """The peer could not be reached or gave no answer of the endpoints' shape."""


class InternalClient:
    """POSTs JSON to one peer's internal endpoints over pooled keep-alive connections."""

    def __init__(self, peer: str | ASGIApp, *, timeout: float = 10.0) -> None:
        self._app: ASGIApp | None = None
        if isinstance(peer, str):
            graphql_url = peer
        else:
            graphql_url = IN_PROCESS_URL
            self._app = peer
        # Beside /graphql, whatever prefix a proxy serves the peer under.
        self.base = urljoin(graphql_url, PREFIX.lstrip("/"))
        self._options = session.SessionOptions(timeout=timeout)
        # opened on first use, inside the event loop that owns it
        self._session: aiohttp.ClientSession | None = None

    async def call(
        self, endpoint: str, body: Mapping[str, Any], *, idempotent: bool = False
    ) -> dict[str, Any]:
        """The endpoint's answer; otherwise raises ``RemoteError`` or ``RemoteUnavailable``.

        An ``idempotent`` call (a read, or a write keyed so that a repeat changes nothing)
        is sent once more when the connection broke before an answer: the peer may have
        closed an idle keep-alive connection just as it was reused.
        """
        url = self.base + endpoint
        headers = {"content-type": "application/json", "accept": "application/json"}
        correlation_id = correlation.current()
        if correlation_id:
            headers[correlation.HEADER] = correlation_id
        tracing.inject(headers)
        encoded = orjson.dumps(body)
        try:
            try:
                status, content = await self._post(url, encoded, headers)
            except session.CONNECTION_BROKE:
                if not idempotent:
                    raise
                status, content = await self._post(url, encoded, headers)
        except session.UNREACHABLE as error:
            raise RemoteUnavailable(f"{url}: {error!r}") from None
        try:
            decoded = orjson.loads(content)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            raise RemoteUnavailable(f"{url} answered {status} without JSON")
        if status == 200:
            return decoded
        refusal = decoded.get("error")
        if not isinstance(refusal, dict) or not isinstance(refusal.get("code"), str):
            raise RemoteUnavailable(f"{url} answered {status} without an error code")
        details = {k: v for k, v in refusal.items() if k not in ("code", "message")}
        raise RemoteError(
            refusal["code"],
            str(refusal.get("message") or "error"),
            details,
            broken=status >= 500 or refusal["code"] == INTERNAL,
        )

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        if self._app is not None:
            # No timeout in process, as before with httpx (its timeouts never applied to
            # an ASGI app): the peer is as busy as its caller, and a 10 s bound refused
            # orders in the two-hundred-concurrent-checkouts test on a loaded machine.
            return await in_process.call(self._app, "POST", url, body, headers)
        if self._session is None:
            self._session = session.open_session(self._options)
        answer = await session.post(self._session, url, body, headers)
        return answer.status, answer.body

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
