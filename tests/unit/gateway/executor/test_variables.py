from __future__ import annotations

import pytest

from gateway.engine import RequestError
from gateway.planner.plan import Fetch, QueryPlan
from tests.unit.gateway.executor.fakes import FakeSubgraphs, answer, run

QUERY = "query ($first: Int, $id: ID!) { products(first: $first) { upc } node(id: $id) { id } }"


def plan() -> QueryPlan:
    return QueryPlan(
        Fetch(
            "products",
            "query($first:Int){products(first:$first){upc}}",
            variable_usages=("first",),
        )
    )


async def test_variables_are_coerced_and_only_the_used_ones_are_sent() -> None:
    subgraphs = FakeSubgraphs(products=answer({"products": []}))

    await run(QUERY, plan(), subgraphs, variables={"first": 3, "id": 7})

    assert subgraphs.requests[0].variables == {"first": 3}


async def test_variables_that_do_not_coerce_are_a_bad_user_input_request_error() -> None:
    subgraphs = FakeSubgraphs(products=answer({"products": []}))

    with pytest.raises(RequestError) as raised:
        await run(QUERY, plan(), subgraphs, variables={"first": "three"})

    assert {e.code for e in raised.value.errors} == {"BAD_USER_INPUT"}
    assert len(raised.value.errors) == 2  # the wrong Int and the missing ID!
    assert subgraphs.requests == []


async def test_variables_take_their_defaults() -> None:
    subgraphs = FakeSubgraphs(products=answer({"products": []}))

    await run("query ($first: Int = 2) { products(first: $first) { upc } }", plan(), subgraphs)

    assert subgraphs.requests[0].variables == {"first": 2}
