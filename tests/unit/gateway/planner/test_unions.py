"""Unions whose members live in different subgraphs, or only partly in one."""

from __future__ import annotations

from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["catalog", "movies"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
    {
      search(term: String!): [SearchResult] @join__field(graph: CATALOG)
      showing: [Showing] @join__field(graph: MOVIES)
    }

    union SearchResult
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
      @join__unionMember(graph: CATALOG, member: "Book")
      @join__unionMember(graph: CATALOG, member: "Movie")
      @join__unionMember(graph: MOVIES, member: "Movie")
      @join__unionMember(graph: MOVIES, member: "Series")
    = Book | Movie | Series

    union Showing
      @join__type(graph: MOVIES)
      @join__unionMember(graph: MOVIES, member: "Movie")
      @join__unionMember(graph: MOVIES, member: "Series")
    = Movie | Series

    type Book @join__type(graph: CATALOG, key: "isbn") {
      isbn: ID!
      title: String
    }

    type Movie
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: MOVIES, key: "id")
    {
      id: ID!
      title: String @join__field(graph: MOVIES)
      inCatalog: Boolean @join__field(graph: CATALOG)
    }

    type Series @join__type(graph: MOVIES, key: "id") {
      id: ID!
      seasons: Int
    }
    """,
)


def test_union_members_resolved_elsewhere_are_fetched_by_key() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        query Search($term: String!) {
          search(term: $term) {
            __typename
            ... on Book {
              title
            }
            ... on Movie {
              title
            }
          }
        }
        """,
        "Search",
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                search(term: $term) {
                  __typename
                  ... on Book {
                    title
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "search.@") {
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


def test_members_a_subgraph_cannot_return_are_left_out_of_its_fetch() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          search(term: "x") {
            ... on Series {
              seasons
            }
            ... on Book {
              isbn
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
              search(term: "x") {
                __typename
                ... on Book {
                  isbn
                }
              }
            }
          },
        }
        """
    )


def test_union_member_fields_from_another_subgraph_follow_the_union() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          showing {
            ... on Movie {
              title
              inCatalog
            }
            ... on Series {
              seasons
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "movies") {
              {
                showing {
                  __typename
                  ... on Movie {
                    title
                    __typename
                    id
                  }
                  ... on Series {
                    seasons
                  }
                }
              }
            },
            Flatten(path: "showing.@") {
              Fetch(service: "catalog") {
                {
                  ... on Movie {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Movie {
                    inCatalog
                  }
                }
              },
            },
          },
        }
        """
    )


PARTIAL = load(
    ["a", "b"],
    """
    type Query @join__type(graph: A) @join__type(graph: B) {
      shelf: Shelf @join__field(graph: A)
      report: Report @join__field(graph: A)
    }

    type Shelf @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
      id: ID!
      items: [Item!]!
    }

    type Report @join__type(graph: A) @join__type(graph: B) {
      items: [Item!]!
    }

    union Item
      @join__type(graph: A)
      @join__type(graph: B)
      @join__unionMember(graph: A, member: "Common")
      @join__unionMember(graph: B, member: "Common")
      @join__unionMember(graph: A, member: "OnlyA")
    = Common | OnlyA

    type Common @join__type(graph: A) @join__type(graph: B) {
      label: String
    }

    type OnlyA @join__type(graph: A) {
      a: String
    }
    """,
)


def test_shared_union_field_another_subgraph_could_answer_plans_common_members_only() -> None:
    plan = plan_text(PARTIAL, "{ shelf { items { ... on Common { label } ... on OnlyA { a } } } }")
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "a") {
            {
              shelf {
                items {
                  __typename
                  ... on Common {
                    label
                  }
                }
              }
            }
          },
        }
        """
    )


def test_shared_union_field_only_one_subgraph_can_reach_keeps_all_its_members() -> None:
    plan = plan_text(PARTIAL, "{ report { items { ... on OnlyA { a } } } }")
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "a") {
            {
              report {
                items {
                  __typename
                  ... on OnlyA {
                    a
                  }
                }
              }
            }
          },
        }
        """
    )
