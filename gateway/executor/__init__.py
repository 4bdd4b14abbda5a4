"""Running query plans: fetching from subgraphs, merging, and shaping the response."""

from __future__ import annotations

from gateway.executor.executor import CompiledOperation, Executor
from gateway.executor.fetching import (
    Fetcher,
    FetchFailed,
    HttpFetcher,
    HttpOptions,
    SubgraphOptions,
)
from gateway.executor.headers import subgraph_headers

__all__ = [
    "CompiledOperation",
    "Executor",
    "FetchFailed",
    "Fetcher",
    "HttpFetcher",
    "HttpOptions",
    "SubgraphOptions",
    "subgraph_headers",
]
