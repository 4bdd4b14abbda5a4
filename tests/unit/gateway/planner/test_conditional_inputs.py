"""A client's @skip/@include applies to what the client sees, never to what the plan
needs: key fields a jump uses are fetched whatever the client's conditions on the same
fields, and the inputs of a conditional @requires field are fetched under its conditions."""

from __future__ import annotations

from gateway.supergraph import load_supergraph
from tests.unit.gateway.planner.support import expected, plan_text, supergraph_sdl

SUPERGRAPH_SDL = supergraph_sdl(
    ["reviews", "products", "pricing", "shipping"],
    """
    type Query
      @join__type(graph: REVIEWS)
      @join__type(graph: PRODUCTS)
      @join__type(graph: PRICING)
      @join__type(graph: SHIPPING)
    {
      reviews: [Review] @join__field(graph: REVIEWS)
      product: Product @join__field(graph: PRODUCTS)
    }

    type Review @join__type(graph: REVIEWS) {
      body: String
      product: Product
    }

    type Product
      @join__type(graph: REVIEWS, key: "id")
      @join__type(graph: PRODUCTS, key: "id")
      @join__type(graph: PRODUCTS, key: "sku")
      @join__type(graph: PRICING, key: "sku")
      @join__type(graph: SHIPPING, key: "id")
    {
      id: ID!
      sku: String! @join__field(graph: PRODUCTS) @join__field(graph: PRICING)
      weight: Int @join__field(graph: PRODUCTS) @join__field(graph: SHIPPING, external: true)
      price: Int! @join__field(graph: PRICING)
      stock: Int @join__field(graph: SHIPPING)
      shippingEstimate: Int @join__field(graph: SHIPPING, requires: "weight")
    }
    """,
)
SUPERGRAPH = load_supergraph(SUPERGRAPH_SDL)


def test_a_key_field_the_client_skips_is_still_fetched_for_the_jump_that_needs_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        "query($s: Boolean!) { reviews { product { price sku @skip(if: $s) } } }",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "reviews") {
              {
                reviews {
                  product {
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "reviews.@.product") {
              Fetch(service: "products") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    __typename
                    sku
                    sku @skip(if: $s)
                  }
                }
              },
            },
            Flatten(path: "reviews.@.product") {
              Fetch(service: "pricing") {
                {
                  ... on Product {
                    __typename
                    sku
                  }
                } =>
                {
                  ... on Product {
                    price
                  }
                }
              },
            },
          },
        }
        """
    )


def test_the_inputs_of_a_skipped_requires_field_are_fetched_under_its_condition() -> None:
    plan = plan_text(
        SUPERGRAPH,
        "query($s: Boolean!) { product { stock shippingEstimate @skip(if: $s) } }",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "products") {
              {
                product {
                  __typename
                  id
                  weight @skip(if: $s)
                }
              }
            },
            Parallel {
              Flatten(path: "product") {
                Fetch(service: "shipping") {
                  {
                    ... on Product {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Product {
                      stock
                    }
                  }
                },
              },
              Skip(if: $s) {
                Flatten(path: "product") {
                  Fetch(service: "shipping") {
                    {
                      ... on Product {
                        __typename
                        id
                        weight
                      }
                    } =>
                    {
                      ... on Product {
                        shippingEstimate @skip(if: $s)
                      }
                    }
                  },
                },
              },
            },
          },
        }
        """
    )


INTERFACE_OBJECT = load_supergraph(
    supergraph_sdl(
        ["catalog", "reviews"],
        """
        type Query @join__type(graph: CATALOG) @join__type(graph: REVIEWS) {
          books: [Book] @join__field(graph: CATALOG)
        }

        interface Node
          @join__type(graph: CATALOG, key: "id")
          @join__type(graph: REVIEWS, key: "id", isInterfaceObject: true)
        {
          id: ID!
          weight: Int @join__field(graph: CATALOG) @join__field(graph: REVIEWS, external: true)
          stock: Int @join__field(graph: REVIEWS)
          score: Int @join__field(graph: REVIEWS, requires: "weight")
        }

        type Book implements Node
          @join__implements(graph: CATALOG, interface: "Node")
          @join__type(graph: CATALOG, key: "id")
        {
          id: ID!
          weight: Int @join__field(graph: CATALOG)
          stock: Int @join__field
          score: Int @join__field
        }
        """,
    )
)


def test_the_inputs_of_a_skipped_interface_object_requires_field_follow_its_condition() -> None:
    plan = plan_text(
        INTERFACE_OBJECT, "query($s: Boolean!) { books { stock score @skip(if: $s) } }"
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                books {
                  __typename
                  id
                  weight @skip(if: $s)
                }
              }
            },
            Parallel {
              Flatten(path: "books.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Book {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Node {
                      stock
                    }
                  }
                },
              },
              Skip(if: $s) {
                Flatten(path: "books.@") {
                  Fetch(service: "reviews") {
                    {
                      ... on Book {
                        __typename
                        id
                        weight
                      }
                    } =>
                    {
                      ... on Node {
                        score @skip(if: $s)
                      }
                    }
                  },
                },
              },
            },
          },
        }
        """
    )
