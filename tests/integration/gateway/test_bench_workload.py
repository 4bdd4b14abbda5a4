"""The engine over the benchmark's supergraph, with its four subgraphs served in process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bench.subgraphs.app import create_app
from bench.subgraphs.data import bench_data_dir
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from tests.services import require_bench_data

BENCH_DATA = bench_data_dir()
SUBGRAPHS = ("accounts", "products", "inventory", "reviews")


@pytest.fixture(autouse=True)
def _bench_data_is_there() -> None:
    require_bench_data()


class CountingApp:
    """The benchmark's subgraphs, counting requests and keeping their headers."""

    def __init__(self) -> None:
        self.app = create_app(memoise=False)
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


@pytest.fixture
def subgraphs() -> CountingApp:
    return CountingApp()


@pytest.fixture
async def engine(subgraphs: CountingApp) -> AsyncIterator[FederatedEngine]:
    options = {
        name: SubgraphOptions(app=subgraphs, url=f"http://bench/{name}") for name in SUBGRAPHS
    }
    engine = FederatedEngine((BENCH_DATA / "supergraph.graphql").read_text(), subgraphs=options)
    yield engine
    await engine.aclose()


async def test_bench_query_returns_exactly_the_expected_response(
    engine: FederatedEngine, subgraphs: CountingApp
) -> None:
    request = json.loads((BENCH_DATA / "query.json").read_text())
    expected = json.loads((BENCH_DATA / "expected-response.json").read_text())

    prepared = engine.prepare(request["query"], request.get("operationName"))
    result = await engine.execute(prepared, request.get("variables"), {})

    assert result.to_dict() == expected
    assert json.dumps(result.to_dict()) == json.dumps(expected)  # key order too
    assert len(subgraphs.headers) <= 17


async def test_every_subgraph_fetch_carries_the_clients_correlation_id(
    engine: FederatedEngine, subgraphs: CountingApp
) -> None:
    request = json.loads((BENCH_DATA / "query.json").read_text())
    prepared = engine.prepare(request["query"], request.get("operationName"))

    await engine.execute(prepared, None, {"X-Correlation-ID": "bench-1", "Cookie": "x"})

    assert subgraphs.headers
    assert {h["x-correlation-id"] for h in subgraphs.headers} == {"bench-1"}
    assert all("cookie" not in h for h in subgraphs.headers)


async def test_a_request_without_correlation_id_gets_one_shared_by_its_fetches(
    engine: FederatedEngine, subgraphs: CountingApp
) -> None:
    prepared = engine.prepare("{ topProducts { name reviews { body } } }", None)

    await engine.execute(prepared, None, {})

    ids = {h["x-correlation-id"] for h in subgraphs.headers}
    assert len(subgraphs.headers) == 2
    assert len(ids) == 1
    assert ids.pop()


async def test_variables_reach_the_subgraph_coerced(engine: FederatedEngine) -> None:
    prepared = engine.prepare(
        "query ($n: Int) { topProducts(first: $n) { upc } user(id: 2) { name } }", None
    )

    result = await engine.execute(prepared, {"n": 2}, {})

    assert result.errors == []
    assert result.data == {
        "topProducts": [{"upc": "1"}, {"upc": "2"}],
        "user": {"name": "Dotan Simha"},
    }
