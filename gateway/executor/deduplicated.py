"""A ``Fetcher`` that lets identical queries in flight at the same moment share one
subgraph request, as Apollo Router and Hive Gateway do.

Two fetches are identical when they go to the same subgraph with the same body and the
same headers, the caller's signed identity and every forwarded header included: a caller
never receives an answer fetched for another identity. Only the correlation id is left
out of the comparison, since every client request has its own; the shared request carries
the first one's. Mutations are never shared.

Each waiter gets its own copy of the answer: the executor merges answers into its own
response tree and rewrites them in place, so one object must never reach two requests.
If the request that went out is cancelled (its client left), the others send their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson

from gateway.executor.fetching import Fetcher
from gateway.executor.headers import CORRELATION_HEADER

_Key = tuple[str, bytes, tuple[tuple[str, str], ...]]


class _Flight:
    __slots__ = ("answer",)

    def __init__(self) -> None:
        # The leader's answer as JSON (one encoding, a decoding per waiter), or its error;
        # made when the first waiter comes, so a request nobody shares costs no future.
        self.answer: asyncio.Future[bytes] | None = None


class _LeaderGone(Exception):
    """The shared request was cancelled with its own client request."""


class DeduplicatingFetcher:
    __slots__ = ("_fetcher", "_in_flight")

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._in_flight: dict[_Key, _Flight] = {}

    @property
    def in_flight(self) -> int:
        """Shared requests under way now (0 when the gateway is idle)."""
        return len(self._in_flight)

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        if mutation:
            return await self._fetcher.fetch(service, body, headers, mutation=True)
        key: _Key = (
            service,
            body,
            tuple(sorted((k, v) for k, v in headers.items() if k != CORRELATION_HEADER)),
        )
        flight = self._in_flight.get(key)
        if flight is not None:
            if flight.answer is None:
                flight.answer = asyncio.get_running_loop().create_future()
            try:
                answer = await asyncio.shield(flight.answer)
            except _LeaderGone:
                return await self._fetcher.fetch(service, body, headers)
            decoded: dict[str, Any] = orjson.loads(answer)
            return decoded
        flight = self._in_flight[key] = _Flight()
        try:
            response = await self._fetcher.fetch(service, body, headers)
        except asyncio.CancelledError:
            if flight.answer is not None:
                flight.answer.set_exception(_LeaderGone())
                flight.answer.exception()  # retrieved: waiters that left need not see it
            raise
        except Exception as error:
            if flight.answer is not None:
                flight.answer.set_exception(error)
                flight.answer.exception()
            raise
        else:
            if flight.answer is not None:
                flight.answer.set_result(orjson.dumps(response))
            return response
        finally:
            del self._in_flight[key]
