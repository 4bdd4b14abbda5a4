"""Composition errors: each rule, reported with a code and the subgraphs involved."""

from __future__ import annotations

import pytest

from gateway.supergraph.compose import CompositionError, CompositionIssue, SubgraphSource, compose
from tests.unit.gateway.compose.subgraphs import subgraph


def issues_of(*subgraphs: SubgraphSource) -> list[CompositionIssue]:
    with pytest.raises(CompositionError) as raised:
        compose(list(subgraphs))
    return raised.value.issues


def only_issue(*subgraphs: SubgraphSource) -> CompositionIssue:
    issues = issues_of(*subgraphs)
    assert len(issues) == 1, issues
    return issues[0]


def test_conflicting_field_types_name_both_subgraphs_and_types() -> None:
    issue = only_issue(
        subgraph(
            "a", 'type P @key(fields: "id") { id: ID! n: Int @shareable } type Query { p: P }'
        ),
        subgraph("b", 'type P @key(fields: "id") { id: ID! n: String @shareable }'),
    )
    assert issue.code == "FIELD_TYPE_MISMATCH"
    assert issue.subgraphs == ("a", "b")
    assert '"P.n"' in issue.message
    assert '"Int" in "a"' in issue.message
    assert '"String" in "b"' in issue.message


def test_field_resolved_by_two_subgraphs_must_be_shareable_in_both() -> None:
    issue = only_issue(
        subgraph("a", 'type P @key(fields: "id") { id: ID! n: Int } type Query { p: P }'),
        subgraph("b", 'type P @key(fields: "id") { id: ID! n: Int @shareable }'),
    )
    assert issue.code == "INVALID_FIELD_SHARING"
    assert issue.subgraphs == ("a", "b")
    assert 'non-shareable in "a"' in issue.message


def test_root_fields_in_two_subgraphs_must_be_shareable() -> None:
    issue = only_issue(
        subgraph("a", "type Query { hello: String }"),
        subgraph("b", "type Query { hello: String }"),
    )
    assert issue.code == "INVALID_FIELD_SHARING"
    assert '"a" and "b"' in issue.message


def test_key_fields_are_shareable_without_saying_so() -> None:
    compose(
        [
            subgraph("a", 'type P @key(fields: "id") { id: ID! } type Query { p: P }'),
            subgraph("b", 'type P @key(fields: "id") { id: ID! x: Int }'),
        ]
    )


def test_key_on_fields_that_do_not_exist_is_rejected() -> None:
    issue = only_issue(subgraph("a", 'type P @key(fields: "sku") { id: ID! } type Query { p: P }'))
    assert issue.code == "KEY_INVALID_FIELDS"
    assert issue.subgraphs == ("a",)
    assert '"P.sku" does not exist' in issue.message


def test_compound_and_nested_keys_are_checked_in_depth() -> None:
    issue = only_issue(
        subgraph(
            "a",
            'type P @key(fields: "id store { code }") { id: ID! store: S } '
            "type S { name: String } type Query { p: P }",
        )
    )
    assert issue.code == "KEY_INVALID_FIELDS"
    assert '"S.code"' in issue.message


def test_requires_on_a_field_that_is_not_external_is_rejected() -> None:
    issue = only_issue(
        subgraph(
            "a", 'type P @key(fields: "id") { id: ID! w: Int @shareable } type Query { p: P }'
        ),
        subgraph(
            "b",
            'type P @key(fields: "id") { id: ID! w: Int @shareable s: Int @requires(fields: "w") }',
        ),
    )
    assert issue.code == "REQUIRES_FIELDS_MISSING_EXTERNAL"
    assert issue.subgraphs == ("b",)
    assert '"P.w" should be @external' in issue.message


def test_requires_on_unknown_fields_is_rejected() -> None:
    issue = only_issue(
        subgraph(
            "a",
            'type P @key(fields: "id") { id: ID! s: Int @requires(fields: "nope") } '
            "type Query { p: P }",
        ),
    )
    assert issue.code == "REQUIRES_INVALID_FIELDS"


def test_provides_must_select_external_fields_of_the_returned_type() -> None:
    issue = only_issue(
        subgraph(
            "a", 'type U @key(fields: "id") { id: ID! name: String @shareable } type Query { u: U }'
        ),
        subgraph(
            "b",
            'type U @key(fields: "id") { id: ID! name: String @shareable } '
            'type R @key(fields: "id") { id: ID! author: U @provides(fields: "name") }',
        ),
    )
    assert issue.code == "PROVIDES_FIELDS_MISSING_EXTERNAL"
    assert issue.subgraphs == ("b",)


def test_provides_on_a_scalar_field_is_rejected() -> None:
    issue = only_issue(
        subgraph("a", 'type Query { n: Int @provides(fields: "x") }'),
    )
    assert issue.code == "PROVIDES_ON_NON_OBJECT_FIELD"


