"""A ``Fetcher`` that times each subgraph fetch and counts the failed ones."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from gateway.executor.fetching import Fetcher, FetchFailed
from gateway.metrics import GatewayMetrics

GRAPHQL_ERRORS = "GRAPHQL_ERRORS"
# A fetcher's own defect: the runner answers it as an HTTP error, and so is it counted.
_DEFECT = "SUBREQUEST_HTTP_ERROR"


class MeteredFetcher:
    """Wraps any fetcher (HTTP, in process, a test's), so every transport is measured."""

    __slots__ = ("_fetcher", "_metrics")

    def __init__(self, fetcher: Fetcher, metrics: GatewayMetrics) -> None:
        self._fetcher = fetcher
        self._metrics = metrics

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = await self._fetcher.fetch(service, body, headers, mutation=mutation)
        except FetchFailed as failure:
            self._metrics.fetched(service, time.perf_counter() - started, failure.code)
            raise
        except Exception:
            self._metrics.fetched(service, time.perf_counter() - started, _DEFECT)
            raise
        error = GRAPHQL_ERRORS if response.get("errors") else None
        self._metrics.fetched(service, time.perf_counter() - started, error)
        return response
