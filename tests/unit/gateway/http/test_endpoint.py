"""The GraphQL endpoint follows the GraphQL-over-HTTP spec's methods, media types, statuses."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import httpx
import orjson
import pytest

from gateway.app import create_app
from gateway.security.persisted import PersistedDocuments
from tests.unit.gateway.http.fake_engine import FakeEngine

GRJ = "application/graphql-response+json"
JSON = "application/json"


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def post(
    client: httpx.AsyncClient, body: Any, accept: str | None = None, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


async def test_post_query_answers_data_as_legacy_json_without_accept(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, {"query": "{ hello }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"data": {"hello": "Hello, world!"}}


async def test_post_answers_graphql_response_json_when_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, {"query": "{ hello }"}, accept=f"{GRJ}, {JSON};q=0.9")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRJ)


async def test_variables_operation_name_and_extensions_are_honoured(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "query": "query A { hello } query B($n: String) { hello(name: $n) }",
        "operationName": "B",
        "variables": {"n": "Ada"},
        "extensions": {"anything": True},
    }
    response = await post(client, body, accept=GRJ)
    assert response.json() == {"data": {"hello": "Hello, Ada!"}}


async def test_utf8_documents_and_values_round_trip(client: httpx.AsyncClient) -> None:
    body = {"query": 'query { hello(name: "Run🏃Swim🏊") }'}
    response = await post(client, body, **{"content-type": "application/json; charset=utf-8"})
    assert response.json() == {"data": {"hello": "Hello, Run🏃Swim🏊!"}}


@pytest.mark.parametrize(
    ("query", "code"),
    [("{", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_document_errors_are_400_without_data_over_graphql_response_json(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await post(client, {"query": query}, accept=GRJ)
    assert response.status_code == 400
    assert "data" not in response.json()
    assert code_of(response) == code
    assert response.json()["errors"][0]["locations"]


@pytest.mark.parametrize("query", ["{", "{ nope }"])
async def test_document_errors_are_200_over_legacy_json(
    client: httpx.AsyncClient, query: str
) -> None:
    response = await post(client, {"query": query}, accept=JSON)
    assert response.status_code == 200
    assert response.json()["errors"]


async def test_variables_of_the_wrong_type_are_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    body = {"query": "query ($id: ID!) { product(id: $id) { id } }", "variables": {"id": []}}
    strict = await post(client, body, accept=GRJ)
    legacy = await post(client, body, accept=JSON)
    assert (strict.status_code, code_of(strict)) == (400, "BAD_USER_INPUT")
    assert (legacy.status_code, code_of(legacy)) == (200, "BAD_USER_INPUT")


async def test_unknown_operation_name_is_a_request_error(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "query A { hello }", "operationName": "Z"}, GRJ)
    assert response.status_code == 400
    assert code_of(response) == "OPERATION_RESOLUTION_FAILURE"


@pytest.mark.parametrize(
    "body",
    [
        {"notquery": "{ hello }"},
        {"query": {"obj": "ect"}},
        {"query": 0},
        {"query": ["array"]},
        {"query": "{ hello }", "operationName": 7},
        {"query": "{ hello }", "variables": "string"},
        {"query": "{ hello }", "variables": ["array"]},
        {"query": "{ hello }", "extensions": False},
        "just a string",
    ],
)
@pytest.mark.parametrize("accept", [GRJ, JSON, None])
async def test_malformed_parameters_are_400_whatever_the_media_type(
    client: httpx.AsyncClient, body: Any, accept: str | None
) -> None:
    response = await post(client, body, accept=accept)
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "data" not in response.json()


async def test_malformed_json_is_400_with_a_clear_message(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b'{ "not a JSON', headers={"content-type": JSON}
    )
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
    assert "not valid JSON" in response.json()["errors"][0]["message"]


async def test_empty_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"", headers={"content-type": JSON})
    assert response.status_code == 400


async def test_batched_requests_are_rejected_cleanly(client: httpx.AsyncClient) -> None:
    response = await post(client, [{"query": "{ hello }"}, {"query": "{ hello }"}])
    assert response.status_code == 400
    assert code_of(response) == "BATCHING_NOT_ENABLED"


def persisted(query: str) -> dict[str, Any]:
    sha256 = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


async def test_automatic_persisted_queries_register_a_document_once_then_run_it_by_hash(
    client: httpx.AsyncClient,
) -> None:
    query = "query Greeting { hello }"
    by_hash = {"extensions": persisted(query)}

    unknown = await post(client, by_hash, accept=GRJ)
    assert (unknown.status_code, code_of(unknown)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert "no-cache" in unknown.headers["cache-control"]

    registered = await post(client, {"query": query, **by_hash}, accept=GRJ)
    assert registered.json() == {"data": {"hello": "Hello, world!"}}

    again = await client.get(
        "/graphql", params={"extensions": orjson.dumps(persisted(query)).decode()}
    )
    assert again.json() == {"data": {"hello": "Hello, world!"}}


async def test_a_persisted_query_whose_hash_is_not_its_body_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = {"query": "{ hello }", "extensions": persisted("{ goodbye }")}
    response = await post(client, body, accept=GRJ)
    assert (response.status_code, code_of(response)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    malformed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}
    assert code_of(await post(client, malformed)) == "BAD_REQUEST"


async def test_a_gateway_without_an_apq_store_says_persisted_queries_are_not_supported() -> None:
    app = create_app(FakeEngine(), documents=PersistedDocuments({}, apq_store=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://g") as c:
        response = await post(c, {"extensions": persisted("{ hello }")})
    assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"


async def test_a_document_id_outside_any_manifest_is_not_in_the_list(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, {"documentId": "sha256:" + "0" * 64}, accept=GRJ)
    assert (response.status_code, code_of(response)) == (404, "PERSISTED_QUERY_NOT_IN_LIST")
    both = await post(client, {"documentId": "x", "query": "{ hello }"}, accept=GRJ)
    assert (both.status_code, code_of(both)) == (400, "CANNOT_SEND_PQ_ID_AND_BODY")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json; charset=latin-1"])
async def test_post_without_json_content_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=b'{"query":"{ hello }"}', headers=headers)
    assert response.status_code == 415
    assert code_of(response) == "UNSUPPORTED_MEDIA_TYPE"


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello }"}, accept="text/plain")
    assert response.status_code == 406
    assert code_of(response) == "NOT_ACCEPTABLE"


async def test_oversized_document_is_413_with_the_limit_named(
    client: httpx.AsyncClient,
) -> None:
    query = "{ hello " + " " * 6_000 + "}"
    response = await post(client, {"query": query})
    assert response.status_code == 413
    assert code_of(response) == "DOCUMENT_TOO_LARGE"
    assert "5000 bytes" in response.json()["errors"][0]["message"]


async def test_oversized_body_is_413_before_parsing(client: httpx.AsyncClient) -> None:
    body = orjson.dumps({"query": "{ hello }", "variables": {"x": "y" * 30_000}})
    response = await client.post("/graphql", content=body, headers={"content-type": JSON})
    assert response.status_code == 413
    assert code_of(response) == "PAYLOAD_TOO_LARGE"


async def test_get_runs_queries_with_json_encoded_variables(client: httpx.AsyncClient) -> None:
    params = {"query": "query ($n: String) { hello(name: $n) }", "variables": '{"n": "Bo"}'}
    response = await client.get("/graphql", params=params, headers={"accept": GRJ})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "Hello, Bo!"}}
    assert response.headers["vary"] == "Accept"


async def test_get_with_unparsable_variables_is_400(client: httpx.AsyncClient) -> None:
    params = {"query": "{ hello }", "variables": "{nope"}
    response = await client.get("/graphql", params=params)
    assert response.status_code == 400


async def test_mutation_over_get_is_405_allowing_post(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { bump }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert code_of(response) == "METHOD_NOT_ALLOWED"


async def test_mutation_over_post_runs(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "mutation { bump }"})
    assert response.json() == {"data": {"bump": 1}}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_are_405_allowing_get_and_post(
    client: httpx.AsyncClient, method: str
) -> None:
    response = await client.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_subscription_over_plain_http_is_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "subscription { ticks }"}, accept=GRJ)
    assert response.status_code == 400
    assert code_of(response) == "SUBSCRIPTION_NOT_SUPPORTED"


@pytest.mark.parametrize("accept", [GRJ, JSON])
async def test_engine_crash_is_a_graphql_error_not_a_500(
    client: httpx.AsyncClient,
    fake_engine: FakeEngine,
    accept: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_engine.fail_with = RuntimeError("secret internals")
    with caplog.at_level(logging.ERROR, logger="gateway.http"):
        response = await post(client, {"query": "{ hello }"}, accept=accept)
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
        "data": None,
    }
    assert "secret internals" not in response.text
    assert any(record.exc_info for record in caplog.records)


async def test_not_ready_engine_answers_503(
    fake_engine: FakeEngine, client: httpx.AsyncClient
) -> None:
    fake_engine._ready = False
    response = await post(client, {"query": "{ hello }"})
    assert response.status_code == 503
    assert code_of(response) == "NOT_READY"


async def test_engine_side_request_errors_are_never_5xx(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    from gateway.engine import GraphQLError, RequestError

    fake_engine.fail_with = RequestError(
        [GraphQLError("cannot plan", "QUERY_PLANNING_FAILED")], status=500
    )
    response = await post(client, {"query": "{ hello }"}, accept=GRJ)
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert code_of(response) == "QUERY_PLANNING_FAILED"


async def test_integers_beyond_64_bits_are_valid_json_but_bad_variables(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"query": "query ($n: String) { hello(name: $n) }", "variables": {"n": 1' + (
        b"0" * 30 + b"}}"
    )
    response = await client.post(
        "/graphql", content=body, headers={"content-type": JSON, "accept": GRJ}
    )
    assert response.status_code == 400
    assert code_of(response) == "BAD_USER_INPUT"
