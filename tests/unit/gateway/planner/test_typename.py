"""``__typename`` anywhere, and introspection: what the gateway answers itself is never
fetched; everything else is fetched where its object is."""

from __future__ import annotations

from tests.unit.gateway.planner.support import SHOP as SUPERGRAPH
from tests.unit.gateway.planner.support import expected, plan_text


def test_root_typename_and_introspection_need_no_fetch() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          __typename
          __schema {
            queryType {
              name
            }
          }
          __type(name: "User") {
            name
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {}
        """
    )


def test_typename_is_fetched_with_the_object_and_after_a_jump() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          __typename
          order(id: "o-1") {
            __typename
            buyer {
              kind: __typename
              name
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "orders") {
              {
                order(id: "o-1") {
                  __typename
                  buyer {
                    kind: __typename
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "order.buyer") {
              Fetch(service: "accounts") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    name
                  }
                }
              },
            },
          },
        }
        """
    )


def test_typename_of_mutation_results_is_fetched_with_them() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        mutation {
          __typename
          login(name: "ann") {
            __typename
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "accounts") {
            {
              login(name: "ann") {
                __typename
              }
            }
          },
        }
        """
    )
