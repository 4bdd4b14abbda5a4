"""A small GraphQL-over-HTTP client for one subgraph calling another (checkout asks
pricing and inventory). The peer is a URL, or an ASGI app served in the same process
(the embedded mode and tests). The request's correlation id and trace context go along.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from starlette.types import ASGIApp

from adapters.http import in_process, session
from kernel import correlation, tracing

IN_PROCESS_URL = "http://in-process/graphql"


class RemoteError(Exception):
    """The peer answered with a GraphQL error; ``code`` is its ``extensions.code``."""

    def __init__(self, code: str, message: str, extensions: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extensions = dict(extensions)


class RemoteUnavailable(Exception):
    """The peer could not be reached or gave no GraphQL response."""


class GraphQLClient:
    """POSTs operations to one peer subgraph over pooled keep-alive connections."""

    def __init__(self, peer: str | ASGIApp, *, timeout: float = 10.0) -> None:
        self._app: ASGIApp | None = None
        if isinstance(peer, str):
            self.url = peer
        else:
            self.url = IN_PROCESS_URL
            self._app = peer
        self._options = session.SessionOptions(timeout=timeout)
        # opened on first use, inside the event loop that owns it
        self._session: aiohttp.ClientSession | None = None

    async def execute(
        self, query: str, variables: Mapping[str, Any], *, idempotent: bool = False
    ) -> dict[str, Any]:
        """The ``data`` of a response without errors; otherwise raises ``RemoteError`` (the
        first error) or ``RemoteUnavailable``.

        An ``idempotent`` operation (a query, or a mutation keyed so that a repeat changes
        nothing) is sent once more when the connection broke before an answer: the peer
        may have closed an idle keep-alive connection just as it was reused.
        """
        headers = {"content-type": "application/json", "accept": "application/json"}
        correlation_id = correlation.current()
        if correlation_id:
            headers[correlation.HEADER] = correlation_id
        tracing.inject(headers)
        body = orjson.dumps({"query": query, "variables": dict(variables)})
        try:
            try:
                status, content = await self._post(body, headers)
            except session.CONNECTION_BROKE:
                if not idempotent:
                    raise
                status, content = await self._post(body, headers)
        except session.UNREACHABLE as error:
            raise RemoteUnavailable(f"{self.url}: {error!r}") from None
        try:
            decoded = orjson.loads(content)
        except orjson.JSONDecodeError:
            decoded = None
        if not isinstance(decoded, dict):
            raise RemoteUnavailable(f"{self.url} answered {status} without GraphQL")
        errors = decoded.get("errors")
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            extensions = first.get("extensions") or {}
            raise RemoteError(
                str(extensions.get("code") or "INTERNAL_SERVER_ERROR"),
                str(first.get("message") or "error"),
                extensions,
            )
        data = decoded.get("data")
        if not isinstance(data, dict):
            raise RemoteUnavailable(f"{self.url} answered {status} without data")
        return data

    async def _post(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        if self._app is not None:
            # No timeout in process, as before with httpx (its timeouts never applied to
            # an ASGI app): the peer is as busy as its caller, and a 10 s bound refused
            # orders in the two-hundred-concurrent-checkouts test on a loaded machine.
            return await in_process.call(self._app, "POST", self.url, body, headers)
        if self._session is None:
            self._session = session.open_session(self._options)
        answer = await session.post(self._session, self.url, body, headers)
        return answer.status, answer.body

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
