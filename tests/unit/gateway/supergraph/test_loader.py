"""Loading a supergraph: subgraphs, join metadata, and the API schema clients see."""

# ruff: noqa: E501 (supergraph SDL is kept as Apollo prints it, one directive per line)

from __future__ import annotations

import pytest
from graphql import print_schema

from gateway.supergraph import SupergraphError, load_supergraph
from tests.unit.gateway.planner.support import load, supergraph_sdl

SUPERGRAPH = load(
    ["accounts", "reviews"],
    """
    type Query
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
    {
      me: User @join__field(graph: ACCOUNTS)
      internal: Secret @join__field(graph: ACCOUNTS) @inaccessible
    }

    type User
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: REVIEWS, key: "id org { id }", resolvable: false)
    {
      id: ID!
      org: Org
      passwordHash: String @join__field(graph: ACCOUNTS) @inaccessible
      name: String @join__field(graph: ACCOUNTS, override: "reviews", overrideLabel: "percent(5)") @join__field(graph: REVIEWS, overrideLabel: "percent(5)")
      reviewCount: Int @join__field(graph: REVIEWS, requires: "name")
      status(verbose: Boolean @inaccessible): Status
    }

    type Org
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
    {
      id: ID!
    }

    type Secret @join__type(graph: ACCOUNTS) @inaccessible {
      value: String
    }

    enum Status
      @join__type(graph: ACCOUNTS)
      @join__type(graph: REVIEWS)
    {
      ACTIVE @join__enumValue(graph: ACCOUNTS) @join__enumValue(graph: REVIEWS)
      HIDDEN @join__enumValue(graph: ACCOUNTS) @inaccessible
    }
    """,
)


def test_subgraphs_are_keyed_by_name_with_url_and_graph_enum_value() -> None:
    accounts = SUPERGRAPH.subgraphs["accounts"]
    assert (accounts.name, accounts.url, accounts.graph) == (
        "accounts",
        "http://accounts.test/graphql",
        "ACCOUNTS",
    )
    assert set(SUPERGRAPH.subgraphs) == {"accounts", "reviews"}


def test_keys_are_read_per_subgraph_with_their_resolvable_flag() -> None:
    user = SUPERGRAPH.types["User"]
    assert [(k.fields, k.resolvable) for k in user.keys_in("accounts")] == [("id", True)]
    assert [(k.fields, k.resolvable) for k in user.keys_in("reviews")] == [("id org { id }", False)]


def test_field_resolvers_leave_out_overridden_and_external_subgraphs() -> None:
    user = SUPERGRAPH.types["User"]
    assert user.fields["name"].resolvers == ("accounts",)
    assert user.fields["id"].resolvers == ("accounts", "reviews")
    assert user.fields["reviewCount"].subgraphs["reviews"].requires is not None


def test_api_schema_drops_join_machinery_and_inaccessible_elements() -> None:
    sdl = print_schema(SUPERGRAPH.api_schema)
    for hidden in ("join__", "link__", "passwordHash", "Secret", "internal", "HIDDEN", "verbose"):
        assert hidden not in sdl
    assert "reviewCount: Int" in sdl
    assert "status: Status" in sdl


def test_full_schema_keeps_inaccessible_elements_for_planning() -> None:
    assert SUPERGRAPH.schema.get_type("Secret") is not None


def test_union_members_and_implementations_are_inferred_without_join_directives() -> None:
    supergraph = load(
        ["a", "b"],
        """
        type Query @join__type(graph: A) @join__type(graph: B) {
          things: [Thing] @join__field(graph: A)
        }

        union Thing @join__type(graph: A) @join__type(graph: B) = One | Two

        type One @join__type(graph: A) { id: ID }

        type Two @join__type(graph: A) @join__type(graph: B) { id: ID }
        """,
    )
    assert supergraph.types["Thing"].members == {"a": {"One", "Two"}, "b": {"Two"}}


def test_sdl_without_join_spec_is_refused() -> None:
    with pytest.raises(SupergraphError, match="join spec"):
        load_supergraph("type Query { a: Int }")


def test_sdl_that_does_not_parse_is_refused() -> None:
    with pytest.raises(SupergraphError, match="does not parse"):
        load_supergraph(supergraph_sdl(["a"], "type Query {"))


_TYPES = """
type Query @join__type(graph: ACCOUNTS) {
  me: String @join__field(graph: ACCOUNTS)
}
"""


def _linking(link: str) -> str:
    sdl = supergraph_sdl(["accounts"], _TYPES)
    inaccessible = '  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)\n'
    return sdl.replace(inaccessible, inaccessible + f"  {link}\n", 1)


@pytest.mark.parametrize(
    "link",
    [
        '@link(url: "https://specs.apollo.dev/authenticated/v0.2", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/connect/v0.1", for: EXECUTION)',
        '@link(url: "https://specs.example.com/entitlements/v1.0", for: SECURITY)',
        '@link(url: "https://specs.apollo.dev/join/v0.9", for: EXECUTION)',
    ],
)
def test_a_security_or_execution_feature_the_gateway_does_not_implement_is_refused(
    link: str,
) -> None:
    with pytest.raises(SupergraphError, match="does not implement"):
        load_supergraph(_linking(link))


def test_features_without_a_purpose_load_and_their_directives_are_dropped() -> None:
    sdl = _linking('@link(url: "https://specs.apollo.dev/tag/v0.3")')
    assert "me" in print_schema(load_supergraph(sdl).api_schema)
