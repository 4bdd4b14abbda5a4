"""The differential test's mock subgraphs: stateless, the same answer for the same entity
from every subgraph that resolves a field, and only their own fields."""

from __future__ import annotations

from typing import Any

from bench.differential.mock_server import MockSubgraph, mock_app
from bench.differential.supergraphs import build


def _mocks(name: str) -> dict[str, MockSubgraph]:
    return mock_app(build(name, "http://127.0.0.1:9").subgraphs, [])[1]


def _entities(mock: MockSubgraph, selection: str, *representations: dict[str, Any]) -> Any:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { " + selection + " } }"
    return mock.answer({"query": query, "variables": {"r": list(representations)}})


def test_a_root_field_answers_the_same_on_every_call() -> None:
    products = _mocks("catalog")["products"]
    query = {"query": "{ products(first: 3) { id sku name variant { code } brand { id } } }"}
    assert products.answer(query) == products.answer(query)
    assert products.answer(query)["data"]["products"]


def test_a_shareable_field_is_the_same_from_each_subgraph_that_resolves_it() -> None:
    mocks = _mocks("catalog")
    product = {"__typename": "Product", "id": "id-12"}
    from_products = _entities(mocks["products"], "... on Product { name }", product)
    from_reviews = _entities(mocks["reviews"], "... on Product { name }", product)
    assert from_products == from_reviews


def test_an_entity_is_found_again_by_its_other_key() -> None:
    mocks = _mocks("catalog")
    by_id = _entities(
        mocks["products"],
        "... on Product { sku variant { code } }",
        {"__typename": "Product", "id": "id-5"},
    )["data"]["_entities"][0]
    by_compound_key = _entities(
        mocks["products"], "... on Product { id }", {"__typename": "Product", **by_id}
    )
    assert by_compound_key["data"]["_entities"][0] == {"id": "id-5"}


def test_a_requires_field_depends_on_the_values_it_was_sent() -> None:
    inventory = _mocks("catalog")["inventory"]
    selection = "... on Product { delivery { estimatedDays } }"

    def delivery(weight: float) -> list[Any]:
        products = [{"__typename": "Product", "id": f"id-{n}", "weight": weight} for n in range(8)]
        return list(_entities(inventory, selection, *products)["data"]["_entities"])

    assert delivery(1.5) == delivery(1.5)
    assert delivery(1.5) != delivery(80.0)


def test_an_external_field_not_provided_is_refused() -> None:
    reviews = _mocks("catalog")["reviews"]
    answer = _entities(reviews, "... on User { name }", {"__typename": "User", "id": "id-3"})
    assert answer["errors"][0]["message"].startswith("reviews does not resolve external")


def test_an_interface_object_entity_is_one_concrete_type_in_the_subgraph_that_knows_them() -> None:
    library = _mocks("media")["library"]
    answer = _entities(
        library, "__typename ... on Media { id }", {"__typename": "Media", "id": "id-6"}
    )
    concrete = answer["data"]["_entities"][0]
    assert concrete["__typename"] in {"Book", "Movie"}
    again = library.answer({"query": '{ media(id: "id-6") { __typename id } }'})
    assert again == library.answer({"query": '{ media(id: "id-6") { __typename id } }'})
