"""@defer: deferred fragments are planned in blocks of their own, delivered after the
primary response (Apollo's Defer node); plans printed as Apollo prints them."""

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import to_json
from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["catalog", "reviews", "stock"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: REVIEWS)
      @join__type(graph: STOCK)
    {
      product(id: ID!): Product @join__field(graph: CATALOG)
      products: [Product] @join__field(graph: CATALOG)
      media: [Media] @join__field(graph: CATALOG)
      topReview: Review @join__field(graph: REVIEWS)
    }

    type Mutation @join__type(graph: CATALOG) {
      rename(id: ID!, name: String!): Product @join__field(graph: CATALOG)
    }

    type Subscription @join__type(graph: CATALOG) {
      productChanged: Product @join__field(graph: CATALOG)
    }

    interface Media @join__type(graph: CATALOG) {
      id: ID!
    }

    type Product implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id")
      @join__type(graph: STOCK, key: "id")
    {
      id: ID!
      name: String @join__field(graph: CATALOG)
      description: String @join__field(graph: CATALOG)
      weight: Int @join__field(graph: CATALOG) @join__field(graph: STOCK, external: true)
      reviews: [Review] @join__field(graph: REVIEWS)
      summary: Summary @join__field(graph: REVIEWS)
      inStock: Int @join__field(graph: STOCK)
      shipping: Int @join__field(graph: STOCK, requires: "weight")
    }

    type Video implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
    {
      id: ID!
      minutes: Int @join__field(graph: CATALOG)
    }

    type Summary @join__type(graph: REVIEWS) {
      average: Float
      count: Int
    }

    type Review @join__type(graph: REVIEWS, key: "id") {
      id: ID!
      body: String
      author: String
    }
    """,
)


def test_a_deferred_entity_field_of_another_subgraph_is_fetched_after_the_primary_response() -> (
    None
):
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            ... @defer {
              inStock
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  product(id: "1") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "product") {
                {
                  inStock
                }:
                Flatten(path: "product") {
                  Fetch(service: "stock") {
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
                }
              },
            ]
          },
        }
        """
    )


def test_a_deferred_field_of_the_same_subgraph_is_fetched_again_through_the_key() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            ... @defer {
              description
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  product(id: "1") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "product") {
                {
                  description
                }:
                Flatten(path: "product") {
                  Fetch(service: "catalog") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    {
                      ... on Product {
                        description
                      }
                    }
                  },
                }
              },
            ]
          },
        }
        """
    )


def test_deferred_root_fields_get_root_fetches_of_their_own() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
          }
          ... @defer(label: "top") {
            topReview {
              body
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog") {
                {
                  product(id: "1") {
                    name
                  }
                }
              }
            }, [
              Deferred(depends: [], path: "", label: "top") {
                {
                  topReview {
                    body
                  }
                }:
                Fetch(service: "reviews") {
                  {
                    topReview {
                      body
                    }
                  }
                }
              },
            ]
          },
        }
        """
    )


def test_a_nested_defer_is_a_defer_node_inside_its_parent_block() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          products {
            name
            ... @defer(label: "outer") {
              reviews {
                body
                ... @defer(label: "inner") {
                  author
                }
              }
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                products {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  products {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "products.@", label: "outer") {
                Defer {
                  Primary {
                    {
                      reviews {
                        body
                      }
                    }:
                    Flatten(path: "products.@") {
                      Fetch(service: "reviews", id: 1) {
                        {
                          ... on Product {
                            __typename
                            id
                          }
                        } =>
                        {
                          ... on Product {
                            reviews {
                              body
                              __typename
                              id
                            }
                          }
                        }
                      },
                    }
                  }, [
                    Deferred(depends: [1], path: "products.@.reviews.@", label: "inner") {
                      {
                        author
                      }:
                      Flatten(path: "products.@.reviews.@") {
                        Fetch(service: "reviews") {
                          {
                            ... on Review {
                              __typename
                              id
                            }
                          } =>
                          {
                            ... on Review {
                              author
                            }
                          }
                        },
                      }
                    },
                  ]
                }
              },
            ]
          },
        }
        """
    )


def test_a_defer_on_a_value_type_re_enters_from_the_entity_above() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            summary {
              average
              ... @defer {
                count
              }
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  summary {
                    average
                  }
                }
              }:
              Sequence {
                Fetch(service: "catalog") {
                  {
                    product(id: "1") {
                      __typename
                      id
                    }
                  }
                },
                Flatten(path: "product") {
                  Fetch(service: "reviews", id: 0) {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    {
                      ... on Product {
                        summary {
                          average
                        }
                        __typename
                        id
                      }
                    }
                  },
                },
              }
            }, [
              Deferred(depends: [0], path: "product.summary") {
                {
                  count
                }:
                Flatten(path: "product") {
                  Fetch(service: "reviews") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    {
                      ... on Product {
                        summary {
                          count
                        }
                      }
                    }
                  },
                }
              },
            ]
          },
        }
        """
    )


