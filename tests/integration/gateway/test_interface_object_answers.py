"""Values from an @interfaceObject subgraph: asked only for interface fields they come from
that subgraph alone; their concrete type comes from a subgraph that implements the
interface, never from one that merely declares it (it would refuse ``... on Node``)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.test_interface_object import OWNER_ELSEWHERE_SDL

NODES = {
    "b1": {"__typename": "Book", "id": "b1", "title": "Dune"},
    "m1": {"__typename": "Movie", "id": "m1", "director": "Scott"},
}
STARS = {"b1": [5, 4], "m1": [3]}


def subgraphs() -> FakeSubgraphs:
    accounts = FakeSubgraph(
        """
        interface Node { id: ID! }
        type User { id: ID! name: String }
        type Query { me: User }
        """,
        {"me": None},
        lambda rep: {"__typename": "User", "id": rep["id"], "name": "Ada"},
        ("User",),
    )
    catalog = FakeSubgraph(
        """
        interface Node { id: ID! }
        type Book implements Node { id: ID! title: String }
        type Movie implements Node { id: ID! director: String }
        type Query { catalogue: [Node] }
        """,
        {"catalogue": list(NODES.values())},
        lambda rep: NODES[rep["id"]],
        ("Book", "Movie"),
    )

    def reviewed(node_id: str) -> dict[str, Any]:
        def reviews(info: Any, first: int | None = None) -> list[dict[str, Any]]:
            return [{"stars": stars} for stars in STARS[node_id][:first]]

        return {"__typename": "Node", "id": node_id, "reviews": reviews}

    reviews = FakeSubgraph(
        """
        type Review { stars: Int }
        type Node { id: ID! reviews(first: Int): [Review] }
        type Query { reviewed: [Node] }
        """,
        {"reviewed": [reviewed("b1"), reviewed("m1")]},
        lambda rep: reviewed(rep["id"]),
        ("Node",),
    )
    return FakeSubgraphs(accounts=accounts, catalog=catalog, reviews=reviews)


async def run(query: str, fakes: FakeSubgraphs) -> Any:
    engine = FederatedEngine(OWNER_ELSEWHERE_SDL, fetcher=fakes)
    return await engine.execute(engine.prepare(query, None), {}, {})


async def test_the_key_and_fields_of_an_interface_object_come_from_its_subgraph_alone() -> None:
    fakes = subgraphs()
    result = await run("{ reviewed { id reviews { stars } } }", fakes)

    assert result.errors == []
    assert result.data == {
        "reviewed": [
            {"id": "b1", "reviews": [{"stars": 5}, {"stars": 4}]},
            {"id": "m1", "reviews": [{"stars": 3}]},
        ]
    }
    assert fakes.log == ["reviews"]


async def test_the_concrete_type_comes_from_the_subgraph_implementing_the_interface() -> None:
    fakes = subgraphs()
    result = await run(
        "{ reviewed { __typename id ... on Book { title } ... on Movie { director } } }", fakes
    )

    assert result.errors == []
    assert result.data == {
        "reviewed": [
            {"__typename": "Book", "id": "b1", "title": "Dune"},
            {"__typename": "Movie", "id": "m1", "director": "Scott"},
        ]
    }
    assert fakes.log == ["reviews", "catalog"]


@pytest.mark.parametrize(
    ("book", "movie", "expected"),
    [
        ("reviews(first: 1)", "reviews", [[{"stars": 5}], [{"stars": 3}]]),
        ("reviews", "reviews(first: 1)", [[{"stars": 5}, {"stars": 4}], [{"stars": 3}]]),
        ("r: reviews(first: 1)", "r: reviews(first: 2)", [[{"stars": 5}], [{"stars": 3}]]),
    ],
)
async def test_each_implementation_gets_an_interface_object_field_with_its_own_arguments(
    book: str, movie: str, expected: list[Any]
) -> None:
    fakes = subgraphs()
    result = await run(
        f"{{ catalogue {{ ... on Book {{ {book} {{ stars }} }} "
        f"... on Movie {{ {movie} {{ stars }} }} }} }}",
        fakes,
    )

    assert result.errors == []
    key = "r" if book.startswith("r:") else "reviews"
    assert [item[key] for item in result.data["catalogue"]] == expected
    assert fakes.log == ["catalog", "reviews"]
