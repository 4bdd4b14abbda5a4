"""Mutations: root fields run one after another in document order; neighbours on the same
subgraph share a fetch; entity fetches for their results follow each one."""

from __future__ import annotations

from tests.unit.gateway.planner.support import SHOP as SUPERGRAPH
from tests.unit.gateway.planner.support import expected, plan_text


def test_mutation_root_fields_run_in_document_order() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        mutation Shop($id: ID!) {
          first: placeOrder(productId: $id, quantity: 1) {
            id
          }
          renameProduct(id: $id, name: "New") {
            name
          }
          second: placeOrder(productId: $id, quantity: 2) {
            id
          }
          cancelOrder(id: "o-1") {
            id
          }
        }
        """,
        "Shop",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "orders") {
              {
                first: placeOrder(productId: $id, quantity: 1) {
                  id
                }
              }
            },
            Fetch(service: "products") {
              {
                renameProduct(id: $id, name: "New") {
                  name
                }
              }
            },
            Fetch(service: "orders") {
              {
                second: placeOrder(productId: $id, quantity: 2) {
                  id
                }
                cancelOrder(id: "o-1") {
                  id
                }
              }
            },
          },
        }
        """
    )


def test_mutation_result_fields_from_other_subgraphs_are_fetched_after_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        mutation {
          placeOrder(productId: "p-1", quantity: 3) {
            product {
              name
            }
            buyer {
              name
            }
          }
          login(name: "ann") {
            id
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
                placeOrder(productId: "p-1", quantity: 3) {
                  product {
                    __typename
                    id
                  }
                  buyer {
                    __typename
                    id
                  }
                }
              }
            },
            Parallel {
              Flatten(path: "placeOrder.product") {
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
              Flatten(path: "placeOrder.buyer") {
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
            Fetch(service: "accounts") {
              {
                login(name: "ann") {
                  id
                }
              }
            },
          },
        }
        """
    )
