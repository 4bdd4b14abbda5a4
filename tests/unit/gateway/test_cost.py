"""The cost estimate of operations against our own supergraph, from its @listSize."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, validate

from gateway.cost import CostEstimator, CostLimits
from gateway.supergraph import load_supergraph

SUPERGRAPH = load_supergraph((Path(__file__).parents[3] / "schema.graphql").read_text())
ESTIMATOR = CostEstimator(SUPERGRAPH.api_schema, SUPERGRAPH.costs, CostLimits())


def cost(query: str, **variables: Any) -> int:
    """The estimate of ``query``, which must be valid against the API schema: the gateway
    estimates only operations that passed validation."""
    document = parse(query)
    assert validate(SUPERGRAPH.api_schema, document) == []
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return ESTIMATOR.estimate(operation, fragments, variables)


def test_the_supergraph_carries_our_subgraphs_list_sizes() -> None:
    sizes = SUPERGRAPH.costs.list_sizes
    assert sizes[("Query", "orders")].slicing_arguments == ("first",)
    assert sizes[("Query", "orders")].sized_fields == ("edges",)
    assert sizes[("Order", "lines")].assumed_size == 20


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # product 1 + name 0
        ('{ product(sku: "A") { name } }', 1),
        # connection 1 + 7 edges x (edge 1 + node 1)
        ("{ orders(first: 7) { edges { node { number } } } }", 1 + 7 * 2),
        # recentOrders' default first (5) when the client gives none
        ('{ product(sku: "A") { recentOrders { number } } }', 1 + 5),
        # an order's lines are assumed 20
        ('{ order(id: "1") { lines { sku } } }', 1 + 20),
    ],
)
def test_lists_count_by_their_slicing_argument_default_or_assumed_size(
    query: str, expected: int
) -> None:
    assert cost(query) == expected


def test_a_slicing_variable_sets_the_size() -> None:
    query = "query ($n: Int!) { orders(first: $n) { edges { node { number } } } }"
    assert cost(query, n=50) == 1 + 50 * 2
    assert cost(query, n=2) == 1 + 2 * 2


def test_a_mutation_root_field_costs_ten() -> None:
    assert cost('mutation { cancelOrder(id: "1", idempotencyKey: "k", reason: "r") { id } }') >= 10


def test_fragments_count_where_they_are_spread_and_the_nesting_multiplies() -> None:
    nested = """{ orders(first: 100) { edges { node { ...O } } } }
    fragment O on Order { lines { product { recentOrders(first: 50) { number } } } }"""
    # 1 + 100 x (edge 1 + order 1 + 20 lines x (line 1 + product 1 + 50 orders))
    assert cost(nested) == 1 + 100 * (2 + 20 * (2 + 50))
    assert ESTIMATOR.refusal(cost(nested)) is not None
