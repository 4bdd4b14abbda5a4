"""Value types (no key) spread over subgraphs: the planner re-enters the graph from the
nearest entity above them, or from the query root, and fetches missing keys first."""

from __future__ import annotations

from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["labels", "shop", "warehouse"],
    """
    type Query
      @join__type(graph: LABELS)
      @join__type(graph: SHOP)
      @join__type(graph: WAREHOUSE)
    {
      products: [Product] @join__field(graph: SHOP)
      store: Store @join__field(graph: SHOP) @join__field(graph: WAREHOUSE)
    }

    type Store
      @join__type(graph: SHOP)
      @join__type(graph: WAREHOUSE)
    {
      name: String @join__field(graph: SHOP)
      address: String @join__field(graph: WAREHOUSE)
    }

    type Product
      @join__type(graph: SHOP, key: "id")
      @join__type(graph: WAREHOUSE, key: "id")
    {
      id: ID!
      brand: Brand
      category: Category
    }

    type Brand
      @join__type(graph: SHOP)
      @join__type(graph: WAREHOUSE)
    {
      name: String @join__field(graph: SHOP)
      origin: String @join__field(graph: WAREHOUSE)
    }

    type Category
      @join__type(graph: LABELS, key: "code")
      @join__type(graph: SHOP)
      @join__type(graph: WAREHOUSE)
    {
      code: String @join__field(graph: LABELS) @join__field(graph: WAREHOUSE)
      slug: String @join__field(graph: SHOP)
      label: String @join__field(graph: LABELS)
    }
    """,
)


def test_shared_root_value_type_is_split_over_root_fetches() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          store {
            name
            address
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Parallel {
            Fetch(service: "shop") {
              {
                store {
                  name
                }
              }
            },
            Fetch(service: "warehouse") {
              {
                store {
                  address
                }
              }
            },
          },
        }
        """
    )


def test_value_type_field_from_another_subgraph_re_enters_through_the_parent_entity() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            brand {
              name
              origin
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "shop") {
              {
                products {
                  brand {
                    name
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "warehouse") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    brand {
                      origin
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_key_the_subgraph_lacks_is_fetched_before_the_jump() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            category {
              slug
              label
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "shop") {
              {
                products {
                  category {
                    slug
                    __typename
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "warehouse") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    category {
                      code
                    }
                  }
                }
              },
            },
            Flatten(path: "products.@.category") {
              Fetch(service: "labels") {
                {
                  ... on Category {
                    __typename
                    code
                  }
                } =>
                {
                  ... on Category {
                    label
                  }
                }
              },
            },
          },
        }
        """
    )
