"""Every HTTP request is made by a client: no credential is the anonymous client, a
known key names its client, and a credential the gateway does not recognise is refused
with 401 and a challenge, whatever the operation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from gateway.cost import CostLimits
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import ANONYMOUS, Client, ClientDirectory, key_hash
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import subgraph_apps

QUERY = {"query": "{ products { sku } }"}
STOREFRONT = Client("storefront", key_hashes=frozenset({key_hash("sf-key")}))


@asynccontextmanager
async def gateway(
    clients: ClientDirectory, **engine_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    apps = subgraph_apps()
    engine = FederatedEngine(
        await compose_from_apps(apps),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        **engine_options,
    )
    app = create_app(engine, clients=clients)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_anonymous_and_known_clients_are_answered_and_a_bad_key_is_refused() -> None:
    directory = ClientDirectory([STOREFRONT], anonymous=Client(ANONYMOUS))
    async with gateway(directory) as client:
        anonymous = await client.post("/graphql", json=QUERY)
        known = await client.post("/graphql", json=QUERY, headers={"x-api-key": "sf-key"})
        bad = await client.post("/graphql", json=QUERY, headers={"authorization": "Bearer guessed"})

    assert anonymous.status_code == known.status_code == 200
    assert anonymous.json() == known.json()
    assert "errors" not in known.json()
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="retailgraph", error="invalid_token"'
    assert bad.json() == {
        "errors": [
            {
                "message": "The credentials are not valid.",
                "extensions": {"code": "INVALID_CREDENTIALS"},
            }
        ]
    }


async def test_a_members_only_gateway_asks_for_credentials_before_reading_the_request() -> None:
    async with gateway(ClientDirectory([STOREFRONT], anonymous=None)) as client:
        refused = await client.post("/graphql", json={"query": "{ not valid"})
        admitted = await client.get(
            "/graphql", params=QUERY, headers={"authorization": "Bearer sf-key"}
        )

    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="retailgraph"'
    assert refused.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_REQUIRED"
    assert admitted.status_code == 200


async def test_a_client_may_introspect_or_spend_as_its_own_settings_say() -> None:
    tooling = Client(
        "tooling", key_hashes=frozenset({key_hash("tool-key")}), introspection=True, max_cost=2
    )
    directory = ClientDirectory([tooling], anonymous=Client(ANONYMOUS))
    introspect = {"query": "{ __schema { queryType { name } } }"}
    costly = {"query": "{ products(first: 5) { sku } }"}
    async with gateway(directory, introspection=False, cost=CostLimits(max_cost=1000)) as client:
        anonymous = await client.post("/graphql", json=introspect)
        allowed = await client.post("/graphql", json=introspect, headers={"x-api-key": "tool-key"})
        within_gateway_budget = await client.post("/graphql", json=costly)
        over_own_budget = await client.post(
            "/graphql", json=costly, headers={"x-api-key": "tool-key"}
        )

    assert anonymous.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert allowed.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert "errors" not in within_gateway_budget.json()
    refusal = over_own_budget.json()["errors"][0]
    assert refusal["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert refusal["extensions"]["cost"]["max"] == 2
