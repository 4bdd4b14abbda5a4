"""Named and inline fragments, aliases and variables, planned as if written out."""

from __future__ import annotations

from tests.unit.gateway.planner.support import SHOP as SUPERGRAPH
from tests.unit.gateway.planner.support import expected, plan_text


def test_named_fragments_spread_across_subgraphs_are_inlined() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query MyOrders {
          me {
            ...Buyer
          }
        }

        fragment Buyer on User {
          name
          orders {
            ...OrderLine
          }
        }

        fragment OrderLine on Order {
          quantity
          product {
            ... on Product {
              name
            }
          }
        }
        """,
        "MyOrders",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "accounts") {
              {
                me {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "me") {
              Fetch(service: "orders") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    orders {
                      quantity
                      product {
                        __typename
                        id
                      }
                    }
                  }
                }
              },
            },
            Flatten(path: "me.orders.@.product") {
              Fetch(service: "products") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    name
                  }
                }
              },
            },
          },
        }
        """
    )


def test_aliases_keep_their_response_keys_in_paths_and_fetches() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Aliased($first: ID!, $second: ID!) {
          first: order(id: $first) {
            item: product {
              label: name
            }
          }
          second: order(id: $second) {
            quantity
          }
        }
        """,
        "Aliased",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "orders") {
              {
                first: order(id: $first) {
                  item: product {
                    __typename
                    id
                  }
                }
                second: order(id: $second) {
                  quantity
                }
              }
            },
            Flatten(path: "first.item") {
              Fetch(service: "products") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    label: name
                  }
                }
              },
            },
          },
        }
        """
    )