def test_external_field_that_no_subgraph_resolves_is_rejected() -> None:
    issue = only_issue(
        subgraph(
            "a",
            'type P @key(fields: "id") { id: ID! w: Int @external '
            's: Int @requires(fields: "w") } type Query { p: P }',
        ),
    )
    assert issue.code == "EXTERNAL_MISSING_ON_BASE"
    assert issue.subgraphs == ("a",)


def test_override_from_itself_is_rejected() -> None:
    issue = only_issue(
        subgraph("a", 'type Query { n: Int @override(from: "a") }'),
    )
    assert issue.code == "OVERRIDE_FROM_SELF_ERROR"


def test_same_name_with_different_kinds_is_rejected() -> None:
    issue = only_issue(
        subgraph("a", "type T { x: Int } type Query { a: T }"),
        subgraph("b", "input T { x: Int } type Query { b(t: T): Int }"),
    )
    assert issue.code == "TYPE_KIND_MISMATCH"
    assert issue.subgraphs == ("a", "b")


def test_enum_used_as_input_and_output_must_agree() -> None:
    issue = only_issue(
        subgraph("a", "enum E { X Y } type Query { a(e: E): E }"),
        subgraph("b", "enum E { X } type Query { b: E }"),
    )
    assert issue.code == "ENUM_VALUE_MISMATCH"
    assert '"Y"' in issue.message


def test_required_input_field_missing_somewhere_is_rejected() -> None:
    issue = only_issue(
        subgraph("a", "input F { x: Int! z: Int } type Query { a(f: F): Int }"),
        subgraph("b", "input F { y: Int z: Int } type Query { b(f: F): Int }"),
    )
    assert issue.code == "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"


def test_required_argument_missing_somewhere_is_rejected() -> None:
    issue = only_issue(
        subgraph("a", "type Query { n(x: Int!): Int @shareable }"),
        subgraph("b", "type Query { n: Int @shareable }"),
    )
    assert issue.code == "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"


def test_undefined_type_is_reported_for_its_subgraph() -> None:
    issue = only_issue(subgraph("a", "type Query { user: User }"))
    assert issue.code == "INVALID_GRAPHQL"
    assert issue.subgraphs == ("a",)
    assert '"User"' in issue.message


def test_unparsable_sdl_is_reported_for_its_subgraph() -> None:
    issue = only_issue(SubgraphSource("broken", "http://b", "type Query {"))
    assert issue.code == "INVALID_GRAPHQL"
    assert issue.subgraphs == ("broken",)


def test_every_issue_is_reported_at_once() -> None:
    issues = issues_of(
        subgraph("a", 'type P @key(fields: "nope") { id: ID! n: Int } type Query { p: P }'),
        subgraph("b", 'type P @key(fields: "id") { id: ID! n: String }'),
    )
    assert {i.code for i in issues} == {
        "KEY_INVALID_FIELDS",
        "FIELD_TYPE_MISMATCH",
        "INVALID_FIELD_SHARING",
    }
    assert "[KEY_INVALID_FIELDS]" in str(CompositionError(issues))


def test_duplicate_subgraph_names_are_rejected() -> None:
    issue = only_issue(
        subgraph("a", "type Query { a: Int }"), subgraph("a", "type Query { b: Int }")
    )
    assert issue.code == "INVALID_SUBGRAPH_NAME"


def test_entity_referenced_where_no_subgraph_can_resolve_it_is_rejected() -> None:
    issue = only_issue(
        subgraph(
            "reviews",
            'type User @key(fields: "id", resolvable: false) { id: ID! } '
            "type Query { author: User }",
        ),
        subgraph(
            "accounts", 'type User @key(fields: "id", resolvable: false) { id: ID! name: String }'
        ),
    )
    assert issue.code == "SATISFIABILITY_ERROR"
    assert issue.subgraphs == ("accounts", "reviews")
    assert '"User.name"' in issue.message


def test_value_type_missing_a_field_in_one_subgraph_is_unsatisfiable() -> None:
    issue = only_issue(
        subgraph("a", "type Money @shareable { amount: Int } type Query { a: Money }"),
        subgraph(
            "b", "type Money @shareable { amount: Int currency: String } type Query { b: Money }"
        ),
    )
    assert issue.code == "SATISFIABILITY_ERROR"
    assert '"Money.currency"' in issue.message


def test_stub_with_a_resolvable_key_elsewhere_is_satisfiable() -> None:
    compose(
        [
            subgraph(
                "reviews",
                'type User @key(fields: "id", resolvable: false) { id: ID! } '
                "type Query { author: User }",
            ),
            subgraph("accounts", 'type User @key(fields: "id") { id: ID! name: String }'),
        ]
    )


def test_interface_object_without_an_entity_interface_is_rejected() -> None:
    link = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
        'import: ["@key", "@interfaceObject"])\n'
    )
    issue = only_issue(
        SubgraphSource(
            "b",
            "http://b",
            link + 'type Media @key(fields: "id") @interfaceObject { id: ID! } '
            "type Query { m: Media }",
        )
    )
    assert issue.code == "INTERFACE_OBJECT_USAGE_ERROR"
    assert issue.subgraphs == ("b",)
