from __future__ import annotations

from gateway.planner.plan import (
    Fetch,
    FieldSelection,
    Flatten,
    InlineFragmentSelection,
    QueryPlan,
    Sequence,
)
from tests.unit.gateway.executor.fakes import FakeSubgraphs, answer, entities, run

USER_KEY = (InlineFragmentSelection("User", (FieldSelection("__typename"), FieldSelection("id"))),)
PRODUCT_KEY = (
    InlineFragmentSelection("Product", (FieldSelection("__typename"), FieldSelection("upc"))),
)
ENTITIES_USER_NAME = (
    "query($representations:[_Any!]!){_entities(representations:$representations)"
    "{...on User{name}}}"
)


def users_then_names() -> QueryPlan:
    return QueryPlan(
        Sequence(
            (
                Fetch("reviews", "{users{__typename id}}"),
                Flatten(("users", "@"), Fetch("accounts", ENTITIES_USER_NAME, requires=USER_KEY)),
            )
        )
    )


async def test_entity_fetch_sends_one_request_for_a_list_of_a_hundred() -> None:
    users = [{"__typename": "User", "id": str(i)} for i in range(100)]
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": users}),
        accounts=entities(lambda rep: {"name": f"user {rep['id']}"}),
    )

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert len(subgraphs.to("accounts")) == 1
    representations = subgraphs.to("accounts")[0].variables["representations"]
    assert representations == [{"__typename": "User", "id": str(i)} for i in range(100)]
    assert result.errors == []
    assert result.data == {"users": [{"id": str(i), "name": f"user {i}"} for i in range(100)]}


async def test_entity_fetch_deduplicates_representations_and_fills_every_object() -> None:
    users = [{"__typename": "User", "id": str(i % 3)} for i in range(9)]
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": users}),
        accounts=entities(lambda rep: {"name": f"user {rep['id']}"}),
    )

    result = await run("{ users { name } }", users_then_names(), subgraphs)

    assert len(subgraphs.to("accounts")[0].variables["representations"]) == 3
    assert result.data == {"users": [{"name": f"user {i % 3}"} for i in range(9)]}


async def test_an_error_of_a_deduplicated_representation_is_reported_at_every_object() -> None:
    users = [{"__typename": "User", "id": str(i % 2)} for i in range(4)]
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": users}),
        accounts=answer(
            {"_entities": [{"name": "user 0"}, {"name": None}]},
            [{"message": "name failed", "path": ["_entities", 1, "name"]}],
        ),
    )

    result = await run("{ users { name } }", users_then_names(), subgraphs)

    assert len(subgraphs.to("accounts")[0].variables["representations"]) == 2
    assert [(e.message, e.path) for e in result.errors] == [
        ("name failed", ("users", 1, "name")),
        ("name failed", ("users", 3, "name")),
    ]


