"""@shareable fields: stay in the subgraph being fetched; otherwise pick the subgraph that
resolves the most of the selection, so there are fewer fetches."""

from __future__ import annotations

from gateway.supergraph import load_supergraph
from tests.unit.gateway.planner.support import expected, plan_text, supergraph_sdl

SUPERGRAPH_SDL = supergraph_sdl(
    ["catalog", "pricing", "search"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: PRICING)
      @join__type(graph: SEARCH)
    {
      product(id: ID!): Product @join__field(graph: CATALOG) @join__field(graph: SEARCH)
      deals: [Product] @join__field(graph: PRICING)
      storeName: String @join__field(graph: CATALOG) @join__field(graph: PRICING)
    }

    type Product
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: PRICING, key: "id")
      @join__type(graph: SEARCH, key: "id")
    {
      id: ID!
      name: String @join__field(graph: CATALOG) @join__field(graph: SEARCH)
      description: String @join__field(graph: CATALOG)
      price: Money @join__field(graph: CATALOG) @join__field(graph: PRICING)
      score: Float @join__field(graph: SEARCH)
      details: Details @join__field(graph: CATALOG) @join__field(graph: SEARCH)
    }

    type Details
      @join__type(graph: CATALOG)
      @join__type(graph: SEARCH)
    {
      summary: String
      keywords: [String] @join__field(graph: SEARCH)
    }

    type Money
      @join__type(graph: CATALOG)
      @join__type(graph: PRICING)
    {
      amount: Int
      currency: String
    }
    """,
)
SUPERGRAPH = load_supergraph(SUPERGRAPH_SDL)


def test_shared_root_field_goes_to_the_subgraph_resolving_most_of_its_selection() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            description
            price {
              amount
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
              product(id: "1") {
                name
                description
                price {
                  amount
                }
              }
            }
          },
        }
        """
    )


def test_shared_root_field_goes_to_the_other_subgraph_when_it_resolves_more() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            name
            score
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "search") {
            {
              product(id: "1") {
                name
                score
              }
            }
          },
        }
        """
    )


def test_shared_field_stays_in_the_subgraph_already_fetched() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          deals {
            price {
              amount
              currency
            }
            name
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "pricing") {
              {
                deals {
                  price {
                    amount
                    currency
                  }
                  __typename
                  id
                }
              }
            },
            Flatten(path: "deals.@") {
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


def test_shared_root_fields_join_a_root_fetch_already_planned() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          deals {
            id
          }
          storeName
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "pricing") {
            {
              deals {
                id
              }
              storeName
            }
          },
        }
        """
    )


def test_a_shared_root_field_asked_again_through_a_fragment_is_read_from_one_subgraph() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          product(id: "1") {
            description
          }
          ... on Query {
            product(id: "1") {
              score
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
                  description
                  __typename
                  id
                }
              }
            },
            Flatten(path: "product") {
              Fetch(service: "search") {
                {
                  ... on Product {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Product {
                    score
                  }
                }
              },
            },
          },
        }
        """
    )


def test_a_shared_field_asked_again_under_an_alias_is_read_from_the_same_subgraph() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          deals {
            description
            score
            ... on Product {
              details {
                keywords
              }
            }
            d: details {
              summary
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "pricing") {
              {
                deals {
                  __typename
                  id
                }
              }
            },
            Parallel {
              Flatten(path: "deals.@") {
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
              },
              Flatten(path: "deals.@") {
                Fetch(service: "search") {
                  {
                    ... on Product {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Product {
                      score
                      details {
                        keywords
                      }
                      d: details {
                        summary
                      }
                    }
                  }
                },
              },
            },
          },
        }
        """
    )
