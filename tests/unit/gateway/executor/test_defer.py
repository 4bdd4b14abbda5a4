"""Running fixed Defer plans: ``execute`` answers in one piece, ``execute_incrementally``
sends the primary part first and then one entry per object at each deferred path."""

from __future__ import annotations

from gateway.planner.plan import (
    Defer,
    DeferredDependency,
    DeferredNode,
    Fetch,
    FieldSelection,
    Flatten,
    InlineFragmentSelection,
    PrimaryDeferBlock,
    QueryPlan,
)
from tests.unit.gateway.executor.fakes import (
    FakeSubgraphs,
    answer,
    entities,
    run,
    run_incrementally,
)

QUERY = '{ users { name ... @defer(label: "reviews") { reviews { body } } } }'
KEY = (InlineFragmentSelection("User", (FieldSelection("__typename"), FieldSelection("id"))),)
REVIEWS = (
    "query($representations:[_Any!]!){_entities(representations:$representations)"
    "{...on User{reviews{body}}}}"
)
PLAN = QueryPlan(
    Defer(
        PrimaryDeferBlock(
            "{\n  users {\n    name\n  }\n}",
            Fetch("accounts", "{users{name __typename id}}", id="0"),
        ),
        (
            DeferredNode(
                (DeferredDependency("0"),),
                "reviews",
                ("users", "@"),
                "{\n  reviews {\n    body\n  }\n}",
                Flatten(("users", "@"), Fetch("reviews", REVIEWS, requires=KEY)),
            ),
        ),
    )
)


def subgraphs() -> FakeSubgraphs:
    users = [
        {"__typename": "User", "id": "1", "name": "Ann"},
        None,
        {"__typename": "User", "id": "2", "name": "Bob"},
    ]
    bodies = {"1": [{"body": "Fine"}], "2": []}
    return FakeSubgraphs(
        accounts=answer({"users": users}),
        reviews=entities(lambda rep: {"__typename": "User", "reviews": bodies[rep["id"]]}),
    )


async def test_execute_runs_the_deferred_blocks_and_answers_in_one_piece() -> None:
    result = await run(QUERY, PLAN, subgraphs())

    assert result.to_dict() == {
        "data": {
            "users": [
                {"name": "Ann", "reviews": [{"body": "Fine"}]},
                None,
                {"name": "Bob", "reviews": []},
            ]
        }
    }


async def test_incremental_parts_give_one_entry_per_object_at_the_deferred_path() -> None:
    parts = await run_incrementally(QUERY, PLAN, subgraphs())

    assert parts == [
        {"data": {"users": [{"name": "Ann"}, None, {"name": "Bob"}]}, "hasNext": True},
        {
            "incremental": [
                {"data": {"reviews": [{"body": "Fine"}]}, "path": ["users", 0], "label": "reviews"},
                {"data": {"reviews": []}, "path": ["users", 2], "label": "reviews"},
            ],
            "hasNext": False,
        },
    ]


async def test_a_type_condition_in_the_path_keeps_entries_to_objects_of_that_type() -> None:
    query = "{ search { ... on User { name } ... on Product @defer { upc } } }"
    plan = QueryPlan(
        Defer(
            PrimaryDeferBlock(None, Fetch("search", "{search{__typename ...on User{name}}}")),
            (
                DeferredNode(
                    (),
                    None,
                    ("search", "@", "... on Product"),
                    "{\n  ... on Product {\n    upc\n  }\n}",
                    Fetch("search", "{search{...on Product{upc}}}"),
                ),
            ),
        )
    )
    found = [{"__typename": "User", "name": "Ann"}, {"__typename": "Product", "upc": "9"}]

    parts = await run_incrementally(query, plan, FakeSubgraphs(search=answer({"search": found})))

    assert parts[0]["data"] == {"search": [{"name": "Ann"}, {}]}
    assert parts[1]["incremental"] == [{"data": {"upc": "9"}, "path": ["search", 1]}]
