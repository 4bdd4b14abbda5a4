"""The gateway on a real socket stays safe to expose: every hostile request is refused
with a 4xx or a coded GraphQL error, quickly, and never holds up anyone else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.http.read_timeout import ReadTimeoutHttpProtocol
from gateway.limits import OperationLimits
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.e2e.gateway.subscriptions.served import served

GUARD = 10.0
"""A bound on waiting for an answer that should come at once (a guard, not a figure)."""


class QuickReadTimeout(ReadTimeoutHttpProtocol):
    request_timeout = 0.5


@pytest.fixture
async def address() -> AsyncIterator[str]:
    apps = subgraph_apps()
    supergraph = await compose_from_apps(apps)
    engine = FederatedEngine(
        supergraph,
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        limits=OperationLimits(),
    )
    async with served(create_app(engine), http=QuickReadTimeout) as address:
        yield address


@pytest.fixture
async def client(address: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=GUARD) as http:
        yield http


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next twice: 2^levels fields once expanded, ~1.3 KB."""
    parts = ["query { products { ...F0 } }"]
    parts += [f"fragment F{n} on Product {{ name ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    parts.append(f"fragment F{levels} on Product {{ sku }}")
    return "\n".join(parts)


async def codes(client: httpx.AsyncClient, body: dict[str, Any] | bytes) -> tuple[int, list[str]]:
    if isinstance(body, bytes):
        response = await client.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = await client.post("/graphql", json=body)
    errors = response.json().get("errors", [])
    return response.status_code, [error["extensions"]["code"] for error in errors]


async def test_a_fragment_bomb_is_refused_and_health_keeps_answering(
    client: httpx.AsyncClient,
) -> None:
    bombs = [codes(client, {"query": fragment_bomb(30)}) for _ in range(10)]
    answers = await asyncio.gather(*bombs, client.get("/health"))
    *refusals, health = answers
    assert health.status_code == 200
    assert all(refusal == (200, ["MAX_FIELDS_LIMIT"]) for refusal in refusals), refusals


async def test_a_fragment_bomb_at_the_root_is_refused(client: httpx.AsyncClient) -> None:
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{n} on Query {{ __typename ...F{n + 1} ...F{n + 1} }}" for n in range(30)]
    parts.append("fragment F30 on Query { __typename }")
    assert await codes(client, {"query": "\n".join(parts)}) == (
        200,
        ["MAX_ROOT_FIELDS_LIMIT", "MAX_FIELDS_LIMIT"],
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ products { " + "a { " * 40 + "b" + " }" * 40 + " } }", "MAX_DEPTH_LIMIT"),
        ("{" + "a{" * 400 + "b" + "}" * 401, "MAX_DEPTH_LIMIT"),
        (
            "{ products { " + " ".join(f"n{i}: name" for i in range(31)) + " } }",
            "MAX_ALIASES_LIMIT",
        ),
        ("{ " + " ".join("products { sku }" for _ in range(21)) + " }", "MAX_ROOT_FIELDS_LIMIT"),
        ("{ products { name" + " @include(if: true)" * 11 + " } }", "MAX_DIRECTIVES_LIMIT"),
        (
            " ".join(f"query Q{i} {{ products {{ sku }} }}" for i in range(21)),
            "MAX_OPERATIONS_LIMIT",
        ),
        ("{ products { " + "a " * 16_000 + "} }", "MAX_TOKENS_LIMIT"),
    ],
    ids=["depth", "parser-depth", "aliases", "root-fields", "directives", "operations", "tokens"],
)
async def test_an_operation_past_a_limit_is_refused_with_its_code(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    assert await codes(client, {"query": query, "operationName": None}) == (200, [code])


async def test_an_operation_inside_the_limits_runs(client: httpx.AsyncClient) -> None:
    query = "{ products(first: 3) { ...Card } } fragment Card on Product { sku name inStock }"
    response = await client.post("/graphql", json={"query": query})
    assert response.json()["data"]["products"][2] == {
        "sku": "SKU-2",
        "name": "Product SKU-2",
        "inStock": 20,
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ products { sku } }\\ud800"}',
        b'{"query": "{ products { sku } }", "operationName": "\\udfff"}',
        b'{"query": "{ products { sku } }", "variables": {"v": "\\ud800"}}',
        b'{"query": "{ products { sku } }", "variables": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        b'{"query": "{ products { sku } }", "extensions": ' + b'{"a":' * 1100 + b"1" + b"}" * 1101,
        b'{"query": "\xff\xfe"}',
    ],
    ids=[
        "surrogate-query",
        "surrogate-name",
        "surrogate-variables",
        "deep-list",
        "deep-object",
        "bad-utf8",
    ],
)
async def test_malformed_json_bodies_get_a_400_with_a_code(
    client: httpx.AsyncClient, body: bytes
) -> None:
    assert await codes(client, body) == (400, ["BAD_REQUEST"])


async def test_a_client_that_stops_mid_headers_is_answered_408_and_others_are_served(
    address: str, client: httpx.AsyncClient
) -> None:
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: applic")
    await writer.drain()
    served = await client.post("/graphql", json={"query": "{ products { sku } }"})
    assert served.status_code == 200
    async with asyncio.timeout(GUARD):
        answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"REQUEST_TIMEOUT"' in answer
    writer.close()


async def test_a_client_that_stops_mid_body_is_dropped(address: str) -> None:
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"query": "{ prod'
    )
    await writer.drain()
    async with asyncio.timeout(GUARD):
        answer = await reader.read()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
    writer.close()


async def test_a_connection_that_never_speaks_is_closed(address: str) -> None:
    host, port = address.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    async with asyncio.timeout(GUARD):
        answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 408 ")
    writer.close()