def test_a_deferred_type_condition_on_an_interface_joins_the_path() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          media {
            id
            ... on Product @defer {
              name
              inStock
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                media {
                  id
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  media {
                    __typename
                    id
                    ... on Product {
                      __typename
                      id
                    }
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "media.@.... on Product") {
                {
                  ... on Product {
                    name
                    inStock
                  }
                }:
                Parallel {
                  Flatten(path: "media.@") {
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
                  Flatten(path: "media.@") {
                    Fetch(service: "stock") {
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
                }
              },
            ]
          },
        }
        """
    )


def test_a_deferred_named_fragment_is_delivered_with_its_type_condition() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            ...Stock @defer(label: "stock")
          }
        }

        fragment Stock on Product {
          inStock
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  product(id: "1") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "product", label: "stock") {
                {
                  ... on Product {
                    inStock
                  }
                }:
                Flatten(path: "product") {
                  Fetch(service: "stock") {
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
                }
              },
            ]
          },
        }
        """
    )


def test_requirements_of_a_deferred_field_are_deferred_with_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            ... @defer {
              shipping
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  product(id: "1") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "product") {
                {
                  shipping
                }:
                Sequence {
                  Flatten(path: "product") {
                    Fetch(service: "catalog") {
                      {
                        ... on Product {
                          __typename
                          id
                        }
                      } =>
                      {
                        ... on Product {
                          weight
                        }
                      }
                    },
                  },
                  Flatten(path: "product") {
                    Fetch(service: "stock") {
                      {
                        ... on Product {
                          __typename
                          id
                          weight
                        }
                      } =>
                      {
                        ... on Product {
                          shipping
                        }
                      }
                    },
                  },
                }
              },
            ]
          },
        }
        """
    )


def test_a_mutation_defers_below_its_root_fields_and_runs_them_after_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        mutation {
          rename(id: "1", name: "Lamp") {
            name
            ... @defer {
              inStock
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                rename(id: "1", name: "Lamp") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  rename(id: "1", name: "Lamp") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "rename") {
                {
                  inStock
                }:
                Flatten(path: "rename") {
                  Fetch(service: "stock") {
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
                }
              },
            ]
          },
        }
        """
    )


def test_defer_if_a_variable_plans_both_ways() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query ($later: Boolean!) {
          product(id: "1") {
            name
            ... @defer(if: $later) {
              inStock
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Condition(if: $later) {
            Then {
              Defer {
                Primary {
                  {
                    product(id: "1") {
                      name
                    }
                  }:
                  Fetch(service: "catalog", id: 0) {
                    {
                      product(id: "1") {
                        name
                        __typename
                        id
                      }
                    }
                  }
                }, [
                  Deferred(depends: [0], path: "product") {
                    {
                      inStock
                    }:
                    Flatten(path: "product") {
                      Fetch(service: "stock") {
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
                    }
                  },
                ]
              },
            },
            Else {
              Sequence {
                Fetch(service: "catalog") {
                  {
                    product(id: "1") {
                      name
                      __typename
                      id
                    }
                  }
                },
                Flatten(path: "product") {
                  Fetch(service: "stock") {
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
            },
          },
        }
        """
    )


def test_defer_if_false_is_not_deferred() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            ... @defer(if: false) {
              inStock
            }
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
                product(id: "1") {
                  name
                  __typename
                  id
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "stock") {
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


def test_a_subscription_never_defers() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        subscription ($later: Boolean!) {
          productChanged {
            name
            ... @defer(if: $later) {
              inStock
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Subscription {
            Primary: {
              Fetch(service: "catalog") {
                {
                  productChanged {
                    name
                    __typename
                    id
                  }
                }
              },
            },
            Rest: {
              Flatten(path: "productChanged") {
                Fetch(service: "stock") {
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
          },
        }
        """
    )


def test_a_deferred_fragment_under_a_condition_is_delivered_under_it() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query ($shown: Boolean!) {
          product(id: "1") {
            name
            ... @include(if: $shown) {
              ... @defer {
                inStock
              }
            }
          }
        }
        """,
    )

    assert plan == expected(
        """
        QueryPlan {
          Defer {
            Primary {
              {
                product(id: "1") {
                  name
                }
              }:
              Fetch(service: "catalog", id: 0) {
                {
                  product(id: "1") {
                    name
                    __typename
                    id
                  }
                }
              }
            }, [
              Deferred(depends: [0], path: "product") {
                {
                  ... @include(if: $shown) {
                    inStock
                  }
                }:
                Include(if: $shown) {
                  Flatten(path: "product") {
                    Fetch(service: "stock") {
                      {
                        ... on Product {
                          __typename
                          id
                        }
                      } =>
                      {
                        ... on Product {
                          inStock @include(if: $shown)
                        }
                      }
                    },
                  },
                }
              },
            ]
          },
        }
        """
    )


def test_a_defer_plan_serialises_in_apollos_json_shape() -> None:
    query = '{ product(id: "1") { name ... @defer(label: "stock") { inStock } } }'

    plan = to_json(build_plan(SUPERGRAPH, parse(query), None))

    defer = plan["node"]
    assert defer["kind"] == "Defer"
    assert defer["primary"]["subselection"] == '{\n  product(id: "1") {\n    name\n  }\n}'
    assert defer["primary"]["node"]["kind"] == "Fetch"
    assert defer["primary"]["node"]["id"] == "0"
    [deferred] = defer["deferred"]
    assert deferred["depends"] == [{"id": "0"}]
    assert deferred["label"] == "stock"
    assert deferred["queryPath"] == ["product"]
    assert deferred["subselection"] == "{\n  inStock\n}"
    assert deferred["node"]["kind"] == "Flatten"
