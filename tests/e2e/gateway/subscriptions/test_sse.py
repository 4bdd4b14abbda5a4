"""GraphQL over SSE (graphql-sse, distinct connections mode) on the same endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import orjson

from tests.e2e.gateway.subscriptions.conftest import LiveGateway, live_gateway, members_only
from tests.e2e.gateway.subscriptions.served import WAIT, eventually
from tests.e2e.gateway.subscriptions.subgraphs import StockEvent

EVENT_STREAM = {"accept": "text/event-stream"}
STOCK = "subscription ($at: ID!) { stockChanged(locationId: $at) { sku product { name } } }"


async def events(response: httpx.Response) -> AsyncIterator[tuple[str, object]]:
    """``(event, data)`` pairs as they arrive."""
    event, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif not line and event:
            yield event, orjson.loads(data) if data else None
            event, data = "", ""


async def test_a_subscription_streams_next_events_and_closing_releases_the_upstream(
    gateway: LiveGateway,
) -> None:
    async with (
        httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client,
        client.stream(
            "POST",
            "/graphql",
            json={"query": STOCK, "variables": {"at": "DC-1"}},
            headers=EVENT_STREAM,
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await eventually(lambda: gateway.feed.active == 1)
        gateway.feed.publish(StockEvent("A-1", "DC-1", 1))
        stream = events(response)
        async with asyncio.timeout(WAIT):
            first = await anext(stream)
        assert first == (
            "next",
            {"data": {"stockChanged": {"sku": "A-1", "product": {"name": "Name of A-1"}}}},
        )

    await eventually(lambda: gateway.feed.active == 0)


async def test_a_query_over_get_gives_one_next_event_then_complete(gateway: LiveGateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client:
        response = await client.get(
            "/graphql",
            params={"query": 'query { product(sku: "A-1") { name } }'},
            headers=EVENT_STREAM,
        )

    assert response.status_code == 200
    assert response.text == (
        'event: next\ndata: {"data":{"product":{"name":"Name of A-1"}}}\n\n'
        "event: complete\ndata: \n\n"
    )


async def test_a_subscription_that_ends_upstream_ends_with_complete(gateway: LiveGateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client:
        response = await client.post(
            "/graphql",
            json={"query": "subscription { countdown(start: 2) }"},
            headers=EVENT_STREAM,
        )

    assert [event async for event in events(response)] == [
        ("next", {"data": {"countdown": 2}}),
        ("next", {"data": {"countdown": 1}}),
        ("complete", None),
    ]


async def test_validation_errors_arrive_as_a_next_event(gateway: LiveGateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client:
        response = await client.post(
            "/graphql", json={"query": "subscription { nope }"}, headers=EVENT_STREAM
        )

    received = [event async for event in events(response)]
    assert response.status_code == 200
    assert received[0][0] == "next"
    assert received[0][1]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[index]
    assert received[1] == ("complete", None)


async def test_an_event_stream_without_a_valid_api_key_is_refused_with_401() -> None:
    async with (
        live_gateway(clients=members_only("s3cret")) as gateway,
        httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client,
    ):
        refused = await client.post(
            "/graphql", json={"query": "subscription { countdown(start: 1) }"}, headers=EVENT_STREAM
        )
        admitted = await client.post(
            "/graphql",
            json={"query": "subscription { countdown(start: 1) }"},
            headers={**EVENT_STREAM, "authorization": "Bearer s3cret"},
        )

    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="retailgraph"'
    assert refused.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_REQUIRED"
    assert admitted.text.startswith('event: next\ndata: {"data":{"countdown":1}}')


async def test_a_quiet_stream_gets_keep_alive_comments_and_still_gets_events() -> None:
    async with (
        live_gateway(sse_keep_alive=0.05) as gateway,
        httpx.AsyncClient(base_url=f"http://{gateway.address}", timeout=WAIT) as client,
        client.stream(
            "POST",
            "/graphql",
            json={"query": STOCK, "variables": {"at": "DC-1"}},
            headers=EVENT_STREAM,
        ) as response,
    ):
        lines = response.aiter_lines()
        async with asyncio.timeout(WAIT):
            assert await anext(lines) == ": keep-alive"
            await eventually(lambda: gateway.feed.active == 1)
            gateway.feed.publish(StockEvent("A-1", "DC-1", 1))
            while (line := await anext(lines)) != "event: next":
                assert line in ("", ": keep-alive")
            assert orjson.loads((await anext(lines)).removeprefix("data: ")) == {
                "data": {"stockChanged": {"sku": "A-1", "product": {"name": "Name of A-1"}}}
            }

    await eventually(lambda: gateway.feed.active == 0)
