"""Interfaces spread across subgraphs: kept whole where one subgraph resolves every
implementation, split per concrete type where implementations live apart."""

from __future__ import annotations

from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["catalog", "movies", "reviews"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
      @join__type(graph: REVIEWS)
    {
      media: [Media] @join__field(graph: CATALOG)
      latestReview: Review @join__field(graph: REVIEWS)
    }

    interface Media
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
      @join__type(graph: REVIEWS)
    {
      id: ID!
      title: String @join__field(graph: MOVIES)
    }

    type Book implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__implements(graph: REVIEWS, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id")
    {
      id: ID!
      title: String @join__field(graph: CATALOG)
      pages: Int @join__field(graph: CATALOG)
      reviews: [Review] @join__field(graph: REVIEWS)
    }

    type Movie implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__implements(graph: MOVIES, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: MOVIES, key: "id")
    {
      id: ID!
      title: String @join__field(graph: MOVIES)
      minutes: Int @join__field(graph: MOVIES)
    }

    type Review @join__type(graph: REVIEWS, key: "id") {
      id: ID!
      body: String
      about: Media
    }
    """,
)


def test_interface_fields_every_implementation_resolves_stay_on_the_interface() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          media {
            id
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "catalog") {
            {
              media {
                __typename
                id
              }
            }
          },
        }
        """
    )


def test_interface_field_resolved_elsewhere_for_one_implementation_is_split_per_type() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          media {
            id
            title
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
                media {
                  __typename
                  ... on Book {
                    id
                    title
                  }
                  ... on Movie {
                    id
                    __typename
                  }
                }
              }
            },
            Flatten(path: "media.@") {
              Fetch(service: "movies") {
                {
                  ... on Movie {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Movie {
                    title
                  }
                }
              },
            },
          },
        }
        """
    )


def test_type_conditions_on_an_interface_jump_per_concrete_type() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          media {
            ... on Book {
              pages
              reviews {
                body
              }
            }
            ... on Movie {
              minutes
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
                media {
                  __typename
                  ... on Book {
                    pages
                    __typename
                    id
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                }
              }
            },
            Parallel {
              Flatten(path: "media.@") {
                Fetch(service: "reviews") {
                  {
                    ... on Book {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Book {
                      reviews {
                        body
                      }
                    }
                  }
                },
              },
              Flatten(path: "media.@") {
                Fetch(service: "movies") {
                  {
                    ... on Movie {
                      __typename
                      id
                    }
                  } =>
                  {
                    ... on Movie {
                      minutes
                    }
                  }
                },
              },
            },
          },
        }
        """
    )


def test_interface_returned_by_a_subgraph_knowing_only_some_implementations() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          latestReview {
            about {
              title
              ... on Book {
                pages
              }
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "reviews") {
              {
                latestReview {
                  about {
                    __typename
                    ... on Book {
                      __typename
                      id
                    }
                  }
                }
              }
            },
            Flatten(path: "latestReview.about") {
              Fetch(service: "catalog") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Book {
                    title
                    pages
                  }
                }
              },
            },
          },
        }
        """
    )


def test_type_condition_on_a_type_the_subgraph_does_not_implement_there_is_left_out() -> None:
    supergraph = load(
        ["kitchen", "shop"],
        """
        type Query @join__type(graph: KITCHEN) @join__type(graph: SHOP) {
          nodes: [Node] @join__field(graph: KITCHEN)
        }

        interface Node @join__type(graph: KITCHEN) @join__type(graph: SHOP) {
          id: ID!
        }

        type Toaster implements Node
          @join__implements(graph: KITCHEN, interface: "Node")
          @join__type(graph: KITCHEN, key: "id")
        {
          id: ID!
        }

        type Oven implements Node
          @join__implements(graph: SHOP, interface: "Node")
          @join__type(graph: KITCHEN, key: "id")
          @join__type(graph: SHOP, key: "id")
        {
          id: ID!
        }
        """,
    )
    plan = plan_text(supergraph, "{ nodes { ... on Toaster { id } ... on Oven { id } } }")
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "kitchen") {
            {
              nodes {
                __typename
                ... on Toaster {
                  id
                }
              }
            }
          },
        }
        """
    )
