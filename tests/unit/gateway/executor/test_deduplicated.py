"""Identical subgraph queries in flight at the same moment share one request; a caller
never gets an answer fetched for another identity, and a mutation is never shared."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from gateway.executor.deduplicated import DeduplicatingFetcher
from gateway.executor.fetching import FetchFailed

BODY = b'{"query":"{me{id}}","variables":{}}'


class SlowSubgraph:
    """Answers after ``release`` is set, counting the requests it received."""

    def __init__(self, fail: bool = False) -> None:
        self.requests: list[Mapping[str, str]] = []
        self.release = asyncio.Event()
        self.fail = fail

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        self.requests.append(headers)
        await self.release.wait()
        if self.fail:
            raise FetchFailed("SUBREQUEST_TIMEOUT", "too slow")
        return {"data": {"me": {"id": "1", "caller": headers.get("x-retailgraph-caller")}}}


def headers(caller: str = "v1.ann", correlation: str = "c1") -> dict[str, str]:
    return {"x-retailgraph-caller": caller, "x-correlation-id": correlation}


async def started(*fetches: Any) -> list[asyncio.Task[Any]]:
    tasks = [asyncio.ensure_future(f) for f in fetches]
    await asyncio.sleep(0)
    return tasks


async def test_identical_queries_in_flight_share_one_request_and_get_their_own_copy() -> None:
    subgraph = SlowSubgraph()
    fetcher = DeduplicatingFetcher(subgraph)
    tasks = await started(
        *(fetcher.fetch("accounts", BODY, headers(correlation=f"c{i}")) for i in range(3))
    )
    subgraph.release.set()
    answers = await asyncio.gather(*tasks)

    assert len(subgraph.requests) == 1
    assert answers[0] == answers[1] == answers[2]
    assert len({id(answer) for answer in answers}) == 3
    assert fetcher.in_flight == 0


async def test_another_identity_or_body_or_subgraph_is_its_own_request() -> None:
    subgraph = SlowSubgraph()
    fetcher = DeduplicatingFetcher(subgraph)
    tasks = await started(
        fetcher.fetch("accounts", BODY, headers("v1.ann")),
        fetcher.fetch("accounts", BODY, headers("v1.bob")),
        fetcher.fetch("accounts", BODY + b" ", headers("v1.ann")),
        fetcher.fetch("reviews", BODY, headers("v1.ann")),
    )
    subgraph.release.set()
    answers = await asyncio.gather(*tasks)

    assert len(subgraph.requests) == 4
    assert answers[1]["data"]["me"]["caller"] == "v1.bob"


async def test_mutations_are_never_shared() -> None:
    subgraph = SlowSubgraph()
    fetcher = DeduplicatingFetcher(subgraph)
    tasks = await started(
        fetcher.fetch("orders", BODY, headers(), mutation=True),
        fetcher.fetch("orders", BODY, headers(), mutation=True),
    )
    subgraph.release.set()
    await asyncio.gather(*tasks)

    assert len(subgraph.requests) == 2


async def test_a_failed_shared_request_fails_every_waiter_with_its_error() -> None:
    subgraph = SlowSubgraph(fail=True)
    fetcher = DeduplicatingFetcher(subgraph)
    tasks = await started(*(fetcher.fetch("accounts", BODY, headers()) for _ in range(2)))
    subgraph.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert [getattr(r, "code", None) for r in results] == ["SUBREQUEST_TIMEOUT"] * 2
    assert len(subgraph.requests) == 1


async def test_a_waiter_sends_its_own_request_when_the_shared_one_is_cancelled() -> None:
    subgraph = SlowSubgraph()
    fetcher = DeduplicatingFetcher(subgraph)
    leader, waiter = await started(
        fetcher.fetch("accounts", BODY, headers()), fetcher.fetch("accounts", BODY, headers())
    )
    leader.cancel()
    await asyncio.sleep(0)
    subgraph.release.set()

    assert (await waiter)["data"]["me"]["id"] == "1"
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert len(subgraph.requests) == 2
