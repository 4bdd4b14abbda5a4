"""A shared root field is read from the subgraph whose @provides cover the selection:
the other subgraph, which would need a second jump, is not asked at all."""

from __future__ import annotations

from typing import Any

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.support import supergraph_sdl
from tests.unit.gateway.planner.test_provides import PROVIDES_ON_UNION_SDL

MEDIA_SDL = """
union Media = Book | Movie
type Book { id: ID! title: String }
type Movie { id: ID! }
type Query { media: [Media] }
"""
MEDIA = [{"__typename": "Book", "id": "b1", "title": "Dune"}, {"__typename": "Movie", "id": "m1"}]


def subgraphs() -> FakeSubgraphs:
    def not_here(info: Any) -> Any:
        raise ValueError("a plan that needs the 'a' subgraph does more than it must")

    titles = FakeSubgraph(
        "type Book { id: ID! title: String }\ntype Movie { id: ID! title: String }\n"
        "type Query { _unused: Int }",
        {},
        lambda rep: {"__typename": rep["__typename"], "id": rep["id"], "title": "from c"},
        ("Book", "Movie"),
    )
    return FakeSubgraphs(
        a=FakeSubgraph(MEDIA_SDL, {"media": not_here}),
        b=FakeSubgraph(MEDIA_SDL, {"media": MEDIA}),
        c=titles,
    )


async def test_the_providing_subgraph_answers_alone() -> None:
    fakes = subgraphs()
    engine = FederatedEngine(supergraph_sdl(["a", "b", "c"], PROVIDES_ON_UNION_SDL), fetcher=fakes)
    query = "{ media { ... on Book { id title } ... on Movie { id } } }"

    result = await engine.execute(engine.prepare(query, None), None, {})

    assert result.errors == []
    assert result.data == {"media": [{"id": "b1", "title": "Dune"}, {"id": "m1"}]}
    assert fakes.log == ["b"]
