"""Fuzzing the orders subgraph: no input, however odd, gets a server error."""

from __future__ import annotations

from pathlib import Path

from domains.orders.app import create_app
from tests.fuzzing import assert_no_internal_errors, fuzz_operations, junk_representations
from tests.integration.orders.conftest import Subgraph, make_order
from tests.support import local_runtime


def test_fuzzed_operations_never_get_a_server_error(tmp_path: Path) -> None:
    runtime = local_runtime(orders=f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}")
    fuzzed = fuzz_operations(create_app(runtime), examples=12)
    assert set(fuzzed) >= {
        "Query.order",
        "Query.orders",
        "Mutation.confirmOrder",
        "Mutation.refundOrder",
    }


async def test_junk_entity_representations_never_get_a_server_error(subgraph: Subgraph) -> None:
    order = await make_order(subgraph.domain)
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
        "... on Order { id status lines { sku } } "
        "... on Product { sku recentOrders(first: 2) { id } } "
        "... on Location { id recentOrders(first: 1) { id } } } }"
    )
    batches = junk_representations(
        {"Order": ["id"], "Product": ["sku"], "Location": ["id"]}, rounds=80
    )
    batches.append([{"__typename": "Order", "id": order.id}, {"__typename": "Order", "id": 5}])
    for batch in batches:
        response = await subgraph.client.post(
            "/graphql", json={"query": query, "variables": {"r": batch}}
        )
        assert_no_internal_errors(response)
