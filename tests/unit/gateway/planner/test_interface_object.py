"""@interfaceObject: a subgraph that sees an interface as one object type adds fields to
every implementation; only the interface's owner knows the concrete types."""

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import Fetch, Flatten, KeyRenamer, Sequence, ValueSetter
from gateway.supergraph import load_supergraph
from tests.unit.gateway.planner.support import expected, load, plan_text, supergraph_sdl

SUPERGRAPH = load(
    ["catalog", "reviews"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: REVIEWS)
    {
      media: [Media] @join__field(graph: CATALOG)
      topRated: [Media] @join__field(graph: REVIEWS)
    }

    interface Media
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id", isInterfaceObject: true)
    {
      id: ID!
      title: String @join__field(graph: CATALOG) @join__field(graph: REVIEWS, external: true)
      reviews: [Review] @join__field(graph: REVIEWS)
      summary: String @join__field(graph: REVIEWS, requires: "title")
    }

    type Book implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
    {
      id: ID!
      title: String
      author: String
      reviews: [Review] @join__field
      summary: String @join__field
    }

    type Movie implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
    {
      id: ID!
      title: String
      director: String
      reviews: [Review] @join__field
      summary: String @join__field
    }

    type Review @join__type(graph: REVIEWS) {
      stars: Int
    }
    """,
)


# "accounts" declares the keyed interface Node but none of its implementations (no type of
# that subgraph implements it); only "catalog" can tell a node's concrete type.
OWNER_ELSEWHERE_SDL = supergraph_sdl(
    ["accounts", "catalog", "reviews"],
    """
    type Query
      @join__type(graph: ACCOUNTS)
      @join__type(graph: CATALOG)
      @join__type(graph: REVIEWS)
    {
      me: User @join__field(graph: ACCOUNTS)
      catalogue: [Node] @join__field(graph: CATALOG)
      reviewed: [Node] @join__field(graph: REVIEWS)
    }

    interface Node
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id", isInterfaceObject: true)
    {
      id: ID!
      reviews(first: Int): [Review] @join__field(graph: REVIEWS)
    }

    type User @join__type(graph: ACCOUNTS, key: "id") {
      id: ID!
      name: String
    }

    type Book implements Node
      @join__implements(graph: CATALOG, interface: "Node")
      @join__type(graph: CATALOG, key: "id")
    {
      id: ID!
      title: String @join__field(graph: CATALOG)
      reviews(first: Int): [Review] @join__field
    }

    type Movie implements Node
      @join__implements(graph: CATALOG, interface: "Node")
      @join__type(graph: CATALOG, key: "id")
    {
      id: ID!
      director: String @join__field(graph: CATALOG)
      reviews(first: Int): [Review] @join__field
    }

    type Review @join__type(graph: REVIEWS) {
      stars: Int
    }
    """,
)
OWNER_ELSEWHERE = load_supergraph(OWNER_ELSEWHERE_SDL)


def test_interface_object_fetch_rewrites_the_representation_typename() -> None:
    plan = build_plan(SUPERGRAPH, parse("{ media { reviews { stars } } }"), None)
    assert isinstance(plan.node, Sequence)
    flatten = plan.node.nodes[1]
    assert isinstance(flatten, Flatten)
    assert isinstance(flatten.node, Fetch)
    assert flatten.node.input_rewrites == (
        ValueSetter(("... on Book", "__typename"), "Media"),
        ValueSetter(("... on Movie", "__typename"), "Media"),
    )


def test_fields_added_by_an_interface_object_are_fetched_for_every_implementation() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          media {
            title
            reviews {
              stars
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
                    title
                    __typename
                    id
                  }
                  ... on Movie {
                    title
                    __typename
                    id
                  }
                }
              }
            },
            Flatten(path: "media.@") {
              Fetch(service: "reviews") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Media {
                    reviews {
                      stars
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_concrete_type_behind_an_interface_object_comes_from_the_interface_owner() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          topRated {
            __typename
            title
            ... on Book {
              author
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
                topRated {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "catalog") {
                {
                  ... on Media {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Media {
                    __typename
                    title
                    ... on Book {
                      author
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_interface_object_results_asked_for_interface_fields_only_need_no_owner() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          topRated {
            id
            reviews {
              stars
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
              topRated {
                id
                reviews {
                  stars
                }
              }
            }
          },
        }
        """
    )


def test_only_the_key_of_an_interface_object_is_read_from_its_subgraph_alone() -> None:
    plan = plan_text(
        OWNER_ELSEWHERE,
        """
        {
          reviewed {
            id
          }
        }
        """,
    )
    assert plan == expected(
        """
        QueryPlan {
          Fetch(service: "reviews") {
            {
              reviewed {
                id
              }
            }
          },
        }
        """
    )


def test_concrete_type_comes_from_a_subgraph_that_implements_the_interface() -> None:
    plan = plan_text(
        OWNER_ELSEWHERE,
        """
        {
          reviewed {
            __typename
            id
            ... on Book {
              title
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
                reviewed {
                  id
                  __typename
                }
              }
            },
            Flatten(path: "reviewed.@") {
              Fetch(service: "catalog") {
                {
                  ... on Node {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Node {
                    __typename
                    ... on Book {
                      title
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_type_conditions_of_an_interface_object_selected_twice_all_reach_the_owner() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        {
          topRated {
            __typename
          }
          ... on Query {
            topRated {
              ... on Book {
                author
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
                topRated {
                  __typename
                  id
                }
              }
            },
            Flatten(path: "topRated.@") {
              Fetch(service: "catalog") {
                {
                  ... on Media {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Media {
                    __typename
                    ... on Book {
                      author
                    }
                  }
                }
              },
            },
          },
        }
        """
    )


def test_entity_fetch_into_an_interface_object_sends_the_interface_name() -> None:
    plan = build_plan(SUPERGRAPH, parse("{ topRated { summary } }"), None)
    assert isinstance(plan.node, Sequence)
    last = plan.node.nodes[-1]
    assert isinstance(last, Flatten)
    assert isinstance(last.node, Fetch)
    assert last.node.service_name == "reviews"
    assert last.node.input_rewrites == (ValueSetter(("... on Media", "__typename"), "Media"),)


QUERY_WITH_TWO_ARGUMENT_SETS = (
    "{ catalogue { ... on Book { reviews { stars } } "
    "... on Movie { reviews(first: 1) { stars } } } }"
)


def test_one_interface_object_field_with_other_arguments_per_implementation_is_aliased() -> None:
    # GraphQL merges the two into one field of ``... on Node``, which the subgraph would
    # refuse: Movie's is read under an alias and renamed back on Movie entities only.
    plan = plan_text(OWNER_ELSEWHERE, QUERY_WITH_TWO_ARGUMENT_SETS)
    assert plan == expected(
        """
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                catalogue {
                  __typename
                  ... on Book {
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
            Flatten(path: "catalogue.@") {
              Fetch(service: "reviews") {
                {
                  ... on Book {
                    __typename
                    id
                  }
                  ... on Movie {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Node {
                    reviews {
                      stars
                    }
                    reviews__alias_0: reviews(first: 1) {
                      stars
                    }
                  }
                }
              },
            },
          },
        }
        """
    )
    root = build_plan(OWNER_ELSEWHERE, parse(QUERY_WITH_TWO_ARGUMENT_SETS), None).node
    assert isinstance(root, Sequence)
    [fetch] = [node.node for node in root.nodes if isinstance(node, Flatten)]
    assert isinstance(fetch, Fetch)
    assert fetch.output_rewrites == (KeyRenamer(("... on Movie", "reviews__alias_0"), "reviews"),)
