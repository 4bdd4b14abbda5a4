"""The engine with the real planner over a media supergraph: interfaces across subgraphs,
@requires, aliases, fragments, @skip/@include, and errors mapped to the client's paths."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.support import supergraph_sdl

SUPERGRAPH = supergraph_sdl(
    ["catalog", "movies", "reviews"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
      @join__type(graph: REVIEWS)
    {
      media: [Media] @join__field(graph: CATALOG)
      latest: Review! @join__field(graph: REVIEWS)
    }

    interface Media
      @join__type(graph: CATALOG)
      @join__type(graph: MOVIES)
      @join__type(graph: REVIEWS)
    {
      id: ID!
      title: String @join__field(graph: CATALOG) @join__field(graph: MOVIES)
    }

    type Book implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__implements(graph: REVIEWS, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id")
    {
      id: ID!
      title: String @join__field(graph: CATALOG)
      pages: Int @join__field(graph: CATALOG)
      reviews: [Review] @join__field(graph: REVIEWS)
    }

    type Movie implements Media
      @join__implements(graph: CATALOG, interface: "Media")
      @join__implements(graph: MOVIES, interface: "Media")
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: MOVIES, key: "id")
    {
      id: ID!
      title: String @join__field(graph: MOVIES)
      minutes: Int @join__field(graph: MOVIES)
      rating: String! @join__field(graph: MOVIES)
    }

    type Review @join__type(graph: REVIEWS, key: "id") {
      id: ID!
      body: String
      stars: Int!
    }
    """,
)

BOOKS = {"b1": {"title": "Dune", "pages": 412}, "b2": {"title": "Emma", "pages": 320}}
MOVIES = {
    "m1": {"title": "Alien", "minutes": 117, "rating": "R"},
    "m2": {"title": "Heat", "minutes": 170, "rating": None},
}
REVIEWS = {"b1": [{"id": "r1", "body": "epic", "stars": 5}], "b2": []}


def subgraphs(reviews_fail_for: str | None = None) -> FakeSubgraphs:
    catalog = FakeSubgraph(
        """
        interface Media { id: ID! }
        type Book implements Media { id: ID! title: String pages: Int }
        type Movie implements Media { id: ID! }
        type Query { media: [Media] }
        """,
        {
            "media": [
                {"__typename": "Book", "id": "b1", **BOOKS["b1"]},
                {"__typename": "Movie", "id": "m1"},
                None,
                {"__typename": "Book", "id": "b2", **BOOKS["b2"]},
                {"__typename": "Movie", "id": "m2"},
            ]
        },
        lambda rep: {"__typename": rep["__typename"], "id": rep["id"], **BOOKS[rep["id"]]},
        ("Book", "Movie"),
    )
    movies = FakeSubgraph(
        """
        interface Media { id: ID! title: String }
        type Movie implements Media { id: ID! title: String minutes: Int rating: String! }
        type Query { _unused: Int }
        """,
        {},
        lambda rep: {"__typename": "Movie", "id": rep["id"], **MOVIES[rep["id"]]},
        ("Movie",),
    )

    def book_reviews(rep: dict[str, Any]) -> dict[str, Any]:
        if rep["id"] == reviews_fail_for:
            return {"__typename": "Book", "reviews": ValueError(f"reviews of {rep['id']} are down")}
        return {"__typename": "Book", "reviews": REVIEWS[rep["id"]]}

    reviews = FakeSubgraph(
        """
        type Review { id: ID! body: String stars: Int! }
        type Book { id: ID! reviews: [Review] }
        type Query { latest: Review! }
        """,
        {"latest": {"id": "r9", "body": None, "stars": None}},
        book_reviews,
        ("Book", "Review"),
    )
    return FakeSubgraphs(catalog=catalog, movies=movies, reviews=reviews)


async def run(query: str, fakes: FakeSubgraphs, variables: dict[str, Any] | None = None) -> Any:
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    result = await engine.execute(engine.prepare(query, None), variables, {})
    return result


async def test_interface_fields_come_from_the_subgraph_of_each_implementation() -> None:
    fakes = subgraphs()

    result = await run(
        """
        {
          media {
            __typename
            id
            title
            ... on Book { pages reviews { body } }
            ... on Movie { length: minutes }
          }
        }
        """,
        fakes,
    )

    assert result.errors == []
    assert result.to_dict()["data"] == {
        "media": [
            {
                "__typename": "Book",
                "id": "b1",
                "title": "Dune",
                "pages": 412,
                "reviews": [{"body": "epic"}],
            },
            {"__typename": "Movie", "id": "m1", "title": "Alien", "length": 117},
            None,
            {"__typename": "Book", "id": "b2", "title": "Emma", "pages": 320, "reviews": []},
            {"__typename": "Movie", "id": "m2", "title": "Heat", "length": 170},
        ]
    }
    assert fakes.log.count("movies") == 1
    assert fakes.log.count("reviews") == 1


async def test_a_null_in_a_non_null_field_of_an_entity_nulls_that_entity_only() -> None:
    result = await run("{ media { id ... on Movie { rating } } }", subgraphs())

    assert result.data == {
        "media": [{"id": "b1"}, {"id": "m1", "rating": "R"}, None, {"id": "b2"}, None]
    }
    assert [e.path for e in result.errors] == [("media", 4, "rating")]


