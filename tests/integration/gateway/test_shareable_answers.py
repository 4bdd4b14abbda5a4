"""A @shareable field asked twice on one object (again through a fragment, or under
another alias) is read from one subgraph: the client gets every selection, and the other
subgraphs that could answer it are not asked for it."""

from __future__ import annotations

from typing import Any

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.test_shareable import SUPERGRAPH_SDL

PRODUCT = {
    "__typename": "Product",
    "id": "1",
    "name": "Kettle",
    "description": "1.7 l, steel",
    "score": 4.5,
    "details": {"summary": "A kettle", "keywords": ["kitchen", "tea"]},
}


def _product(*fields: str) -> dict[str, Any]:
    return {name: PRODUCT[name] for name in ("__typename", "id", *fields)}


def subgraphs() -> FakeSubgraphs:
    catalog = FakeSubgraph(
        """
        type Details { summary: String }
        type Money { amount: Int currency: String }
        type Product {
          id: ID! name: String description: String price: Money details: Details
        }
        type Query { product(id: ID!): Product storeName: String }
        """,
        {"product": lambda info, id: _product("name", "description", "details")},
        lambda rep: _product("name", "description", "details"),
        ("Product",),
    )
    pricing = FakeSubgraph(
        """
        type Money { amount: Int currency: String }
        type Product { id: ID! price: Money }
        type Query { deals: [Product] storeName: String }
        """,
        {"deals": [_product()]},
        lambda rep: _product(),
        ("Product",),
    )
    search = FakeSubgraph(
        """
        type Details { summary: String keywords: [String] }
        type Product { id: ID! name: String score: Float details: Details }
        type Query { product(id: ID!): Product }
        """,
        {"product": lambda info, id: _product("name", "score", "details")},
        lambda rep: _product("name", "score", "details"),
        ("Product",),
    )
    return FakeSubgraphs(catalog=catalog, pricing=pricing, search=search)


async def run(query: str, fakes: FakeSubgraphs) -> Any:
    engine = FederatedEngine(SUPERGRAPH_SDL, fetcher=fakes)
    return await engine.execute(engine.prepare(query, None), {}, {})


def queries(fakes: FakeSubgraphs, service: str) -> list[str]:
    return [request["query"] for request in fakes.subgraphs[service].requests]


async def test_a_root_field_asked_again_through_a_fragment_is_read_from_one_subgraph() -> None:
    fakes = subgraphs()
    result = await run(
        '{ product(id: "1") { description } ... on Query { product(id: "1") { score } } }',
        fakes,
    )

    assert result.errors == []
    assert result.data == {"product": {"description": "1.7 l, steel", "score": 4.5}}
    assert all("_entities" in query for query in queries(fakes, "search"))


async def test_a_field_asked_again_under_an_alias_is_read_from_one_subgraph() -> None:
    fakes = subgraphs()
    result = await run(
        "{ deals { description score ... on Product { details { keywords } } "
        "d: details { summary } } }",
        fakes,
    )

    assert result.errors == []
    assert result.data == {
        "deals": [
            {
                "description": "1.7 l, steel",
                "score": 4.5,
                "details": {"keywords": ["kitchen", "tea"]},
                "d": {"summary": "A kettle"},
            }
        ]
    }
    assert not any("details" in query for query in queries(fakes, "catalog"))
