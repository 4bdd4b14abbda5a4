"""@skip and @include stay in subgraph operations; a fetch that only runs under a
variable is wrapped in a Condition node (printed Include/Skip, as Apollo does)."""

from __future__ import annotations

from tests.unit.gateway.planner.support import SHOP as SUPERGRAPH
from tests.unit.gateway.planner.support import expected, plan_text


def test_field_from_another_subgraph_under_include_gets_a_conditional_fetch() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($withName: Boolean!, $id: ID!) {
          order(id: $id) {
            quantity
            buyer {
              name @include(if: $withName)
            }
          }
        }
        """,
        "Q",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "orders") {
              {
                order(id: $id) {
                  quantity
                  buyer {
                    __typename
                    id
                  }
                }
              }
            },
            Include(if: $withName) {
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
                      name @include(if: $withName)
                    }
                  }
                },
              },
            },
          },
        }
        """
    )


def test_root_field_under_skip_makes_its_whole_fetch_conditional() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($noUser: Boolean!, $id: ID!) {
          me @skip(if: $noUser) {
            name
          }
          product(id: $id) {
            price
          }
        }
        """,
        "Q",
    )
    assert plan == expected(
        """
        QueryPlan {
          Parallel {
            Skip(if: $noUser) {
              Fetch(service: "accounts") {
                {
                  me @skip(if: $noUser) {
                    name
                  }
                }
              },
            },
            Fetch(service: "products") {
              {
                product(id: $id) {
                  price
                }
              }
            },
          },
        }
        """
    )


def test_fragment_conditions_are_pushed_onto_its_fields() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($details: Boolean!, $id: ID!) {
          order(id: $id) {
            quantity
            ... @include(if: $details) {
              product {
                name
              }
            }
          }
        }
        """,
        "Q",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "orders") {
              {
                order(id: $id) {
                  quantity
                  product @include(if: $details) {
                    __typename
                    id
                  }
                }
              }
            },
            Include(if: $details) {
              Flatten(path: "order.product") {
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
          },
        }
        """
    )


def test_literal_false_include_drops_the_selection() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          me {
            name
            orders @include(if: false) {
              quantity
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "accounts") {
            {
              me {
                name
              }
            }
          },
        }
        """
    )


def test_an_object_whose_fields_literal_conditions_all_leave_out_asks_for_its_typename() -> None:
    # The subgraph needs a selection under `buyer`; the client gets `buyer: {}` and
    # `quantity` from the same fetch.
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($id: ID!) {
          order(id: $id) { quantity buyer { id @include(if: false) name @skip(if: true) } }
        }
        """,
        "Q",
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "orders") {
            {
              order(id: $id) {
                quantity
                buyer {
                  __typename
                }
              }
            }
          },
        }
        """
    )


def test_nested_fragments_under_one_condition_put_it_on_the_field_once() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($id: ID!, $a: Boolean!) {
          order(id: $id) {
            ... @include(if: $a) { ... @include(if: $a) { quantity } }
            ... @include(if: true) { ... @skip(if: false) { buyer { __typename } } }
          }
        }
        """,
        "Q",
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "orders") {
            {
              order(id: $id) {
                quantity @include(if: $a)
                buyer {
                  __typename
                }
              }
            }
          },
        }
        """
    )
