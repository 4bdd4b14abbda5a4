"""The gateway answers the public benchmark's query exactly as the reference gateways do.

The benchmark's four subgraphs (``bench.subgraphs``) sit behind the real ``FederatedEngine``
and the gateway's HTTP app, once in process and once over HTTP from a subgraph server on a
free port: the second is the path ``bench/gateway.py`` measures.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bench.processes import free_port
from bench.subgraphs.app import create_app as create_subgraphs_app
from bench.workload import expected_response, first_difference, query_file, supergraph_for
from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine

REPO_ROOT = Path(__file__).resolve().parents[2]
SUBGRAPHS = ("accounts", "products", "inventory", "reviews")
QUERY_HEADERS = {"content-type": "application/json", "accept": "application/json"}


@pytest.fixture(scope="module")
def subgraphs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("bench-subgraphs") / "subgraphs.log"
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.subgraphs", "--port", str(port)],
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/health", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the subgraph server exited:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"the subgraph server did not answer at {url}:\n{log.read_text()}")


@pytest.fixture(params=["in-process", "over-http"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    if request.param == "in-process":
        subgraphs_app = create_subgraphs_app()
        engine = FederatedEngine(
            supergraph_for("http://bench-subgraphs"),
            subgraphs={
                name: SubgraphOptions(app=subgraphs_app, url=f"http://bench-subgraphs/{name}")
                for name in SUBGRAPHS
            },
        )
    else:
        subgraphs_url = request.getfixturevalue("subgraphs_server")
        engine = FederatedEngine(supergraph_for(subgraphs_url))
    app = create_app(engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        yield client


async def test_bench_query_response_equals_the_expected_response(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post(
        "/graphql", content=query_file().read_bytes(), headers=QUERY_HEADERS
    )

    assert response.status_code == 200
    assert first_difference(response.json(), expected_response(), ordered_keys=True) is None


async def test_bench_query_response_is_the_same_from_the_cached_plan(
    gateway: httpx.AsyncClient,
) -> None:
    bodies = [
        (
            await gateway.post("/graphql", content=query_file().read_bytes(), headers=QUERY_HEADERS)
        ).json()
        for _ in range(3)
    ]

    assert [first_difference(body, expected_response()) for body in bodies] == [None] * 3


def test_bench_supergraph_points_every_subgraph_at_the_harness() -> None:
    sdl = supergraph_for("http://127.0.0.1:9")

    for name in SUBGRAPHS:
        assert f'url: "http://127.0.0.1:9/{name}"' in sdl
    assert "4200" not in sdl


def test_bench_response_check_tells_json_types_and_list_order_apart() -> None:
    assert first_difference({"a": [1, 2]}, {"a": [1, 2]}) is None
    assert first_difference({"a": True}, {"a": 1}) == "$.a: expected int 1, got True"
    assert first_difference({"a": [2, 1]}, {"a": [1, 2]}) == "$.a[0]: expected 1, got 2"
    assert first_difference({"b": 1, "a": 2}, {"a": 2, "b": 1}) is None
    assert first_difference({"b": 1, "a": 2}, {"a": 2, "b": 1}, ordered_keys=True) is not None


async def test_bench_subgraphs_serve_federation_2_3_sdl_and_memoise_answers() -> None:
    app = create_subgraphs_app()
    service_query = {"query": "{ _service { sdl } }"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://subgraphs"
    ) as client:
        for name in SUBGRAPHS:
            sdl = (await client.post(f"/{name}", json=service_query)).json()["data"]["_service"]
            assert '@link(url: "https://specs.apollo.dev/federation/v2.3"' in sdl["sdl"]
        again = await client.post("/reviews", json=service_query)

    assert again.status_code == 200
    assert len(app.responses) == len(SUBGRAPHS)
    assert app.requests_served == len(SUBGRAPHS) + 1
