"""@requires: the required fields are fetched first, wherever they live, and sent in the
representation (nested fields, arguments and fragments included)."""

# ruff: noqa: E501 (supergraph SDL is kept as Apollo prints it, one directive per line)

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import Fetch, Flatten, KeyRenamer, Parallel, Sequence
from gateway.supergraph import load_supergraph
from tests.unit.gateway.planner.support import expected, plan_text, supergraph_sdl

SUPERGRAPH_SDL = supergraph_sdl(
    ["catalog", "shipping"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: SHIPPING)
    {
      products: [Product] @join__field(graph: CATALOG)
      parcels: [Parcel] @join__field(graph: SHIPPING)
    }

    type Product
      @join__type(graph: CATALOG, key: "upc")
      @join__type(graph: SHIPPING, key: "upc")
    {
      upc: String!
      name: String @join__field(graph: CATALOG)
      weight: Int @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
      dimensions: Dimensions @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
      price(currency: String!): Float @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
      packaging: Packaging @join__field(graph: CATALOG) @join__field(graph: SHIPPING, external: true)
      shippingEstimate: Int @join__field(graph: SHIPPING, requires: "weight dimensions { height width }")
      insurance: Float @join__field(graph: SHIPPING, requires: "price(currency: \\"EUR\\")")
      insuranceUsd: Float @join__field(graph: SHIPPING, requires: "price(currency: \\"USD\\")")
      handling: String @join__field(graph: SHIPPING, requires: "packaging { ... on Box { size } ... on Bag { material } }")
    }

    type Dimensions
      @join__type(graph: CATALOG)
      @join__type(graph: SHIPPING)
    {
      height: Int
      width: Int
      depth: Int @join__field(graph: CATALOG)
    }

    union Packaging
      @join__type(graph: CATALOG)
      @join__type(graph: SHIPPING)
      @join__unionMember(graph: CATALOG, member: "Box")
      @join__unionMember(graph: SHIPPING, member: "Box")
      @join__unionMember(graph: CATALOG, member: "Bag")
      @join__unionMember(graph: SHIPPING, member: "Bag")
    = Box | Bag

    type Box
      @join__type(graph: CATALOG)
      @join__type(graph: SHIPPING)
    {
      size: Int
    }

    type Bag
      @join__type(graph: CATALOG)
      @join__type(graph: SHIPPING)
    {
      material: String
    }

    type Parcel @join__type(graph: SHIPPING) {
      product: Product
    }
    """,
)
SUPERGRAPH = load_supergraph(SUPERGRAPH_SDL)


def test_required_nested_fields_are_fetched_before_and_sent_in_the_representation() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            name
            shippingEstimate
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
                  weight
                  dimensions {
                    height
                    width
                  }
                  __typename
                  upc
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product {
                    __typename
                    upc
                    weight
                    dimensions {
                      height
                      width
                    }
                  }
                } =>
                {
                  ... on Product {
                    shippingEstimate
                  }
                }
              },
            },
          },
        }
        """
    )


def test_required_field_with_arguments_is_fetched_with_them() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            insurance
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
                  price__alias_0: price(currency: "EUR")
                  __typename
                  upc
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product {
                    __typename
                    upc
                    price__alias_0: price
                  }
                } =>
                {
                  ... on Product {
                    insurance
                  }
                }
              },
            },
          },
        }
        """
    )


def test_required_fragments_on_a_union_carry_typename() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            handling
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
                  packaging {
                    __typename
                    ... on Box {
                      size
                    }
                    ... on Bag {
                      material
                    }
                  }
                  __typename
                  upc
                }
              }
            },
            Flatten(path: "products.@") {
              Fetch(service: "shipping") {
                {
                  ... on Product {
                    __typename
                    upc
                    packaging {
                      __typename
                      ... on Box {
                        size
                      }
                      ... on Bag {
                        material
                      }
                    }
                  }
                } =>
                {
                  ... on Product {
                    handling
                  }
                }
              },
            },
          },
        }
        """
    )


def test_requires_back_into_the_same_subgraph_takes_three_steps() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          parcels {
            product {
              shippingEstimate
              insurance
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "shipping") {
              {
                parcels {
                  product {
                    __typename
                    upc
                  }
                }
              }
            },
            Flatten(path: "parcels.@.product") {
              Fetch(service: "catalog") {
                {
                  ... on Product {
                    __typename
                    upc
                  }
                } =>
                {
                  ... on Product {
                    weight
                    dimensions {
                      height
                      width
                    }
                    price__alias_0: price(currency: "EUR")
                  }
                }
              },
            },
            Flatten(path: "parcels.@.product") {
              Fetch(service: "shipping") {
                {
                  ... on Product {
                    __typename
                    upc
                    weight
                    dimensions {
                      height
                      width
                    }
                    price__alias_0: price
                  }
                } =>
                {
                  ... on Product {
                    shippingEstimate
                    insurance
                  }
                }
              },
            },
          },
        }
        """
    )


def test_required_fields_with_conflicting_arguments_are_aliased_into_separate_fetches() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            insurance
            insuranceUsd
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
                  price__alias_0: price(currency: "EUR")
                  __typename
                  upc
                  price__alias_1: price(currency: "USD")
                }
              }
            },
            Parallel {
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product {
                      __typename
                      upc
                      price__alias_0: price
                    }
                  } =>
                  {
                    ... on Product {
                      insurance
                    }
                  }
                },
              },
              Flatten(path: "products.@") {
                Fetch(service: "shipping") {
                  {
                    ... on Product {
                      __typename
                      upc
                      price__alias_1: price
                    }
                  } =>
                  {
                    ... on Product {
                      insuranceUsd
                    }
                  }
                },
              },
            },
          },
        }
        """
    )


def test_aliased_required_field_is_renamed_back_in_the_representation() -> None:
    plan = build_plan(SUPERGRAPH, parse("{ products { insurance insuranceUsd } }"), None)
    assert isinstance(plan.node, Sequence)
    parallel = plan.node.nodes[1]
    assert isinstance(parallel, Parallel)
    second = parallel.nodes[1]
    assert isinstance(second, Flatten)
    assert isinstance(second.node, Fetch)
    assert second.node.input_rewrites == (
        KeyRenamer(("... on Product", "price__alias_1"), "price"),
    )
