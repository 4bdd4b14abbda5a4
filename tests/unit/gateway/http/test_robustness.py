"""Whatever arrives, the front door answers a GraphQL-shaped 4xx or 200, never a 5xx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.http.params import Limits
from tests.unit.gateway.http.fake_engine import FakeEngine

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
PARAMETERS = st.fixed_dictionaries(
    {},
    optional={
        "query": st.sampled_from(["{ hello }", "{", "mutation { bump }", "{ nope }"]) | JSON_VALUES,
        "operationName": st.none() | st.text(max_size=5) | JSON_VALUES,
        "variables": st.none() | JSON_VALUES,
        "extensions": st.none() | JSON_VALUES,
    },
)
ACCEPTS = st.sampled_from(
    [None, "*/*", "application/json", "application/graphql-response+json", "text/html", "x"]
)
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
APP = create_app(FakeEngine(), limits=Limits(max_body_bytes=4_000, max_document_bytes=1_000))


def send(method: str, **options: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=APP)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.request(method, "/graphql", **options)

    return asyncio.run(call())


def assert_graphql_shaped(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.headers["content-type"].startswith("text/html"):
        return
    body = orjson.loads(response.content)
    assert "data" in body or body["errors"]
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR"


@SETTINGS
@given(
    body=st.binary(max_size=200) | PARAMETERS.map(lambda p: json.dumps(p).encode()), accept=ACCEPTS
)
def test_any_post_body_gets_a_graphql_shaped_answer(body: bytes, accept: str | None) -> None:
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    assert_graphql_shaped(send("POST", content=body, headers=headers))


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions"]), st.text()
    ),
    accept=ACCEPTS,
)
def test_any_get_query_string_gets_a_graphql_shaped_answer(
    params: dict[str, str], accept: str | None
) -> None:
    headers = {"accept": accept} if accept is not None else {}
    assert_graphql_shaped(send("GET", params=params, headers=headers))
