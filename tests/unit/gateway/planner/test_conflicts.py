"""Fields a subgraph would reject as conflicting are aliased and renamed back."""

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import Fetch, KeyRenamer
from tests.unit.gateway.planner.support import load

SUPERGRAPH = load(
    ["people"],
    """
    type Query @join__type(graph: PEOPLE) {
      accounts: [Account!]!
    }

    union Account
      @join__type(graph: PEOPLE)
      @join__unionMember(graph: PEOPLE, member: "User")
      @join__unionMember(graph: PEOPLE, member: "Admin")
    = User | Admin

    type User @join__type(graph: PEOPLE, key: "id") {
      id: ID @join__field(graph: PEOPLE, type: "ID!")
      name: String
    }

    type Admin @join__type(graph: PEOPLE) {
      id: ID
      name: String
    }
    """,
)


def test_same_key_with_different_subgraph_types_is_aliased_and_renamed_back() -> None:
    query = "{ accounts { ... on User { id name } ... on Admin { id name } } }"
    plan = build_plan(SUPERGRAPH, parse(query), None)
    assert isinstance(plan.node, Fetch)
    assert plan.node.operation == (
        "query{accounts{__typename ... on User{id name} ... on Admin{id__alias_0:id name}}}"
    )
    assert plan.node.output_rewrites == (
        KeyRenamer(("accounts", "... on Admin", "id__alias_0"), "id"),
    )


def test_same_key_with_the_same_type_is_not_aliased() -> None:
    plan = build_plan(
        SUPERGRAPH, parse("{ accounts { ... on User { name } ... on Admin { name } } }"), None
    )
    assert isinstance(plan.node, Fetch)
    assert plan.node.output_rewrites == ()
