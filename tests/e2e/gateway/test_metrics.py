"""``/metrics`` on the gateway and on a subgraph: what a request, a subgraph fetch and a
rate-limit refusal move, in Prometheus' text format; who may read the gateway's.

The default registry is the process's, shared by every test: each test reads the values
before and after, and checks the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway.commands import federated_engine, gateway_app
from gateway.executor import SubgraphOptions
from gateway.security.clients import key_hash
from gateway.settings import ClientSettings, GatewaySettings
from gateway.supergraph.compose import compose_from_apps
from kernel.clock import SettableClock
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.e2e.gateway.test_rate_limits import SHOP, settings
from tests.support import TEST_NOW

NAMED = {"query": "query Shelf { products { sku inStock } }"}
# The gateway's /metrics answers the operator and Prometheus' own key (metrics:read).
AS_OPERATOR = {"authorization": "Bearer ops-key"}
AS_PROMETHEUS = {"authorization": "Bearer scraper-key"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def metered(**metrics: bool) -> GatewaySettings:
    """A shop client allowed 3 requests a minute, an operator and a Prometheus scraper."""
    chosen = settings(metrics=metrics)
    clients = {
        **chosen.clients,
        "ops": ClientSettings(api_key_hashes=(key_hash("ops-key"),), scopes=("operator",)),
        "prometheus": ClientSettings(
            api_key_hashes=(key_hash("scraper-key"),), scopes=("metrics:read",)
        ),
    }
    return chosen.model_copy(update={"clients": clients})


@asynccontextmanager
async def gateway(chosen: GatewaySettings | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as ``retailgraph gateway`` builds it (metrics on by default), for a shop
    client allowed 3 requests a minute."""
    apps = subgraph_apps()
    chosen = chosen or metered()
    clock = SettableClock(TEST_NOW)
    engine = federated_engine(
        await compose_from_apps(apps),
        chosen,
        {name: SubgraphOptions(app=app) for name, app in apps.items()},
        clock=clock,
    )
    app = gateway_app(engine, chosen, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_a_request_counts_by_client_operation_and_outcome_and_times_its_fetches() -> None:
    requests = {"client": "shop", "operation": "Shelf", "outcome": "ok"}
    fetches = "retailgraph_gateway_subgraph_fetch_duration_seconds_count"

    def readings() -> tuple[float, ...]:
        return (
            value("retailgraph_gateway_requests_total", **requests),
            value(fetches, subgraph="products"),
            value(fetches, subgraph="stock"),
            value("retailgraph_gateway_request_duration_seconds_count", operation="Shelf"),
            value("retailgraph_gateway_plan_cache_total", result="miss"),
            value("retailgraph_gateway_plan_cache_total", result="hit"),
        )

    before = readings()
    async with gateway() as client:
        for _ in range(2):
            answer = await client.post("/graphql", json=NAMED, headers=SHOP)
            assert answer.json()["data"]["products"][0]["inStock"] == 0
    after = readings()
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 2, 2, 2, 1, 1]


async def test_an_anonymous_operation_and_a_refused_one_are_labelled_within_bounds() -> None:
    unnamed = {"client": "anonymous", "operation": "other", "outcome": "ok"}
    invalid = {"client": "anonymous", "operation": "other", "outcome": "GRAPHQL_VALIDATION_FAILED"}
    before = (
        value("retailgraph_gateway_requests_total", **unnamed),
        value("retailgraph_gateway_requests_total", **invalid),
    )
    async with gateway() as client:
        await client.post("/graphql", json={"query": "{ products { sku } }"})
        await client.post("/graphql", json={"query": "query Nope { nothing }"})
    after = (
        value("retailgraph_gateway_requests_total", **unnamed),
        value("retailgraph_gateway_requests_total", **invalid),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]


async def test_a_rate_limit_refusal_is_counted_for_its_client() -> None:
    refused = {"client": "shop", "operation": "other", "outcome": "RATE_LIMITED"}
    before = (
        value("retailgraph_gateway_rate_limited_total", client="shop", limit="requests"),
        value("retailgraph_gateway_requests_total", **refused),
    )
    async with gateway() as client:
        statuses = [
            (await client.post("/graphql", json=NAMED, headers=SHOP)).status_code for _ in range(4)
        ]
    after = (
        value("retailgraph_gateway_rate_limited_total", client="shop", limit="requests"),
        value("retailgraph_gateway_requests_total", **refused),
    )
    assert statuses == [200, 200, 200, 429]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]


async def test_metrics_are_served_in_the_prometheus_text_format() -> None:
    async with gateway() as client:
        await client.post("/graphql", json=NAMED, headers=SHOP)
        answer = await client.get("/metrics", headers=AS_OPERATOR)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    assert families["retailgraph_gateway_requests"].type == "counter"
    assert families["retailgraph_gateway_subgraph_fetch_duration_seconds"].type == "histogram"
    assert families["retailgraph_gateway_connections"].type == "gauge"
    # The process's other collectors are there too.
    assert "process_cpu_seconds" in families or "python_info" in families


async def test_a_standalone_subgraph_serves_its_own_metrics() -> None:
    app = subgraph_apps()["products"]
    labels = {"subgraph": "subgraph", "operation": "Skus", "outcome": "ok"}
    before = value("retailgraph_subgraph_requests_total", **labels)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://products") as client:
        # The gateway names the operation of each fetch it sends.
        query = {"query": "query Skus { products { sku } }", "operationName": "Skus"}
        await client.post("/graphql", json=query)
        answer = await client.get("/metrics")

    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    assert "retailgraph_subgraph_request_duration_seconds" in families
    assert value("retailgraph_subgraph_requests_total", **labels) - before == 1


async def test_the_gateways_metrics_ask_for_credentials_and_refuse_a_client_without_the_scope() -> (
    None
):
    async with gateway() as client:
        anonymous = await client.get("/metrics")
        unknown = await client.get("/metrics", headers={"authorization": "Bearer nobody"})
        shop = await client.get("/metrics", headers=SHOP)
        operator = await client.get("/metrics", headers=AS_OPERATOR)
        prometheus = await client.get("/metrics", headers=AS_PROMETHEUS)

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="retailgraph"'
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_REQUIRED"
    assert unknown.status_code == 401
    assert unknown.json()["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"
    assert shop.status_code == 403
    assert shop.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert 'error="insufficient_scope"' in shop.headers["www-authenticate"]
    assert "retailgraph_gateway" not in shop.text
    for allowed in (operator, prometheus):
        assert allowed.status_code == 200
        assert "retailgraph_gateway_requests_total" in allowed.text


async def test_public_metrics_are_served_to_anyone_on_a_trusted_listener() -> None:
    async with gateway(metered(public=True)) as client:
        answer = await client.get("/metrics")

    assert answer.status_code == 200
    assert "retailgraph_gateway_requests_total" in answer.text
