from __future__ import annotations

from typing import Any

from gateway.planner.plan import Fetch, QueryPlan
from tests.unit.gateway.executor.fakes import FakeSubgraphs, answer, run


def single(service: str, data: dict[str, Any]) -> tuple[QueryPlan, FakeSubgraphs]:
    return QueryPlan(Fetch(service, "{...}")), FakeSubgraphs(**{service: answer(data)})


async def test_null_in_a_non_null_field_nulls_the_nearest_nullable_parent() -> None:
    plan, subgraphs = single(
        "products", {"products": [{"upc": "1", "name": "a"}, {"upc": None, "name": "b"}]}
    )

    result = await run("{ products { upc name } }", plan, subgraphs)

    assert result.data == {"products": None}
    assert [(e.path, e.message) for e in result.errors] == [
        (("products", 1, "upc"), "Cannot return null for non-nullable field Product.upc.")
    ]


async def test_null_propagates_to_data_when_every_parent_is_non_null() -> None:
    plan, subgraphs = single("accounts", {"me": {"id": "1", "username": None}})

    result = await run("{ me { id username } }", plan, subgraphs)

    assert result.data is None
    assert result.errors[0].path == ("me", "username")


async def test_null_in_a_nullable_list_item_stays_local() -> None:
    plan, subgraphs = single(
        "accounts", {"users": [{"id": "1", "username": "a"}, {"id": "2", "username": None}]}
    )

    result = await run("{ users { id username } }", plan, subgraphs)

    assert result.data == {"users": [{"id": "1", "username": "a"}, None]}
    assert result.errors[0].path == ("users", 1, "username")


async def test_null_already_explained_by_a_subgraph_gets_no_second_error() -> None:
    plan = QueryPlan(Fetch("accounts", "{...}"))
    subgraphs = FakeSubgraphs(
        accounts=answer(
            {"me": {"id": "1", "username": None}},
            [{"message": "no username", "path": ["me", "username"]}],
        )
    )

    result = await run("{ me { username } }", plan, subgraphs)

    assert result.data is None
    assert [e.message for e in result.errors] == ["no username"]


async def test_fields_added_for_the_gateway_are_dropped_and_order_is_the_clients() -> None:
    plan, subgraphs = single(
        "accounts", {"users": [{"__typename": "User", "id": "1", "name": "Ann", "extra": 1}]}
    )

    result = await run("{ users { name id } }", plan, subgraphs)

    assert result.data == {"users": [{"name": "Ann", "id": "1"}]}
    assert list(result.data["users"][0]) == ["name", "id"]  # type: ignore[index]


async def test_aliases_name_the_response_keys() -> None:
    plan, subgraphs = single("accounts", {"people": [{"handle": "ann", "id": "1"}]})

    result = await run("{ people: users { handle: name id } }", plan, subgraphs)

    assert result.data == {"people": [{"handle": "ann", "id": "1"}]}


async def test_fragments_apply_by_runtime_typename() -> None:
    search = [
        {"__typename": "User", "id": "1", "name": "Ann"},
        {"__typename": "Product", "id": "p", "upc": "9", "name": "Lamp"},
    ]
    plan, subgraphs = single("search", {"search": search})

    result = await run(
        """
        query { search { __typename ... on Node { id } ...P ... on User { name } } }
        fragment P on Product { upc name }
        """,
        plan,
        subgraphs,
    )

    assert result.data == {
        "search": [
            {"__typename": "User", "id": "1", "name": "Ann"},
            {"__typename": "Product", "id": "p", "upc": "9", "name": "Lamp"},
        ]
    }


async def test_typename_of_objects_is_known_without_the_subgraph_sending_it() -> None:
    plan, subgraphs = single("accounts", {"me": {"id": "1"}})

    result = await run("{ __typename me { __typename id } }", plan, subgraphs)

    assert result.data == {"__typename": "Query", "me": {"__typename": "User", "id": "1"}}


