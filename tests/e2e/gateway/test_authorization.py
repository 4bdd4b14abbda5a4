"""The supergraph's @authenticated and @requiresScopes are enforced by the gateway: a
field its caller may not see is cut from the operation before planning, answers null
with UNAUTHORIZED_FIELD_OR_TYPE at its path, and is never asked of a subgraph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from gateway.authorization import UnauthorizedMode
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import ANONYMOUS, Client, ClientDirectory, key_hash
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import RecordingApp, subgraph_apps

_LINKS = (
    '  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)\n'
    '  @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)\n'
    '  @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)'
)
_DEFINITIONS = """
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

directive @requiresScopes(
  scopes: [[requiresScopes__Scope!]!]!
) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM

scalar requiresScopes__Scope
"""


def protected(supergraph: str) -> str:
    """The composed supergraph with product(sku) and rename for authenticated callers,
    and inStock for holders of the stock:read scope."""
    protected = (
        supergraph.replace(
            '  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)', _LINKS
        )
        .replace(
            "  product(sku: ID!): Product @join__field(graph: PRODUCTS)",
            "  product(sku: ID!): Product @join__field(graph: PRODUCTS) @authenticated",
        )
        .replace(
            "  rename(sku: ID!, name: String!): Product!",
            "  rename(sku: ID!, name: String!): Product! @authenticated",
        )
        .replace(
            "  inStock: Int! @join__field(graph: STOCK)",
            '  inStock: Int! @join__field(graph: STOCK) @requiresScopes(scopes: [["stock:read"]])',
        )
    )
    assert protected.count("@authenticated\n") == 2
    assert "stock:read" in protected
    return protected + _DEFINITIONS


CLIENTS = ClientDirectory(
    [
        Client("shop", key_hashes=frozenset({key_hash("shop-key")})),
        Client(
            "warehouse",
            scopes=frozenset({"stock:read"}),
            key_hashes=frozenset({key_hash("wh-key")}),
        ),
    ],
    anonymous=Client(ANONYMOUS),
)


@asynccontextmanager
async def gateway(
    unauthorized: UnauthorizedMode = "filter",
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, RecordingApp]]]:
    apps = subgraph_apps()
    engine = FederatedEngine(
        protected(await compose_from_apps(apps)),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        unauthorized=unauthorized,
    )
    app = create_app(engine, clients=CLIENTS)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, apps


async def ask(client: httpx.AsyncClient, query: str, key: str | None = None) -> dict[str, Any]:
    headers = {"x-api-key": key} if key else {}
    answer = await client.post("/graphql", json={"query": query}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def codes(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    return [(e["extensions"]["code"], e.get("path")) for e in body.get("errors", [])]


async def test_an_anonymous_caller_gets_null_for_a_field_that_needs_credentials() -> None:
    query = '{ product(sku: "SKU-1") { name } products(first: 1) { sku } }'
    async with gateway() as (client, _):
        anonymous = await ask(client, query)
        known = await ask(client, query, "shop-key")

    assert anonymous["data"] == {"product": None, "products": [{"sku": "SKU-0"}]}
    assert codes(anonymous) == [("UNAUTHORIZED_FIELD_OR_TYPE", ["product"])]
    assert known == {"data": {"product": {"name": "Product SKU-1"}, "products": [{"sku": "SKU-0"}]}}


async def test_a_field_needing_a_scope_is_seen_only_by_clients_holding_it() -> None:
    query = '{ product(sku: "SKU-2") { sku inStock } }'
    async with gateway() as (client, apps):
        before = len(apps["stock"].headers)  # composition read its SDL
        without_scope = await ask(client, query, "shop-key")
        stock_calls = len(apps["stock"].headers) - before
        with_scope = await ask(client, query, "wh-key")

    # inStock is non-null: cut, it takes its product with it, as a null would.
    assert without_scope["data"] == {"product": None}
    assert ("UNAUTHORIZED_FIELD_OR_TYPE", ["product", "inStock"]) in codes(without_scope)
    assert stock_calls == 0, "the stock subgraph was asked for a field the caller may not see"
    assert with_scope == {"data": {"product": {"sku": "SKU-2", "inStock": 20}}}
    assert len(apps["stock"].headers) - before == 1


async def test_an_anonymous_mutation_needing_credentials_is_refused_and_never_sent() -> None:
    mutation = 'mutation { rename(sku: "SKU-1", name: "Stolen") { name } }'
    async with gateway() as (client, apps):
        before = len(apps["products"].headers)  # composition read its SDL
        anonymous = await ask(client, mutation)
        sent_by_anonymous = len(apps["products"].headers) - before
        known = await ask(client, mutation, "shop-key")

    assert anonymous["data"] is None
    assert codes(anonymous)[0] == ("UNAUTHORIZED_FIELD_OR_TYPE", ["rename"])
    assert sent_by_anonymous == 0
    assert known == {"data": {"rename": {"name": "Stolen"}}}


async def test_fragments_are_cut_wherever_they_are_spread() -> None:
    query = """
      query { product(sku: "SKU-3") { ...Stock } products(first: 1) { ...Stock } }
      fragment Stock on Product { sku inStock }
    """
    async with gateway() as (client, _):
        warehouse = await ask(client, query, "wh-key")
        shop = await ask(client, query, "shop-key")

    assert warehouse["data"] == {
        "product": {"sku": "SKU-3", "inStock": 30},
        "products": [{"sku": "SKU-0", "inStock": 0}],
    }
    cut = [path for code, path in codes(shop) if code == "UNAUTHORIZED_FIELD_OR_TYPE"]
    assert cut == [["product", "inStock"], ["products", "inStock"]]


async def test_in_reject_mode_an_operation_asking_for_a_field_it_may_not_see_is_refused_whole() -> (
    None
):
    query = "{ products(first: 1) { sku inStock } }"
    async with gateway("reject") as (client, apps):
        before = {name: len(app.headers) for name, app in apps.items()}
        refused = await client.post(
            "/graphql",
            json={"query": query},
            headers={"x-api-key": "shop-key", "accept": "application/graphql-response+json"},
        )
        asked = {name: len(app.headers) - before[name] for name, app in apps.items()}
        allowed = await ask(client, query, "wh-key")

    assert refused.status_code == 403
    assert "data" not in refused.json()
    assert codes(refused.json()) == [("UNAUTHORIZED_FIELD_OR_TYPE", ["products", "inStock"])]
    assert set(asked.values()) == {0}, "a subgraph was asked for a refused operation"
    assert allowed == {"data": {"products": [{"sku": "SKU-0", "inStock": 0}]}}
