"""Whatever bytes arrive, the real gateway answers a 4xx or a coded GraphQL result: never
a 5xx, never an internal error, never a traceback in its logs."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import subgraph_apps

SETTINGS = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

# JSON string bodies that no encoder would write: lone surrogates, NUL, odd escapes.
ODD_ESCAPES = st.sampled_from(
    ["\\ud800", "\\udfff", "\\udc00\\ud800", "\\u0000", "\\uffff", "\\ud83d\\ude00", "\\x41"]
)
ODD_STRINGS = st.lists(ODD_ESCAPES | st.text(max_size=5).map(lambda t: json.dumps(t)[1:-1])).map(
    lambda parts: '"' + "".join(parts) + '"'
)
NESTINGS = st.tuples(st.integers(1, 3000), st.sampled_from(["[", '{"a":'])).map(
    lambda depth_and_open: _nested(*depth_and_open)
)
VALUES = st.one_of(
    ODD_STRINGS,
    NESTINGS,
    st.sampled_from(["1e999", "-0", "123456789012345678901234567890", "true", "null", "{}"]),
)
DOCUMENTS = st.sampled_from(
    [
        '"{ products { sku } }"',
        '"query Q($n: Int) { products(first: $n) { sku name inStock } }"',
        '"{ products { ...F } } fragment F on Product { name ...F }"',
        '"mutation { x }"',
    ]
)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda query, name, variables, extensions: (
            f'{{"query": {query}, "operationName": {name}, "variables": {variables}, '
            f'"extensions": {extensions}}}'
        ).encode(errors="surrogatepass"),
        DOCUMENTS | ODD_STRINGS | VALUES,
        ODD_STRINGS | st.just("null") | st.just('"Q"'),
        VALUES | st.just('{"n": 2}') | st.just('{"n": "\\ud800"}'),
        VALUES | st.just("null"),
    ),
)


def _nested(depth: int, opening: str) -> str:
    closing = "]" if opening == "[" else "}"
    return opening * depth + "1" + closing * depth


@pytest.fixture(scope="module")
def gateway() -> Any:
    apps = subgraph_apps()
    supergraph = asyncio.run(compose_from_apps(apps))
    subgraphs = {name: SubgraphOptions(app=app) for name, app in apps.items()}
    return create_app(FederatedEngine(supergraph, subgraphs=subgraphs))


def post(app: Any, body: bytes, accept: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", "accept": accept},
            )

    return asyncio.run(call())


@SETTINGS
@example(body=b'{"query": "{ products { sku } }\\ud800"}', accept="application/json")
@example(body=b'{"query": "{ products { sku } }", "operationName": "\\udfff"}', accept="*/*")
@example(body=b'{"query": "{ products { sku } }", "variables": {"v": "\\ud800"}}', accept="*/*")
@example(
    body=b'{"query": "{ products { sku } }", "variables": ' + _nested(1100, "[").encode() + b"}",
    accept="*/*",
)
@example(body=_nested(3000, '{"a":').encode(), accept="application/json")
@given(
    body=BODIES,
    accept=st.sampled_from(["application/json", "application/graphql-response+json"]),
)
def test_hostile_bodies_get_a_4xx_or_a_coded_result_and_log_no_error(
    gateway: Any, caplog: pytest.LogCaptureFixture, body: bytes, accept: str
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = post(gateway, body, accept)
    assert response.status_code < 500, response.text
    answer = orjson.loads(response.content)
    codes = [error["extensions"]["code"] for error in answer.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes
    assert "data" in answer or codes
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