async def test_skip_and_include_follow_the_request_variables() -> None:
    query = """
        query ($withName: Boolean!, $skipId: Boolean = false) {
          me { id @skip(if: $skipId) name @include(if: $withName) username @skip(if: true) }
        }
    """
    me = {"me": {"id": "1", "name": "Ann", "username": "ann"}}

    with_name = await run(query, *single("accounts", me), variables={"withName": True})
    without = await run(
        query, *single("accounts", me), variables={"withName": False, "skipId": True}
    )

    assert with_name.data == {"me": {"id": "1", "name": "Ann"}}
    assert without.data == {"me": {}}


async def test_introspection_is_answered_from_the_api_schema() -> None:
    plan, subgraphs = single("accounts", {"me": {"id": "1"}})

    result = await run(
        '{ __schema { queryType { name } } t: __type(name: "User") { name } me { id } }',
        plan,
        subgraphs,
    )

    assert result.data == {
        "__schema": {"queryType": {"name": "Query"}},
        "t": {"name": "User"},
        "me": {"id": "1"},
    }


async def test_introspection_alone_needs_no_subgraph() -> None:
    subgraphs = FakeSubgraphs()

    result = await run('{ __typename __type(name: "Node") { kind } }', QueryPlan(None), subgraphs)

    assert result.data == {"__typename": "Query", "__type": {"kind": "INTERFACE"}}
    assert subgraphs.requests == []


async def test_introspection_inside_root_fragments_is_answered_too() -> None:
    result = await run(
        'query { ...Meta ... on Query { t: __type(name: "User") { name } } }'
        " fragment Meta on Query { __schema { queryType { name } } }",
        QueryPlan(None),
        FakeSubgraphs(),
    )

    assert result.data == {"__schema": {"queryType": {"name": "Query"}}, "t": {"name": "User"}}


async def test_abstract_objects_without_typename_fail_only_when_typename_is_asked() -> None:
    answer_ = {"search": [{"name": "no typename"}, {"__typename": "User"}]}

    asked = await run("{ search { __typename ... on User { name } } }", *single("search", answer_))
    not_asked = await run("{ node(id: 1) { id } }", *single("nodes", {"node": {"id": "1"}}))

    assert asked.data == {"search": [None, {"__typename": "User", "name": None}]}
    assert [(e.path, e.code) for e in asked.errors] == [
        (("search", 0), "SUBREQUEST_MALFORMED_RESPONSE")
    ]
    assert not_asked.data == {"node": {"id": "1"}}
    assert not_asked.errors == []


async def test_values_of_the_wrong_shape_are_null_with_an_error() -> None:
    plan, subgraphs = single("accounts", {"users": {"not": "a list"}, "me": "not an object"})

    result = await run("{ users { id } me { id } }", plan, subgraphs)

    assert result.data is None
    assert [(e.path, e.code) for e in result.errors] == [
        (("users",), "SUBREQUEST_MALFORMED_RESPONSE"),
        (("me",), "SUBREQUEST_MALFORMED_RESPONSE"),
    ]


async def test_enum_values_the_api_schema_does_not_have_become_null_with_an_error() -> None:
    users = [
        {"id": "1", "role": "ADMIN", "roles": ["ADMIN", "MEMBER"]},
        {"id": "2", "role": "GHOST", "roles": ["MEMBER", "GHOST"]},
    ]

    result = await run("{ users { id role roles } }", *single("accounts", {"users": users}))

    assert result.data == {
        "users": [
            {"id": "1", "role": "ADMIN", "roles": ["ADMIN", "MEMBER"]},
            {"id": "2", "role": None, "roles": None},
        ]
    }
    assert [(e.path, e.code, e.message) for e in result.errors] == [
        (("users", 1, "role"), "INVALID_ENUM_VALUE", 'Enum "Role" cannot represent value: "GHOST"'),
        (
            ("users", 1, "roles", 1),
            "INVALID_ENUM_VALUE",
            'Enum "Role" cannot represent value: "GHOST"',
        ),
    ]
