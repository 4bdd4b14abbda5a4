"""A @requires that needs a field with one argument, beside the client's own selection of
that field with another, reads each under its own response name: the subgraph is asked
for both, the requiring field gets the value it needs, the client the one it asked for."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.test_requires import SUPERGRAPH_SDL

PRICES = {"EUR": 100.0, "USD": 108.0, "GBP": 86.0}


def subgraphs() -> FakeSubgraphs:
    product = {
        "__typename": "Product",
        "upc": "u1",
        "price": lambda info, currency: PRICES[currency],
    }
    catalog = FakeSubgraph(
        """
        type Product { upc: String! price(currency: String!): Float }
        type Query { products: [Product] }
        """,
        {"products": [product]},
        lambda rep: product,
        ("Product",),
    )
    # Insurance is 2% of the EUR price the representation carries.
    shipping = FakeSubgraph(
        """
        type Product { upc: String! insurance: Float }
        type Query { _unused: Int }
        """,
        {},
        lambda rep: {"__typename": "Product", "upc": rep["upc"], "insurance": rep["price"] * 0.02},
        ("Product",),
    )
    return FakeSubgraphs(catalog=catalog, shipping=shipping)


@pytest.mark.parametrize(
    "query",
    [
        "query ($c: String!) { products { insurance price(currency: $c) } }",
        "query ($c: String!) { products { price(currency: $c) insurance } }",
    ],
)
async def test_the_requiring_field_and_the_clients_field_each_get_their_own_argument(
    query: str,
) -> None:
    engine = FederatedEngine(SUPERGRAPH_SDL, fetcher=subgraphs())
    result: Any = await engine.execute(engine.prepare(query, None), {"c": "GBP"}, {})

    assert result.errors == []
    assert result.data == {"products": [{"insurance": 2.0, "price": 86.0}]}
