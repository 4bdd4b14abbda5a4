"""What the planner can reach: external key fields, and fields no subgraph can get to."""

# ruff: noqa: E501 (supergraph SDL is kept as Apollo prints it, one directive per line)

from __future__ import annotations

import pytest
from graphql import parse

from gateway.planner import PlanningError, build_plan
from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["a", "b", "d"],
    """
    type Query @join__type(graph: A) @join__type(graph: B) @join__type(graph: D) {
      product(id: ID!): Product @join__field(graph: D)
      node(id: ID!): Node @join__field(graph: A) @join__field(graph: B)
    }

    type Product
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
      @join__type(graph: D, key: "id")
    {
      id: ID @join__field(graph: A, external: true) @join__field(graph: B, external: true) @join__field(graph: D)
      label: String @join__field(graph: A)
      code: String @join__field(graph: B)
    }

    interface Node @join__type(graph: A) @join__type(graph: B) {
      id: ID!
    }

    type Account implements Node
      @join__implements(graph: A, interface: "Node")
      @join__implements(graph: B, interface: "Node")
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
    {
      id: ID! @join__field(graph: A) @join__field(graph: B, external: true)
    }

    type Chat implements Node
      @join__implements(graph: A, interface: "Node")
      @join__implements(graph: B, interface: "Node")
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
    {
      id: ID! @join__field(graph: A, external: true) @join__field(graph: B)
    }
    """,
)


def test_subgraph_entered_by_key_gives_back_its_external_key_fields() -> None:
    plan = plan_text(SUPERGRAPH, '{ product(id: "p") { label code } }')
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "d") {
              {
                product(id: "p") {
                  __typename
                  id
                }
              }
            },
            Parallel {
              Flatten(path: "product") {
                Fetch(service: "a") {
                  {
                    ... on Product {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Product {
                      label
                    }
                  }
                },
              },
              Flatten(path: "product") {
                Fetch(service: "b") {
                  {
                    ... on Product {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Product {
                      code
                    }
                  }
                },
              },
            },
          },
        }
        """
    )


def test_field_no_subgraph_can_reach_fails_planning() -> None:
    # Node.id is external for Chat in a and for Account in b: neither answers for both
    with pytest.raises(PlanningError, match="no subgraph can reach"):
        build_plan(SUPERGRAPH, parse('{ node(id: "n") { id } }'), None)
