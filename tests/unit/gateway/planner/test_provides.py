"""@provides: a subgraph that provides external fields along a path is not left for them."""

from __future__ import annotations

from tests.unit.gateway.planner.support import expected, load, plan_text

SUPERGRAPH = load(
    ["accounts", "reviews"],
    """
    type Query
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
    {
      reviews: [Review] @join__field(graph: REVIEWS)
      featured: Review @join__field(graph: REVIEWS)
    }

    type Review @join__type(graph: REVIEWS, key: "id") {
      id: ID!
      body: String
      author: User @join__field(graph: REVIEWS, provides: "username address { city }")
      editor: User @join__field(graph: REVIEWS)
      subjects: [Subject] @join__field(graph: REVIEWS, provides: "... on Person { nickname }")
    }

    type User
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: REVIEWS, key: "id")
    {
      id: ID!
      username: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
      email: String @join__field(graph: ACCOUNTS)
      address: Address @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
    }

    type Address
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
    {
      city: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
      street: String @join__field(graph: ACCOUNTS)
    }

    union Subject
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
      @join__unionMember(graph: ACCOUNTS, member: "Person")
      @join__unionMember(graph: REVIEWS, member: "Person")
    = Person

    type Person
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: REVIEWS, key: "id")
    {
      id: ID!
      nickname: String @join__field(graph: ACCOUNTS) @join__field(graph: REVIEWS, external: true)
    }
    """,
)


def test_provided_fields_come_with_the_providing_field() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          reviews {
            author {
              username
              address {
                city
              }
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "reviews") {
            {
              reviews {
                author {
                  username
                  address {
                    city
                  }
                }
              }
            }
          },
        }
        """
    )


def test_external_field_is_fetched_from_its_owner_where_it_is_not_provided() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          reviews {
            editor {
              username
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
                reviews {
                  editor {
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "reviews.@.editor") {
              Fetch(service: "accounts") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    username
                  }
                }
              },
            },
          },
        }
        """
    )


def test_value_type_fields_beyond_the_provided_ones_come_from_the_owner_by_key() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          featured {
            author {
              username
              email
              address {
                city
                street
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
                featured {
                  author {
                    username
                    __typename
                    id
                    address {
                      city
                    }
                  }
                }
              }
            },
            Flatten(path: "featured.author") {
              Fetch(service: "accounts") {
                {
                  ... on User {
                    __typename
                    id
                  }
                } =>
                {
                  ... on User {
                    email
                    address {
                      street
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_provides_with_a_type_condition_applies_to_that_type() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          featured {
            subjects {
              ... on Person {
                nickname
              }
            }
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "reviews") {
            {
              featured {
                subjects {
                  __typename
                  ... on Person {
                    nickname
                  }
                }
              }
            }
          },
        }
        """
    )


PROVIDES_ON_UNION_SDL = """
    type Query @join__type(graph: A) @join__type(graph: B) @join__type(graph: C) {
      media: [Media]
        @join__field(graph: A)
        @join__field(graph: B, provides: "... on Book { title }")
    }

    union Media
      @join__type(graph: A)
      @join__type(graph: B)
      @join__unionMember(graph: A, member: "Book")
      @join__unionMember(graph: A, member: "Movie")
      @join__unionMember(graph: B, member: "Book")
      @join__unionMember(graph: B, member: "Movie")
    = Book | Movie

    type Book
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
      @join__type(graph: C, key: "id")
    {
      id: ID!
      title: String @join__field(graph: B, external: true) @join__field(graph: C)
    }

    type Movie
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
      @join__type(graph: C, key: "id")
    {
      id: ID!
      title: String @join__field(graph: C)
    }
"""
PROVIDES_ON_UNION = load(["a", "b", "c"], PROVIDES_ON_UNION_SDL)


def test_a_shared_root_field_is_read_where_its_provides_cover_the_selection() -> None:
    # `a` and `b` both resolve `media`; only `b` brings `Book.title` along, so one fetch
    # to `b` answers what `a` would need a second jump (to `c`) for.
    plan = plan_text(
        PROVIDES_ON_UNION, "{ media { ... on Book { id title } ... on Movie { id } } }"
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "b") {
            {
              media {
                __typename
                ... on Book {
                  id
                  title
                }
                ... on Movie {
                  id
                }
              }
            }
          },
        }
        """
    )
