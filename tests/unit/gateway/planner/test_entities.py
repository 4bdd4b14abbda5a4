"""Entity jumps over @key: simple, compound and nested keys, several keys, resolvable: false."""

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import Fetch, Flatten, Sequence
from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["accounts", "catalog", "stock"],
    """
    type Query
      @join__type(graph: ACCOUNTS)
      @join__type(graph: CATALOG)
      @join__type(graph: STOCK)
    {
      me: User @join__field(graph: ACCOUNTS)
      product(sku: String!): Product @join__field(graph: CATALOG)
      stockItems: [StockItem!]! @join__field(graph: STOCK)
    }

    type User
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: CATALOG, key: "id", resolvable: false)
    {
      id: ID!
      name: String @join__field(graph: ACCOUNTS)
    }

    type Product
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: CATALOG, key: "sku")
      @join__type(graph: STOCK, key: "sku warehouse { code }")
    {
      id: ID! @join__field(graph: ACCOUNTS) @join__field(graph: CATALOG)
      sku: String! @join__field(graph: CATALOG) @join__field(graph: STOCK)
      title: String @join__field(graph: CATALOG)
      createdBy: User @join__field(graph: CATALOG)
      warehouse: Warehouse @join__field(graph: CATALOG) @join__field(graph: STOCK)
      quantity(at: String): Int @join__field(graph: STOCK)
      favouritedBy: Int @join__field(graph: ACCOUNTS)
    }

    type StockItem @join__type(graph: STOCK) {
      product: Product
    }

    type Warehouse
      @join__type(graph: CATALOG)
      @join__type(graph: STOCK)
    {
      code: String!
    }
    """,
)


def test_entity_field_of_a_root_field_is_fetched_from_its_owner_after_the_root() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Q($sku: String!, $at: String) {
          product(sku: $sku) {
            title
            q: quantity(at: $at)
            createdBy {
              name
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
            Fetch(service: "catalog") {
              {
                product(sku: $sku) {
                  title
                  __typename
                  sku
                  warehouse {
                    code
                  }
                  createdBy {
                    __typename
                    id
                  }
                }
              }
            },
            Parallel {
              Flatten(path: "product") {
                Fetch(service: "stock") {
                  {
                    ... on Product {
                      __typename
                      sku
                      warehouse {
                        code
                      }
                    }
                  } =>
                  {
                    ... on Product {
                      q: quantity(at: $at)
                    }
                  }
                },
              },
              Flatten(path: "product.createdBy") {
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
          },
        }
        """
    )


def test_compound_key_with_nested_fields_shapes_the_representation() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(sku: "p-1") {
            quantity
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                product(sku: "p-1") {
                  __typename
                  sku
                  warehouse {
                    code
                  }
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "stock") {
                {
                  ... on Product {
                    __typename
                    sku
                    warehouse {
                      code
                    }
                  }
                } =>
                {
                  ... on Product {
                    quantity
                  }
                }
              },
            },
          },
        }
        """
    )


def test_missing_key_is_reached_through_a_subgraph_that_has_both_keys() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          stockItems {
            product {
              favouritedBy
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "stock") {
              {
                stockItems {
                  product {
                    __typename
                    sku
                  }
                }
              }
            },
            Flatten(path: "stockItems.@.product") {
              Fetch(service: "catalog") {
                {
                  ... on Product {
                    __typename
                    sku
                  }
                } =>
                {
                  ... on Product {
                    __typename
                    id
                  }
                }
              },
            },
            Flatten(path: "stockItems.@.product") {
              Fetch(service: "accounts") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    favouritedBy
                  }
                }
              },
            },
          },
        }
        """
    )


def test_key_fields_of_an_unresolvable_reference_come_from_the_referencing_subgraph() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(sku: "p-1") {
            createdBy {
              id
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "catalog") {
            {
              product(sku: "p-1") {
                createdBy {
                  id
                }
              }
            }
          },
        }
        """
    )


def test_single_subgraph_query_is_one_fetch() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          me {
            name
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


def test_entity_fetch_operation_declares_representations_and_client_variables() -> None:
    document = parse(
        "query Q($sku: String!, $at: String) { product(sku: $sku) { quantity(at: $at) } }"
    )
    plan = build_plan(SUPERGRAPH, document, "Q")
    assert isinstance(plan.node, Sequence)
    root, flatten = plan.node.nodes
    assert isinstance(root, Fetch)
    assert root.operation == (
        "query Q__catalog__0($sku:String!){product(sku:$sku){__typename sku warehouse{code}}}"
    )
    assert root.variable_usages == ("sku",)
    assert isinstance(flatten, Flatten)
    assert flatten.path == ("product",)
    assert isinstance(flatten.node, Fetch)
    assert flatten.node.operation == (
        "query Q__stock__1($representations:[_Any!]!,$at:String)"
        "{_entities(representations:$representations){... on Product{quantity(at:$at)}}}"
    )
    assert flatten.node.variable_usages == ("at",)
