"""@defer through the gateway: the initial result comes without the deferred fields and
before a slow subgraph answers; each deferred block follows as incremental entries at the
paths of its objects, with its label and its errors; ``execute`` answers in one piece."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from gateway.engine import ExecutionResult, RequestError
from gateway.executor import CompiledOperation, FetchFailed
from gateway.federated import FederatedEngine
from tests.integration.gateway.fake_subgraphs import FakeSubgraph, FakeSubgraphs
from tests.unit.gateway.planner.support import supergraph_sdl

SUPERGRAPH = supergraph_sdl(
    ["catalog", "reviews", "stock"],
    """
    type Query
      @join__type(graph: CATALOG)
      @join__type(graph: REVIEWS)
      @join__type(graph: STOCK)
    {
      products: [Product] @join__field(graph: CATALOG)
      topReview: Review @join__field(graph: REVIEWS)
    }

    type Subscription @join__type(graph: CATALOG) {
      productAdded: Product @join__field(graph: CATALOG)
    }

    type Product
      @join__type(graph: CATALOG, key: "id")
      @join__type(graph: REVIEWS, key: "id")
      @join__type(graph: STOCK, key: "id")
    {
      id: ID!
      name: String @join__field(graph: CATALOG)
      description: String @join__field(graph: CATALOG)
      reviews: [Review] @join__field(graph: REVIEWS)
      inStock: Int @join__field(graph: STOCK)
      sku: String! @join__field(graph: STOCK)
    }

    type Review @join__type(graph: REVIEWS, key: "id") {
      id: ID!
      body: String
      author: String
    }
    """,
)

PRODUCTS = {
    "p1": {"id": "p1", "name": "Lamp", "description": "Brass"},
    "p2": {"id": "p2", "name": "Desk", "description": "Oak"},
}
STOCK = {"p1": 4, "p2": 0}
SKUS = {"p1": "LA-1", "p2": None}
REVIEWS = {"r1": {"id": "r1", "body": "Bright", "author": "Ada"}}
REVIEWS_OF = {"p1": ["r1"], "p2": []}


class GatedSubgraphs(FakeSubgraphs):
    """Fake subgraphs where one subgraph answers only once ``gate`` is set."""

    def __init__(self, gated: str, down: str, **subgraphs: FakeSubgraph) -> None:
        super().__init__(**subgraphs)
        self.gated = gated
        self.down = down
        self.gate = asyncio.Event()
        self.answered: list[str] = []
        self.waiting = asyncio.Event()
        """Set once the gated subgraph's fetch waits at the gate."""
        self.gave_up = asyncio.Event()
        """Set when that fetch is cancelled while it waits."""
        self.answers: dict[str, asyncio.Event] = {}
        """Per subgraph, set once it has answered a fetch."""

    def answered_by(self, service: str) -> asyncio.Event:
        return self.answers.setdefault(service, asyncio.Event())

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        if service == self.gated:
            self.waiting.set()
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.gave_up.set()
                raise
        if service == self.down:
            raise FetchFailed("SUBREQUEST_HTTP_ERROR", f"{service} is down")
        answer = await super().fetch(service, body, headers, mutation=mutation)
        self.answered.append(service)
        self.answered_by(service).set()
        return answer


def subgraphs(
    gated: str = "", down: str = "", reviews_fail_for: str | None = None
) -> GatedSubgraphs:
    catalog = FakeSubgraph(
        """
        type Product { id: ID! name: String description: String }
        type Query { products: [Product] productAdded: Product }
        """,
        {"products": [PRODUCTS["p1"], None, PRODUCTS["p2"]]},
        lambda rep: {"__typename": "Product", **PRODUCTS[rep["id"]]},
        ("Product",),
    )
    stock = FakeSubgraph(
        "type Product { id: ID! inStock: Int sku: String }\ntype Query { _unused: Int }",
        {},
        lambda rep: {
            "__typename": "Product",
            "id": rep["id"],
            "inStock": STOCK[rep["id"]],
            "sku": SKUS[rep["id"]],
        },
        ("Product",),
    )

    def reviews_entity(rep: dict[str, Any]) -> dict[str, Any]:
        if rep["__typename"] == "Review":
            return {"__typename": "Review", **REVIEWS[rep["id"]]}
        if rep["id"] == reviews_fail_for:
            return {"__typename": "Product", "reviews": ValueError("reviews are down")}
        return {"__typename": "Product", "reviews": [REVIEWS[r] for r in REVIEWS_OF[rep["id"]]]}

    reviews = FakeSubgraph(
        """
        type Review { id: ID! body: String author: String }
        type Product { id: ID! reviews: [Review] }
        type Query { topReview: Review }
        """,
        {"topReview": REVIEWS["r1"]},
        reviews_entity,
        ("Product", "Review"),
    )
    return GatedSubgraphs(gated, down, catalog=catalog, stock=stock, reviews=reviews)