async def test_entity_errors_point_at_the_clients_path() -> None:
    result = await run("{ media { id ... on Book { reviews { body } } } }", subgraphs("b2"))

    assert result.data["media"][3] == {"id": "b2", "reviews": None}
    assert [(e.message, e.path, e.extensions["serviceName"]) for e in result.errors] == [
        ("reviews of b2 are down", ("media", 3, "reviews"), "reviews")
    ]


async def test_a_non_null_root_field_that_is_null_nulls_the_data() -> None:
    result = await run("{ latest { id stars } media { id } }", subgraphs())

    assert result.data is None
    assert [e.path for e in result.errors] == [("latest", "stars")]


@pytest.mark.parametrize(
    ("with_pages", "expected_keys"), [(True, ["id", "pages"]), (False, ["id"])]
)
async def test_include_follows_the_variable(with_pages: bool, expected_keys: list[str]) -> None:
    result = await run(
        "query ($p: Boolean!) { media { ... on Book { id pages @include(if: $p) } } }",
        subgraphs(),
        {"p": with_pages},
    )

    assert list(result.data["media"][0]) == expected_keys
    assert result.data["media"][1] == {}


async def test_an_object_whose_fields_literal_conditions_all_leave_out_is_empty() -> None:
    result = await run(
        "{ hidden: latest { id @include(if: false) body @skip(if: true) } shown: latest { id } }",
        subgraphs(),
    )

    assert result.errors == []
    assert result.data == {"hidden": {}, "shown": {"id": "r9"}}


@pytest.mark.parametrize(("books", "title"), [(True, {"title": "Dune"}), (False, {})])
async def test_one_condition_on_nested_fragments_is_sent_once(
    books: bool, title: dict[str, str]
) -> None:
    result = await run(
        """
        query ($b: Boolean!) {
          media { ... on Book @include(if: $b) { ... @include(if: $b) { title } } }
          latest { ... @include(if: true) { ... @include(if: true) { id } } }
        }
        """,
        subgraphs(),
        {"b": books},
    )

    assert result.errors == []
    assert result.data["media"][0] == title
    assert result.data["latest"] == {"id": "r9"}


@pytest.mark.parametrize(("a", "b", "pages"), [(True, True, True), (True, False, False)])
async def test_two_conditions_of_one_kind_on_nested_fragments_both_hold(
    a: bool, b: bool, pages: bool
) -> None:
    result = await run(
        """
        query ($a: Boolean!, $b: Boolean!) {
          media { ... on Book @include(if: $a) { id ... @include(if: $b) { pages } } }
        }
        """,
        subgraphs(),
        {"a": a, "b": b},
    )

    assert result.errors == []
    assert result.data["media"][0] == ({"id": "b1", "pages": 412} if pages else {"id": "b1"})


async def test_the_same_entities_under_two_aliases_are_fetched_in_one_request() -> None:
    fakes = subgraphs()

    result = await run(
        "{ first: media { ... on Movie { title } } again: media { ... on Movie { title } } }",
        fakes,
    )

    assert result.errors == []
    titles = [{}, {"title": "Alien"}, None, {}, {"title": "Heat"}]
    assert result.data == {"first": titles, "again": titles}
    movies = fakes.subgraphs["movies"].requests
    assert len(movies) == 1
    assert [r["id"] for r in movies[0]["variables"]["representations"]] == ["m1", "m2"]


async def test_an_entity_error_in_a_shared_fetch_points_at_every_alias() -> None:
    result = await run(
        "{ one: media { ... on Book { reviews { body } } } "
        "two: media { ... on Book { reviews { body } } } }",
        subgraphs("b2"),
    )

    assert result.data["one"][3] == {"reviews": None}
    assert result.data["two"][3] == {"reviews": None}
    assert [(e.path, e.extensions["serviceName"]) for e in result.errors] == [
        (("one", 3, "reviews"), "reviews"),
        (("two", 3, "reviews"), "reviews"),
    ]


class _Slowed:
    """The fakes, answering only after every request of a burst has started."""

    def __init__(self, fakes: FakeSubgraphs) -> None:
        self.fakes = fakes

    async def fetch(
        self, service: str, body: bytes, headers: Any, *, mutation: bool = False
    ) -> Any:
        await asyncio.sleep(0.05)
        return await self.fakes.fetch(service, body, headers, mutation=mutation)


@pytest.mark.parametrize(("deduplicate", "catalog_requests"), [(True, 1), (False, 3)])
async def test_identical_client_requests_at_once_share_their_subgraph_requests(
    deduplicate: bool, catalog_requests: int
) -> None:
    fakes = subgraphs()
    engine = FederatedEngine(SUPERGRAPH, fetcher=_Slowed(fakes), deduplicate=deduplicate)
    query = "{ media { id ... on Movie { title } } }"

    results = await asyncio.gather(
        *(engine.execute(engine.prepare(query, None), None, {}) for _ in range(3))
    )

    assert [r.data for r in results] == [results[0].data] * 3
    assert results[0].data["media"][1] == {"id": "m1", "title": "Alien"}
    assert len(fakes.subgraphs["catalog"].requests) == catalog_requests
    assert len(fakes.subgraphs["movies"].requests) == catalog_requests
