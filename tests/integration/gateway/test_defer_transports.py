"""@defer over every transport: HTTP answers in multipart/mixed parts (deferSpec=20220824)
to a client that accepts them and in one JSON body to one that does not; WebSocket and
SSE send each part as its own ``next``. The initial part leaves while a slow subgraph
is still working."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from gateway.app import create_app
from gateway.federated import FederatedEngine
from tests.integration.gateway.test_defer_answers import SUPERGRAPH, GatedSubgraphs, subgraphs
from tests.live_subscriptions import FRAME_TIMEOUT, serving_over_tcp, ws_client

QUERY = '{ products { name ... @defer(label: "stock") { inStock } } }'
ACCEPT_PARTS = "multipart/mixed;deferSpec=20220824,application/json"
INITIAL = {"data": {"products": [{"name": "Lamp"}, None, {"name": "Desk"}]}, "hasNext": True}
DEFERRED = {
    "incremental": [
        {"data": {"inStock": 4}, "path": ["products", 0], "label": "stock"},
        {"data": {"inStock": 0}, "path": ["products", 2], "label": "stock"},
    ],
    "hasNext": False,
}
TIMEOUT = aiohttp.ClientTimeout(total=FRAME_TIMEOUT)


def _app(fakes: GatedSubgraphs) -> Any:
    return create_app(FederatedEngine(SUPERGRAPH, fetcher=fakes), graphiql=False)


def _parts(body: bytes, boundary: str) -> list[dict[str, Any]]:
    """The JSON parts of a multipart/mixed body, as a client splits them."""
    assert body.endswith(f"\r\n--{boundary}--\r\n".encode()), body
    parts = []
    for chunk in body.split(f"\r\n--{boundary}".encode())[1:-1]:
        head, _, content = chunk.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower(), head
        parts.append(json.loads(content))
    return parts


async def test_http_sends_the_initial_part_before_the_slow_subgraph_answers() -> None:
    fakes = subgraphs(gated="stock")
    async with (
        serving_over_tcp(_app(fakes)) as base,
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
    ):
        url = base.replace("ws://", "http://") + "/graphql"
        headers = {"Accept": ACCEPT_PARTS}
        async with session.post(url, json={"query": QUERY}, headers=headers) as response:
            content_type = response.headers["Content-Type"]
            received = b""
            while b'"hasNext":true}' not in received:
                received += await response.content.readany()
            assert "stock" not in fakes.answered
            fakes.gate.set()
            received += await response.read()

    assert response.status == 200
    assert content_type == 'multipart/mixed;boundary="graphql";deferSpec=20220824'
    assert _parts(received, "graphql") == [INITIAL, DEFERRED]


async def test_http_answers_in_one_piece_to_a_client_that_takes_no_parts() -> None:
    async with (
        serving_over_tcp(_app(subgraphs())) as base,
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
    ):
        url = base.replace("ws://", "http://") + "/graphql"
        async with session.post(
            url, json={"query": QUERY}, headers={"Accept": "application/json"}
        ) as response:
            body = await response.json()

    assert body == {
        "data": {"products": [{"name": "Lamp", "inStock": 4}, None, {"name": "Desk", "inStock": 0}]}
    }


async def test_a_client_that_names_only_the_multipart_type_gets_parts_or_one_json_body() -> None:
    only_parts = {"Accept": "multipart/mixed;deferSpec=20220824"}
    async with (
        serving_over_tcp(_app(subgraphs())) as base,
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
    ):
        url = base.replace("ws://", "http://") + "/graphql"
        async with session.post(url, json={"query": QUERY}, headers=only_parts) as deferred:
            parts = _parts(await deferred.read(), "graphql")
        plain = "{ products { name } }"
        async with session.post(url, json={"query": plain}, headers=only_parts) as whole:
            body = await whole.json()

    assert (deferred.status, parts) == (200, [INITIAL, DEFERRED])
    assert (whole.status, whole.content_type) == (200, "application/json")
    assert body == {"data": {"products": [{"name": "Lamp"}, None, {"name": "Desk"}]}}


async def test_a_refused_deferred_request_is_an_ordinary_json_error() -> None:
    async with (
        serving_over_tcp(_app(subgraphs())) as base,
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
    ):
        url = base.replace("ws://", "http://") + "/graphql"
        query = "query ($b: Boolean!) { products { name ... @defer { inStock @include(if: $b) } } }"
        async with session.post(
            url,
            json={"query": query, "variables": {"b": "many"}},
            headers={
                "Accept": "multipart/mixed;deferSpec=20220824,application/graphql-response+json"
            },
        ) as response:
            body = await response.json(content_type=None)

    assert response.status == 400
    assert response.headers["Content-Type"].startswith("application/graphql-response+json")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_websocket_sends_each_part_as_its_own_next() -> None:
    fakes = subgraphs(gated="stock")
    async with serving_over_tcp(_app(fakes)) as base, ws_client(base) as client:
        await client.subscribe("1", QUERY)
        initial = await client.next_message("1")
        assert "stock" not in fakes.answered
        fakes.gate.set()
        deferred = await client.next_message("1")
        completed = await client.next_message("1")

    assert initial == {"id": "1", "type": "next", "payload": INITIAL}
    assert deferred == {"id": "1", "type": "next", "payload": DEFERRED}
    assert completed == {"id": "1", "type": "complete"}


async def test_sse_sends_each_part_as_its_own_next_event() -> None:
    async with (
        serving_over_tcp(_app(subgraphs())) as base,
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
    ):
        url = base.replace("ws://", "http://") + "/graphql"
        async with session.post(
            url, json={"query": QUERY}, headers={"Accept": "text/event-stream"}
        ) as response:
            stream = (await response.read()).decode()

    events = [block for block in stream.split("\n\n") if block and not block.startswith(":")]
    nexts = [json.loads(e.split("data: ", 1)[1]) for e in events if e.startswith("event: next")]
    assert nexts == [INITIAL, DEFERRED]
    assert events[-1].startswith("event: complete")
