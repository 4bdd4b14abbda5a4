"""The public benchmark's supergraph and query (graphql-gateways-benchmark), planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.supergraph import load_supergraph
from tests.services import require_bench_data
from tests.unit.gateway.planner.support import plan_text

SNAPSHOT = Path(__file__).parent / "snapshots" / "bench.txt"


@pytest.fixture(scope="module")
def bench_files() -> tuple[str, str]:
    bench_data = require_bench_data()
    return (
        (bench_data / "supergraph.graphql").read_text(),
        (bench_data / "query.graphql").read_text(),
    )


def test_bench_query_plan_matches_snapshot(bench_files: tuple[str, str]) -> None:
    supergraph_sdl, query = bench_files
    plan = plan_text(load_supergraph(supergraph_sdl), query)
    assert plan == SNAPSHOT.read_text().rstrip("\n")


def test_bench_query_batches_one_fetch_per_subgraph_and_path(
    bench_files: tuple[str, str],
) -> None:
    supergraph_sdl, query = bench_files
    plan = plan_text(load_supergraph(supergraph_sdl), query)
    assert plan.count('Fetch(service: "reviews")') == 2
    assert plan.count('Fetch(service: "inventory")') == 4
    assert plan.count('Fetch(service: "products")') == 4
    assert plan.count('Fetch(service: "accounts")') == 3