async def parts_of(
    query: str, fakes: GatedSubgraphs, variables: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    prepared = engine.prepare(query, None)
    return [part.to_dict() async for part in engine.execute_incrementally(prepared, variables, {})]


async def test_the_initial_result_lacks_deferred_fields_and_precedes_a_slow_subgraph() -> None:
    fakes = subgraphs(gated="stock")
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    prepared = engine.prepare('{ products { name ... @defer(label: "stock") { inStock } } }', None)
    parts = engine.execute_incrementally(prepared, None, {})

    initial = await anext(parts)
    assert "stock" not in fakes.answered
    fakes.gate.set()
    rest = [part.to_dict() async for part in parts]

    assert isinstance(prepared.plan, CompiledOperation)
    assert prepared.plan.deferred
    assert initial.to_dict() == {
        "data": {"products": [{"name": "Lamp"}, None, {"name": "Desk"}]},
        "hasNext": True,
    }
    assert rest == [
        {
            "incremental": [
                {"data": {"inStock": 4}, "path": ["products", 0], "label": "stock"},
                {"data": {"inStock": 0}, "path": ["products", 2], "label": "stock"},
            ],
            "hasNext": False,
        }
    ]


async def test_a_deferred_block_starts_once_its_dependencies_are_fetched_not_the_primary() -> None:
    fakes = subgraphs(gated="stock")
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    prepared = engine.prepare("{ products { name inStock ... @defer { reviews { body } } } }", None)
    parts = engine.execute_incrementally(prepared, None, {})
    initial = asyncio.ensure_future(anext(parts))

    await fakes.answered_by("reviews").wait()
    assert not initial.done()
    fakes.gate.set()
    first = await initial
    rest = [part.to_dict() async for part in parts]

    assert fakes.answered.index("reviews") < fakes.answered.index("stock")
    assert first.to_dict()["data"]["products"][0] == {"name": "Lamp", "inStock": 4}
    assert rest[0]["incremental"][0] == {
        "data": {"reviews": [{"body": "Bright"}]},
        "path": ["products", 0],
    }


async def test_execute_answers_with_the_deferred_fields_merged_in() -> None:
    engine = FederatedEngine(SUPERGRAPH, fetcher=subgraphs())
    prepared = engine.prepare("{ products { name ... @defer { inStock reviews { body } } } }", None)

    result = await engine.execute(prepared, None, {})

    assert result.to_dict() == {
        "data": {
            "products": [
                {"name": "Lamp", "inStock": 4, "reviews": [{"body": "Bright"}]},
                None,
                {"name": "Desk", "inStock": 0, "reviews": []},
            ]
        }
    }


async def test_errors_of_a_deferred_fetch_go_in_the_entry_of_their_object() -> None:
    parts = await parts_of(
        "{ products { name ... @defer { reviews { body } } } }",
        subgraphs(reviews_fail_for="p2"),
    )

    assert parts[1]["incremental"] == [
        {"data": {"reviews": [{"body": "Bright"}]}, "path": ["products", 0]},
        {
            "data": {"reviews": None},
            "path": ["products", 2],
            "errors": [
                {
                    "message": "reviews are down",
                    "path": ["products", 2, "reviews"],
                    "extensions": {"serviceName": "reviews", "code": "DOWNSTREAM_SERVICE_ERROR"},
                }
            ],
        },
    ]
    assert [part["hasNext"] for part in parts] == [True, False]
    assert "errors" not in parts[0]


async def test_a_failed_deferred_fetch_is_reported_in_the_first_entry_of_its_block() -> None:
    parts = await parts_of(
        '{ products { name ... @defer(label: "stock") { inStock } } }', subgraphs(down="stock")
    )

    assert parts[1]["incremental"] == [
        {
            "data": {"inStock": None},
            "path": ["products", 0],
            "label": "stock",
            "errors": [
                {
                    "message": "stock is down",
                    "extensions": {"serviceName": "stock", "code": "SUBREQUEST_HTTP_ERROR"},
                }
            ],
        },
        {"data": {"inStock": None}, "path": ["products", 2], "label": "stock"},
    ]


async def test_a_null_in_a_non_null_deferred_field_nulls_that_entry_only() -> None:
    parts = await parts_of("{ products { name ... @defer { sku } } }", subgraphs())

    assert parts[1]["incremental"] == [
        {"data": {"sku": "LA-1"}, "path": ["products", 0]},
        {
            "data": None,
            "path": ["products", 2],
            "errors": [
                {
                    "message": "Cannot return null for non-nullable field Product.sku.",
                    "path": ["products", 2, "sku"],
                    "extensions": {"code": "NULL_IN_NON_NULL_FIELD"},
                }
            ],
        },
    ]


async def test_a_nested_defer_is_delivered_after_its_parent() -> None:
    parts = await parts_of(
        """
        {
          products {
            name
            ... @defer(label: "reviews") {
              reviews { body ... @defer(label: "author") { author } }
            }
          }
        }
        """,
        subgraphs(),
    )

    assert [part.get("incremental") for part in parts[1:]] == [
        [
            {
                "data": {"reviews": [{"body": "Bright"}]},
                "path": ["products", 0],
                "label": "reviews",
            },
            {"data": {"reviews": []}, "path": ["products", 2], "label": "reviews"},
        ],
        [{"data": {"author": "Ada"}, "path": ["products", 0, "reviews", 0], "label": "author"}],
    ]
    assert [part["hasNext"] for part in parts] == [True, True, False]


async def test_deferred_root_fields_arrive_at_the_root_path() -> None:
    parts = await parts_of("{ products { name } ... @defer { topReview { body } } }", subgraphs())

    assert parts == [
        {"data": {"products": [{"name": "Lamp"}, None, {"name": "Desk"}]}, "hasNext": True},
        {
            "incremental": [{"data": {"topReview": {"body": "Bright"}}, "path": []}],
            "hasNext": False,
        },
    ]


@pytest.mark.parametrize("later", [True, False])
async def test_defer_if_a_variable_defers_only_when_it_is_true(later: bool) -> None:
    query = "query ($later: Boolean!) { products { name ... @defer(if: $later) { inStock } } }"

    parts = await parts_of(query, subgraphs(), {"later": later})

    first = parts[0]["data"]["products"][0]
    assert first == ({"name": "Lamp"} if later else {"name": "Lamp", "inStock": 4})
    assert len(parts) == (2 if later else 1)
    assert parts[-1]["hasNext"] is False


@pytest.mark.parametrize("shown", [True, False])
async def test_a_deferred_fragment_left_out_by_include_is_never_delivered(shown: bool) -> None:
    query = (
        "query ($shown: Boolean!) { products { name ... @defer @include(if: $shown) { inStock } } }"
    )

    parts = await parts_of(query, subgraphs(), {"shown": shown})

    delivered = [entry["data"] for part in parts[1:] for entry in part.get("incremental", [])]
    assert delivered == ([{"inStock": 4}, {"inStock": 0}] if shown else [])
    assert parts[-1]["hasNext"] is False


async def test_an_unconditional_defer_in_a_subscription_is_refused() -> None:
    engine = FederatedEngine(SUPERGRAPH, fetcher=subgraphs())

    with pytest.raises(RequestError) as refused:
        engine.prepare("subscription { productAdded { name ... @defer { inStock } } }", None)

    assert [e.code for e in refused.value.errors] == ["DEFER_NOT_SUPPORTED_IN_SUBSCRIPTION"]


def test_a_subsequent_part_has_no_data_key() -> None:
    part = ExecutionResult(None, incremental=[{"data": {}, "path": []}], has_next=False)

    assert part.to_dict() == {"incremental": [{"data": {}, "path": []}], "hasNext": False}


async def test_closing_the_parts_early_cancels_the_deferred_fetches_still_waiting() -> None:
    fakes = subgraphs(gated="stock")
    engine = FederatedEngine(SUPERGRAPH, fetcher=fakes)
    prepared = engine.prepare("{ products { name ... @defer { inStock } } }", None)
    parts = engine.execute_incrementally(prepared, None, {})

    await anext(parts)
    await fakes.waiting.wait()
    await parts.aclose()  # type: ignore[attr-defined]
    await fakes.gave_up.wait()

    assert "stock" not in fakes.answered


async def test_the_cost_report_asked_for_comes_with_the_initial_result() -> None:
    engine = FederatedEngine(SUPERGRAPH, fetcher=subgraphs())
    prepared = engine.prepare("{ products { name ... @defer { inStock } } }", None)

    parts = [
        part.to_dict()
        async for part in engine.execute_incrementally(
            prepared, None, {"retailgraph-expose-cost": "true"}
        )
    ]

    assert parts[0]["extensions"]["cost"]["mode"] == "enforce"
    assert "extensions" not in parts[1]
