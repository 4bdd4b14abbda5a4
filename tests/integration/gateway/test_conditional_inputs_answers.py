"""What the plan needs is fetched whatever the client's @skip/@include say, and what only
a skipped field needs is not fetched at all: through the engine, against fake subgraphs."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.test_conditional_inputs import SUPERGRAPH_SDL

SKUS = {"p1": "sku-1", "p2": "sku-2"}


def subgraphs() -> FakeSubgraphs:
    reviews = FakeSubgraph(
        """
        type Product { id: ID! }
        type Review { body: String product: Product }
        type Query { reviews: [Review] }
        """,
        {"reviews": [{"body": "good", "product": {"__typename": "Product", "id": "p1"}}]},
    )
    products = FakeSubgraph(
        """
        type Product { id: ID! sku: String! weight: Int }
        type Query { product: Product }
        """,
        {
            "product": {
                "__typename": "Product",
                "id": "p2",
                "sku": SKUS["p2"],
                "weight": ValueError("weight is down"),
            }
        },
        lambda rep: {"__typename": "Product", "id": rep["id"], "sku": SKUS[rep["id"]]},
        ("Product",),
    )
    pricing = FakeSubgraph(
        """
        type Product { sku: String! price: Int! }
        type Query { _unused: Int }
        """,
        {},
        lambda rep: {"__typename": "Product", "sku": rep["sku"], "price": len(rep["sku"])},
        ("Product",),
    )
    shipping = FakeSubgraph(
        """
        type Product { id: ID! weight: Int stock: Int shippingEstimate: Int }
        type Query { _unused: Int }
        """,
        {},
        lambda rep: {
            "__typename": "Product",
            "id": rep["id"],
            "stock": 7,
            "shippingEstimate": rep.get("weight"),
        },
        ("Product",),
    )
    return FakeSubgraphs(reviews=reviews, products=products, pricing=pricing, shipping=shipping)


async def run(query: str, fakes: FakeSubgraphs, variables: dict[str, Any]) -> Any:
    engine = FederatedEngine(SUPERGRAPH_SDL, fetcher=fakes)
    return await engine.execute(engine.prepare(query, None), variables, {})


@pytest.mark.parametrize("skip", [True, False])
async def test_a_skipped_key_field_still_leads_to_the_fields_behind_it(skip: bool) -> None:
    result = await run(
        "query($s: Boolean!) { reviews { product { price sku @skip(if: $s) } } }",
        subgraphs(),
        {"s": skip},
    )

    assert result.errors == []
    product = {"price": 5} if skip else {"price": 5, "sku": "sku-1"}
    assert result.data == {"reviews": [{"product": product}]}


async def test_a_skipped_requires_field_does_not_fetch_its_inputs_nor_report_their_errors() -> None:
    fakes = subgraphs()

    result = await run(
        "query($s: Boolean!) { product { stock shippingEstimate @skip(if: $s) } }",
        fakes,
        {"s": True},
    )

    assert result.errors == []
    assert result.data == {"product": {"stock": 7}}
    assert len(fakes.subgraphs["shipping"].requests) == 1  # stock's; none for the estimate


async def test_an_included_requires_field_gets_its_inputs_and_their_errors() -> None:
    result = await run(
        "query($s: Boolean!) { product { stock shippingEstimate @skip(if: $s) } }",
        subgraphs(),
        {"s": False},
    )

    assert result.data == {"product": {"stock": 7, "shippingEstimate": None}}
    assert [(e.message, e.path) for e in result.errors] == [
        ("weight is down", ("product", "weight"))
    ]
