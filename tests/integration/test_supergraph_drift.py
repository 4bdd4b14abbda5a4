"""The checked-in supergraph is exactly what the four subgraphs compose to."""

from __future__ import annotations

from gateway.supergraph import load_supergraph
from retailgraph.supergraph import SCHEMA_PATH, compose_domains


async def test_schema_graphql_matches_what_the_subgraphs_serve() -> None:
    composed = await compose_domains()
    assert composed == SCHEMA_PATH.read_text(), (
        "schema.graphql has drifted from the subgraphs: run `retailgraph compose`"
    )


async def test_schema_graphql_loads_with_all_four_subgraphs() -> None:
    supergraph = load_supergraph(SCHEMA_PATH.read_text())
    assert sorted(supergraph.subgraphs) == ["inventory", "orders", "pricing", "products"]
