"""Through the real gateway: composed supergraph, planner, executor and the HTTP door."""

from __future__ import annotations

import httpx

from tests.e2e.gateway.conftest import Federation

GRJ = "application/graphql-response+json"


async def graphql(client: httpx.AsyncClient, body: object, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": GRJ, **headers})


async def test_query_spanning_two_subgraphs_joins_entities(
    gateway_client: httpx.AsyncClient,
) -> None:
    response = await graphql(gateway_client, {"query": "{ products { sku name inStock } }"})
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "products": [
                {"sku": "SKU-0", "name": "Product SKU-0", "inStock": 0},
                {"sku": "SKU-1", "name": "Product SKU-1", "inStock": 10},
            ]
        }
    }


async def test_exposed_query_plan_fetches_products_then_stock(
    gateway_client: httpx.AsyncClient,
) -> None:
    response = await graphql(
        gateway_client,
        {"query": "{ products { name inStock } }"},
        **{"apollo-expose-query-plan": "true"},
    )
    plan = response.json()["extensions"]["apolloQueryPlan"]
    assert plan["object"]["node"]["kind"] == "Sequence"
    assert 'Fetch(service: "products")' in plan["text"]
    assert 'Fetch(service: "stock")' in plan["text"]


async def test_correlation_id_reaches_every_subgraph_and_the_client(
    gateway_client: httpx.AsyncClient, federation: Federation
) -> None:
    response = await graphql(
        gateway_client, {"query": "{ products { inStock } }"}, **{"x-correlation-id": "e2e-7"}
    )
    assert response.headers["x-correlation-id"] == "e2e-7"
    for name in ("products", "stock"):
        assert federation.subgraphs[name].headers[-1]["x-correlation-id"] == "e2e-7"


async def test_variables_and_mutations_go_through(gateway_client: httpx.AsyncClient) -> None:
    response = await graphql(
        gateway_client,
        {
            "query": "mutation ($sku: ID!, $name: String!) { rename(sku: $sku, name: $name) "
            "{ sku name inStock } }",
            "variables": {"sku": "SKU-3", "name": "Renamed"},
        },
    )
    assert response.json() == {
        "data": {"rename": {"sku": "SKU-3", "name": "Renamed", "inStock": 30}}
    }


async def test_request_errors_are_4xx_with_codes(gateway_client: httpx.AsyncClient) -> None:
    invalid = await graphql(gateway_client, {"query": "{ products { nope } }"})
    unparsable = await graphql(gateway_client, {"query": "{ products {"})
    bad_variable = await graphql(
        gateway_client,
        {"query": "query ($n: Int) { products(first: $n) { sku } }", "variables": {"n": "many"}},
    )
    mutation_over_get = await gateway_client.get(
        "/graphql", params={"query": 'mutation { rename(sku: "x", name: "y") { sku } }'}
    )
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert unparsable.status_code == 400
    assert unparsable.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert bad_variable.status_code == 400
    assert "data" not in bad_variable.json()
    assert mutation_over_get.status_code == 405


async def test_subgraph_field_error_gives_partial_data_not_a_5xx(
    gateway_client: httpx.AsyncClient,
) -> None:
    response = await graphql(
        gateway_client, {"query": '{ stockVersion product(sku: "BOOM") { sku } }'}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"stockVersion": 1, "product": None}
    assert body["errors"][0]["path"] == ["product"]
    assert body["errors"][0]["extensions"] == {
        "serviceName": "products",
        "code": "PRODUCT_STORE_DOWN",
    }


async def test_ready_once_the_supergraph_is_loaded(gateway_client: httpx.AsyncClient) -> None:
    assert (await gateway_client.get("/ready")).status_code == 200
