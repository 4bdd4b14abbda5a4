"""An object whose runtime type is @inaccessible never reaches a client: where it would
stand, the client reads null, as Apollo Router and Hive Gateway answer; in a non-null
position the null propagates with the usual non-null error."""

from __future__ import annotations

from typing import Any

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.support import supergraph_sdl

SUPERGRAPH = supergraph_sdl(
    ["catalog"],
    """
    type Query @join__type(graph: CATALOG) {
      media: [Media] @join__field(graph: CATALOG)
      pinned: Media! @join__field(graph: CATALOG)
      shelf: Shelf @join__field(graph: CATALOG)
    }

    type Shelf @join__type(graph: CATALOG) {
      name: String
      top: Media! @join__field(graph: CATALOG)
    }

    interface Media @join__type(graph: CATALOG) {
      id: ID!
      title: String
    }

    type Book implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG)
    {
      id: ID!
      title: String
    }

    type Draft implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__type(graph: CATALOG)
      @inaccessible
    {
      id: ID!
      title: String
    }
    """,
)
BOOK = {"__typename": "Book", "id": "b1", "title": "Dune"}
DRAFT = {"__typename": "Draft", "id": "d1", "title": "Untitled secret"}


def catalog(pinned: dict[str, str]) -> FakeSubgraphs:
    return FakeSubgraphs(
        catalog=FakeSubgraph(
            """
            interface Media { id: ID! title: String }
            type Book implements Media { id: ID! title: String }
            type Draft implements Media { id: ID! title: String }
            type Shelf { name: String top: Media! }
            type Query { media: [Media] pinned: Media! shelf: Shelf }
            """,
            {"media": [BOOK, DRAFT], "pinned": pinned, "shelf": {"name": "new", "top": pinned}},
        )
    )


async def run(query: str, fakes: FakeSubgraphs) -> Any:
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    return await engine.execute(engine.prepare(query, None), None, {})


async def test_an_object_of_an_inaccessible_type_in_a_list_is_null_without_an_error() -> None:
    result = await run("{ media { __typename id title } }", catalog(BOOK))

    assert result.errors == []
    assert result.data == {"media": [{"__typename": "Book", "id": "b1", "title": "Dune"}, None]}


async def test_an_inaccessible_object_in_a_non_null_position_nulls_its_parent() -> None:
    result = await run("{ shelf { name top { id title } } media { id } }", catalog(DRAFT))

    assert result.data == {"shelf": None, "media": [{"id": "b1"}, None]}
    assert [(e.path, e.code) for e in result.errors] == [
        (("shelf", "top"), "NULL_IN_NON_NULL_FIELD")
    ]
    assert "Untitled secret" not in str(result.errors)


async def test_an_inaccessible_object_at_a_non_null_root_field_nulls_the_data() -> None:
    result = await run("{ pinned { id } }", catalog(DRAFT))

    assert result.data is None
    assert [e.path for e in result.errors] == [("pinned",)]
