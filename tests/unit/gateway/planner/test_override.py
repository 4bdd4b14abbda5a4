"""@override: the overriding subgraph resolves the field, progressive labels included
(the planner treats a labelled override as done); the old owner may still serve it as key."""

# ruff: noqa: E501 (supergraph SDL is kept as Apollo prints it, one directive per line)

from __future__ import annotations

from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["catalog", "inventory"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: INVENTORY)
    {
      products: [Product] @join__field(graph: CATALOG)
      warehouses: [Warehouse] @join__field(graph: INVENTORY)
    }

    type Product
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: INVENTORY, key: "id")
    {
      id: ID!
      name: String @join__field(graph: CATALOG)
      inStock: Boolean @join__field(graph: INVENTORY, override: "catalog")
      reserved: Int
        @join__field(graph: CATALOG, overrideLabel: "percent(25)")
        @join__field(graph: INVENTORY, override: "catalog", overrideLabel: "percent(25)")
      legacyCode: String @join__field(graph: CATALOG, usedOverridden: true) @join__field(graph: INVENTORY, override: "catalog")
    }

    type Warehouse @join__type(graph: INVENTORY, key: "code") {
      code: String!
      products: [Product]
    }
    """,
)


def test_overridden_field_comes_from_the_overriding_subgraph() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            name
            inStock
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
                products {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "inventory") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    inStock
                  }
                }
              },
            },
          },
        }
        """
    )


def test_progressive_override_is_planned_as_complete() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            reserved
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
                products {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "inventory") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    reserved
                  }
                }
              },
            },
          },
        }
        """
    )


def test_field_kept_only_for_the_old_owner_is_not_fetched_from_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          warehouses {
            products {
              legacyCode
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
            Fetch(service: "inventory") {
              {
                warehouses {
                  products {
                    legacyCode
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "warehouses.@.products.@") {
              Fetch(service: "catalog") {
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
