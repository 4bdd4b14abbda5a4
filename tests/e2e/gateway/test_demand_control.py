"""Demand control through the real gateway: an operation estimated too expensive is refused
before any subgraph is called; in measure mode it runs; the estimate is reported on ask."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.cost import CostLimits
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import RecordingApp, subgraph_apps

# products(first:) has no @listSize here, so each list counts as the default 10 items:
# 10 x (Product 1 + inStock 0) = 10, and twice that through a second alias.
TWO_LISTS = "{ a: products(first: 3) { sku inStock } b: products(first: 3) { sku } }"


async def gateway(limits: CostLimits) -> tuple[Any, dict[str, RecordingApp]]:
    apps = subgraph_apps()
    supergraph = await compose_from_apps(apps)
    engine = FederatedEngine(
        supergraph,
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        cost=limits,
    )
    return create_app(engine), apps


@pytest.fixture
async def client_and_apps(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, RecordingApp]]]:
    app, apps = await gateway(request.param)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, apps


@pytest.mark.parametrize(
    "client_and_apps", [CostLimits(mode="enforce", max_cost=19)], indirect=True
)
async def test_an_operation_estimated_above_the_limit_is_refused_before_any_fetch(
    client_and_apps: tuple[httpx.AsyncClient, dict[str, RecordingApp]],
) -> None:
    client, apps = client_and_apps
    fetched_before = sum(len(app.headers) for app in apps.values())
    response = await client.post("/graphql", json={"query": TWO_LISTS})
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"] == {"estimated": 20, "max": 19}
    assert sum(len(app.headers) for app in apps.values()) == fetched_before

    cheaper = await client.post("/graphql", json={"query": "{ products(first: 3) { sku } }"})
    assert cheaper.json()["data"]["products"][2] == {"sku": "SKU-2"}


@pytest.mark.parametrize(
    "client_and_apps", [CostLimits(mode="measure", max_cost=19)], indirect=True
)
async def test_measure_mode_runs_the_operation_and_reports_its_cost_when_asked(
    client_and_apps: tuple[httpx.AsyncClient, dict[str, RecordingApp]],
) -> None:
    client, _ = client_and_apps
    response = await client.post(
        "/graphql", json={"query": TWO_LISTS}, headers={"RetailGraph-Expose-Cost": "true"}
    )
    body = response.json()
    assert len(body["data"]["a"]) == 3
    assert body["extensions"]["cost"] == {"estimated": 20, "max": 19, "mode": "measure"}

    quiet = await client.post("/graphql", json={"query": TWO_LISTS})
    assert "cost" not in (quiet.json().get("extensions") or {})


@pytest.mark.parametrize("client_and_apps", [CostLimits(max_cost=5)], indirect=True)
async def test_a_slicing_variable_sets_the_list_size(
    client_and_apps: tuple[httpx.AsyncClient, dict[str, RecordingApp]],
) -> None:
    """Without @listSize the default applies whatever ``first`` says; the variable is read
    only for the arguments a @listSize names (see the estimator's own tests)."""
    client, _ = client_and_apps
    response = await client.post(
        "/graphql",
        json={"query": "query ($n: Int) { products(first: $n) { sku } }", "variables": {"n": 1}},
    )
    assert response.json()["errors"][0]["extensions"]["cost"]["estimated"] == 10
