"""FederatedEngine's contract: request errors, partial data, timeouts, introspection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bench.subgraphs.app import create_app
from gateway.engine import RequestError
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from tests.integration.gateway.test_bench_workload import BENCH_DATA, SUBGRAPHS

pytestmark = pytest.mark.skipif(
    not BENCH_DATA.is_dir(), reason="the benchmark data is not next to the repository"
)

PRODUCTS_WITH_STOCK = "{ topProducts(first: 2) { upc name inStock } }"


async def broken(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 502, "headers": []})
    await send({"type": "http.response.body", "body": b"bad gateway"})


async def slow(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(5)


def make_engine(**overrides: SubgraphOptions) -> FederatedEngine:
    app = create_app()
    options = {name: SubgraphOptions(app=app, url=f"http://bench/{name}") for name in SUBGRAPHS}
    options.update(overrides)
    return FederatedEngine((BENCH_DATA / "supergraph.graphql").read_text(), subgraphs=options)


@pytest.fixture
async def engine() -> AsyncIterator[FederatedEngine]:
    engine = make_engine()
    yield engine
    await engine.aclose()


@pytest.mark.parametrize(
    ("document", "operation_name", "code"),
    [
        ("{ topProducts { upc ", None, "GRAPHQL_PARSE_FAILED"),
        # The grammar asks for at least one selection: SelectionSet : { Selection+ }.
        ("{ topProducts {} }", None, "GRAPHQL_PARSE_FAILED"),
        ("{ topProducts { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query A { me { id } }", "B", "OPERATION_RESOLUTION_FAILURE"),
        ("query A { me { id } } query B { me { id } }", None, "OPERATION_RESOLUTION_FAILURE"),
    ],
)
def test_prepare_rejects_documents_it_cannot_run(
    engine: FederatedEngine, document: str, operation_name: str | None, code: str
) -> None:
    with pytest.raises(RequestError) as raised:
        engine.prepare(document, operation_name)

    assert raised.value.status == 400
    assert raised.value.errors[0].code == code


def test_prepare_returns_the_same_prepared_operation_for_the_same_document(
    engine: FederatedEngine,
) -> None:
    first = engine.prepare(PRODUCTS_WITH_STOCK, None)

    assert engine.prepare(PRODUCTS_WITH_STOCK, None) is first
    assert first.operation_type == "query"
    assert engine.ready


async def test_the_prepared_operations_kept_hold_at_most_their_characters_of_documents() -> None:
    documents = [f"{{ topProducts(first: {n}) {{ upc name }} }}" for n in (1, 2, 3)]
    engine = FederatedEngine(
        (BENCH_DATA / "supergraph.graphql").read_text(),
        cache_characters=sum(len(document) for document in documents[:2]),
    )
    first, second = (engine.prepare(document, None) for document in documents[:2])

    engine.prepare(documents[2], None)  # the least recently used, the first, makes room

    assert engine.prepare(documents[1], None) is second
    assert engine.prepare(documents[0], None) is not first
    await engine.aclose()


async def test_a_document_longer_than_the_cache_is_prepared_each_time_it_comes() -> None:
    engine = FederatedEngine(
        (BENCH_DATA / "supergraph.graphql").read_text(),
        cache_characters=len(PRODUCTS_WITH_STOCK) - 1,
    )
    first = engine.prepare(PRODUCTS_WITH_STOCK, None)

    again = engine.prepare(PRODUCTS_WITH_STOCK, None)

    assert again is not first
    assert again.operation_type == first.operation_type == "query"
    await engine.aclose()


async def test_bad_variables_are_a_request_error(engine: FederatedEngine) -> None:
    prepared = engine.prepare("query ($id: ID!) { user(id: $id) { name } }", None)

    with pytest.raises(RequestError) as raised:
        await engine.execute(prepared, {"id": {"not": "an id"}}, {})

    assert raised.value.errors[0].code == "BAD_USER_INPUT"


async def test_a_failing_subgraph_gives_partial_data_and_a_coded_error() -> None:
    engine = make_engine(inventory=SubgraphOptions(app=broken))
    prepared = engine.prepare(PRODUCTS_WITH_STOCK, None)

    result = await engine.execute(prepared, None, {})
    await engine.aclose()

    assert result.data == {
        "topProducts": [
            {"upc": "1", "name": "Table", "inStock": None},
            {"upc": "2", "name": "Couch", "inStock": None},
        ]
    }
    assert [(e.code, e.extensions["serviceName"]) for e in result.errors] == [
        ("SUBREQUEST_HTTP_ERROR", "inventory")
    ]


async def test_a_slow_subgraph_times_out_into_partial_data() -> None:
    engine = make_engine(inventory=SubgraphOptions(app=slow, timeout=0.05))
    prepared = engine.prepare(PRODUCTS_WITH_STOCK, None)

    result = await engine.execute(prepared, None, {})
    await engine.aclose()

    assert result.data is not None
    assert [p["name"] for p in result.data["topProducts"]] == ["Table", "Couch"]
    assert [e.code for e in result.errors] == ["SUBREQUEST_TIMEOUT"]


async def test_introspection_is_answered_by_the_gateway(engine: FederatedEngine) -> None:
    prepared = engine.prepare('{ __typename __type(name: "Product") { fields { name } } }', None)

    result = await engine.execute(prepared, None, {})

    assert result.data is not None
    assert result.data["__typename"] == "Query"
    names = {f["name"] for f in result.data["__type"]["fields"]}
    assert {"upc", "name", "shippingEstimate", "reviews"} <= names
    assert not any(n.startswith("_") for n in names)


async def test_subscribe_to_a_query_gives_its_one_result(engine: FederatedEngine) -> None:
    results = engine.subscribe(engine.prepare("{ me { id } }", None), None, {})

    assert [result.data async for result in results] == [{"me": {"id": "1"}}]


def test_subscribe_with_bad_variables_is_a_request_error_at_once(
    engine: FederatedEngine,
) -> None:
    prepared = engine.prepare("query ($id: ID!) { user(id: $id) { name } }", None)

    with pytest.raises(RequestError) as raised:
        engine.subscribe(prepared, {"id": {"not": "an id"}}, {})

    assert raised.value.errors[0].code == "BAD_USER_INPUT"


async def test_introspection_and_subgraph_fields_mix_in_one_operation(
    engine: FederatedEngine,
) -> None:
    prepared = engine.prepare(
        "{ ...Meta topProducts(first: 1) { upc } } "
        "fragment Meta on Query { __schema { queryType { name } } }",
        None,
    )

    result = await engine.execute(prepared, None, {})

    assert result.errors == []
    assert result.data == {
        "__schema": {"queryType": {"name": "Query"}},
        "topProducts": [{"upc": "1"}],
    }


def test_a_bad_document_is_rejected_the_same_way_every_time(engine: FederatedEngine) -> None:
    raised = []
    for _ in range(2):
        with pytest.raises(RequestError) as error:
            engine.prepare("{ nope }", None)
        raised.append(error.value)

    assert raised[0] is not raised[1]
    assert raised[0].errors == raised[1].errors


def test_a_planner_defect_is_a_server_error_response_not_a_crash(
    engine: FederatedEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_planner(*args: Any, **options: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("gateway.federated.build_plan", broken_planner)

    with pytest.raises(RequestError) as raised:
        engine.prepare("{ me { id } }", None)

    assert raised.value.status == 500
    assert raised.value.errors[0].code == "QUERY_PLANNING_FAILED"
    assert "RecursionError" in caplog.text
