from __future__ import annotations

from gateway.planner.plan import (
    Condition,
    Fetch,
    FieldSelection,
    Flatten,
    InlineFragmentSelection,
    KeyRenamer,
    Parallel,
    QueryPlan,
    Sequence,
    ValueSetter,
)
from tests.unit.gateway.executor.fakes import FakeSubgraphs, answer, entities, run


async def test_parallel_fetches_merge_side_by_side() -> None:
    plan = QueryPlan(
        Parallel((Fetch("accounts", "{me{id}}"), Fetch("products", "{products{upc}}")))
    )
    subgraphs = FakeSubgraphs(
        accounts=answer({"me": {"id": "1", "username": "ann"}}),
        products=answer({"products": [{"upc": "9"}]}),
    )

    result = await run("{ products { upc } me { username } }", plan, subgraphs)

    assert result.data == {"products": [{"upc": "9"}], "me": {"username": "ann"}}


async def test_condition_runs_the_branch_its_variable_picks() -> None:
    plan = QueryPlan(
        Condition(
            "withMe",
            Fetch("accounts", "{me{id}}"),
            Fetch("products", "{products{upc}}"),
        )
    )
    query = "query ($withMe: Boolean!) { me @include(if: $withMe) { id } products { upc } }"
    subgraphs = FakeSubgraphs(
        accounts=answer({"me": {"id": "1"}}), products=answer({"products": []})
    )

    result = await run(query, plan, subgraphs, variables={"withMe": False})

    assert [r.service for r in subgraphs.requests] == ["products"]
    assert result.data == {"products": []}


async def test_input_and_output_rewrites_apply_to_representations_and_entities() -> None:
    plan = QueryPlan(
        Sequence(
            (
                Fetch("accounts", "{me{__typename id}}"),
                Flatten(
                    ("me",),
                    Fetch(
                        "legacy",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on Account{nick}}}",
                        requires=(
                            InlineFragmentSelection(
                                "User", (FieldSelection("__typename"), FieldSelection("id"))
                            ),
                        ),
                        input_rewrites=(ValueSetter(("... on User", "__typename"), "Account"),),
                        output_rewrites=(
                            ValueSetter(("... on Account", "__typename"), "User"),
                            KeyRenamer(("... on User", "nick"), "username"),
                        ),
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        accounts=answer({"me": {"__typename": "User", "id": "1"}}),
        legacy=entities(lambda rep: {"__typename": rep["__typename"], "nick": "ann"}),
    )

    result = await run("{ me { id username } }", plan, subgraphs)

    assert subgraphs.to("legacy")[0].variables["representations"] == [
        {"__typename": "Account", "id": "1"}
    ]
    assert result.data == {"me": {"id": "1", "username": "ann"}}


async def test_root_fetch_carries_a_pre_encoded_query_and_its_operation_name() -> None:
    plan = QueryPlan(
        Fetch("accounts", "query Me__accounts__0{me{id}}", operation_name="Me__accounts__0")
    )
    subgraphs = FakeSubgraphs(accounts=answer({"me": {"id": "1"}}))

    await run("query Me { me { id } }", plan, subgraphs)

    assert subgraphs.requests[0].query == "query Me__accounts__0{me{id}}"
    assert subgraphs.requests[0].variables == {}


async def test_an_interface_object_answer_keeps_the_objects_concrete_type() -> None:
    plan = QueryPlan(
        Sequence(
            (
                Fetch("accounts", "{me{__typename id}}"),
                Flatten(
                    ("me",),
                    Fetch(
                        "nodes",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on Node{__typename name}}}",
                        requires=(
                            InlineFragmentSelection(
                                "User", (FieldSelection("__typename"), FieldSelection("id"))
                            ),
                        ),
                        input_rewrites=(ValueSetter(("... on User", "__typename"), "Node"),),
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        accounts=answer({"me": {"__typename": "User", "id": "1"}}),
        nodes=entities(lambda rep: {"__typename": rep["__typename"], "name": "Ann"}),
    )

    result = await run("{ me { __typename ... on User { name } } }", plan, subgraphs)

    assert subgraphs.to("nodes")[0].variables["representations"][0]["__typename"] == "Node"
    assert result.data == {"me": {"__typename": "User", "name": "Ann"}}


async def test_mutation_fetches_run_in_order_and_are_marked_as_mutations() -> None:
    plan = QueryPlan(
        Sequence(
            (
                Fetch("accounts", "mutation{a:rename{id}}", operation_kind="mutation"),
                Fetch("products", "mutation{b:restock{upc}}", operation_kind="mutation"),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        accounts=answer({"a": {"id": "1"}}), products=answer({"b": {"upc": "9"}})
    )

    await run("{ me { id } }", plan, subgraphs)

    assert [(r.service, r.mutation) for r in subgraphs.requests] == [
        ("accounts", True),
        ("products", True),
    ]


async def test_an_interface_object_subgraph_is_sent_the_interfaces_name() -> None:
    plan = QueryPlan(
        Sequence(
            (
                Fetch("accounts", "{me{__typename id}}"),
                Flatten(
                    ("me",),
                    Fetch(
                        "nodes",
                        "query($representations:[_Any!]!){_entities(representations:"
                        "$representations){...on Node{name}}}",
                        requires=(
                            InlineFragmentSelection(
                                "Node", (FieldSelection("__typename"), FieldSelection("id"))
                            ),
                        ),
                    ),
                ),
            )
        )
    )
    subgraphs = FakeSubgraphs(
        accounts=answer({"me": {"__typename": "User", "id": "1"}}),
        nodes=entities(lambda rep: {"__typename": rep["__typename"], "name": "Ann"}),
    )

    result = await run(
        "{ me { __typename name } }",
        plan,
        subgraphs,
        interface_objects={"nodes": frozenset({"Node"})},
    )

    assert subgraphs.to("nodes")[0].variables["representations"] == [
        {"__typename": "Node", "id": "1"}
    ]
    assert result.data == {"me": {"__typename": "User", "name": "Ann"}}