async def test_entity_fetch_skips_nulls_and_objects_of_other_types() -> None:
    search = [
        {"__typename": "Product", "upc": "p1"},
        None,
        {"__typename": "User", "id": "u1", "name": "Ann"},
        {"__typename": "Product", "upc": "p2"},
    ]
    plan = QueryPlan(
        Sequence(
            (
                Fetch("search", "{search{__typename ...on Product{upc} ...on User{id name}}}"),
                Flatten(
                    ("search", "@"),
                    Fetch(
                        "products",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on Product{name}}}",
                        requires=PRODUCT_KEY,
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        search=answer({"search": search}),
        products=entities(lambda rep: {"name": f"product {rep['upc']}"}),
    )

    result = await run(
        "{ search { ... on Product { name } ... on User { name } } }", plan, subgraphs
    )

    assert subgraphs.to("products")[0].variables["representations"] == [
        {"__typename": "Product", "upc": "p1"},
        {"__typename": "Product", "upc": "p2"},
    ]
    assert result.data == {
        "search": [{"name": "product p1"}, None, {"name": "Ann"}, {"name": "product p2"}]
    }


async def test_entity_fetch_reaches_objects_through_nested_lists() -> None:
    users = [
        {
            "__typename": "User",
            "id": "1",
            "reviews": [{"product": {"__typename": "Product", "upc": "a"}}],
        },
        {
            "__typename": "User",
            "id": "2",
            "reviews": [{"product": None}, {"product": {"__typename": "Product", "upc": "b"}}],
        },
    ]
    plan = QueryPlan(
        Sequence(
            (
                Fetch("reviews", "{users{reviews{product{__typename upc}}}}"),
                Flatten(
                    ("users", "@", "reviews", "@", "product"),
                    Fetch(
                        "products",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on Product{name}}}",
                        requires=PRODUCT_KEY,
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": users}),
        products=entities(lambda rep: {"name": rep["upc"].upper()}),
    )

    result = await run("{ users { reviews { product { name } } } }", plan, subgraphs)

    assert len(subgraphs.to("products")) == 1
    assert result.data == {
        "users": [
            {"reviews": [{"product": {"name": "A"}}]},
            {"reviews": [{"product": None}, {"product": {"name": "B"}}]},
        ]
    }


async def test_entity_results_merge_deeply_into_what_is_already_there() -> None:
    plan = QueryPlan(
        Sequence(
            (
                Fetch("reviews", "{users{__typename id reviews{id}}}"),
                Flatten(
                    ("users", "@"),
                    Fetch(
                        "accounts",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on User{name reviews{body}}}}",
                        requires=USER_KEY,
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": [{"__typename": "User", "id": "1", "reviews": [{"id": "r1"}]}]}),
        accounts=entities(lambda rep: {"name": "Ann", "reviews": [{"body": "good"}]}),
    )

    result = await run("{ users { name reviews { body id } } }", plan, subgraphs)

    assert result.data == {"users": [{"name": "Ann", "reviews": [{"body": "good", "id": "r1"}]}]}


async def test_entity_fetch_without_objects_sends_nothing() -> None:
    subgraphs = FakeSubgraphs(reviews=answer({"users": []}), accounts=answer({}))

    result = await run("{ users { name } }", users_then_names(), subgraphs)

    assert subgraphs.to("accounts") == []
    assert result.data == {"users": []}


async def test_requires_with_nested_fragments_take_only_the_fields_of_each_objects_type() -> None:
    requires = (
        InlineFragmentSelection(
            "User",
            (
                FieldSelection("__typename"),
                FieldSelection("id"),
                FieldSelection(
                    "favourite",
                    (
                        FieldSelection("__typename"),
                        InlineFragmentSelection("Product", (FieldSelection("upc"),)),
                        InlineFragmentSelection("User", (FieldSelection("name"),)),
                    ),
                ),
            ),
        ),
    )
    users = [
        {"__typename": "User", "id": "1", "favourite": {"__typename": "Product", "upc": "9"}},
        {"__typename": "User", "id": "2", "favourite": {"__typename": "User", "name": "Bo"}},
        {"__typename": "User", "id": "3", "favourite": None},
    ]
    plan = QueryPlan(
        Sequence(
            (
                Fetch("reviews", "{users{__typename id favourite{...}}}"),
                Flatten(("users", "@"), Fetch("accounts", ENTITIES_USER_NAME, requires=requires)),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": users}), accounts=entities(lambda rep: {"name": rep["id"]})
    )

    result = await run("{ users { name } }", plan, subgraphs)

    assert subgraphs.to("accounts")[0].variables["representations"] == [
        {"__typename": "User", "id": "1", "favourite": {"__typename": "Product", "upc": "9"}},
        {"__typename": "User", "id": "2", "favourite": {"__typename": "User", "name": "Bo"}},
        {"__typename": "User", "id": "3", "favourite": None},
    ]
    assert result.data == {"users": [{"name": "1"}, {"name": "2"}, {"name": "3"}]}
