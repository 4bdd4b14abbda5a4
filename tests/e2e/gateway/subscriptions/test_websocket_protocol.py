"""graphql-transport-ws through the gateway: every message type and every close code."""

from __future__ import annotations

import pytest

from tests.e2e.gateway.subscriptions.conftest import LiveGateway, live_gateway, members_only
from tests.e2e.gateway.subscriptions.served import (
    closed_with,
    eventually,
    receive,
    send,
    socket_to,
    subscribe,
)
from tests.e2e.gateway.subscriptions.subgraphs import StockEvent

STOCK = "subscription ($at: ID!) { stockChanged(locationId: $at) { sku onHand } }"


async def test_connection_init_is_acknowledged_and_pings_get_pongs(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, {"type": "pong"})  # an unsolicited heartbeat is fine
        await send(websocket, {"type": "ping", "payload": {"at": 1}})

        assert await receive(websocket) == {"type": "pong", "payload": {"at": 1}}


async def test_ping_before_connection_init_gets_a_pong(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address, init=False) as websocket:
        await send(websocket, {"type": "ping"})

        assert await receive(websocket) == {"type": "pong"}


async def test_subscription_completes_after_the_subgraph_completes(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("c", "subscription { countdown(start: 2) }"))

        assert await receive(websocket) == {
            "id": "c",
            "type": "next",
            "payload": {"data": {"countdown": 2}},
        }
        assert (await receive(websocket))["payload"] == {"data": {"countdown": 1}}
        assert await receive(websocket) == {"id": "c", "type": "complete"}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ('{ product(sku: "A-1") { name } }', {"product": {"name": "Name of A-1"}}),
        (
            'mutation { countStock(sku: "A-1", onHand: 3) { onHand product { name } } }',
            {"countStock": {"onHand": 3, "product": {"name": "Name of A-1"}}},
        ),
    ],
)
async def test_queries_and_mutations_over_the_socket_give_one_result_then_complete(
    gateway: LiveGateway, document: str, expected: dict[str, object]
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("q", document))

        assert await receive(websocket) == {
            "id": "q",
            "type": "next",
            "payload": {"data": expected},
        }
        assert await receive(websocket) == {"id": "q", "type": "complete"}


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ("subscription { stockChanged { nope } }", {}, "GRAPHQL_VALIDATION_FAILED"),
        ("subscription { stockChanged(", {}, "GRAPHQL_PARSE_FAILED"),
        (STOCK, {"at": ["not", "an", "id"]}, "BAD_USER_INPUT"),
    ],
)
async def test_a_bad_operation_gets_an_error_message_with_codes_and_the_socket_stays_open(
    gateway: LiveGateway, document: str, variables: dict[str, object], code: str
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("bad", document, **variables))

        error = await receive(websocket)
        assert error["type"] == "error"
        assert error["id"] == "bad"
        assert error["payload"][0]["extensions"]["code"] == code
        await send(websocket, {"type": "ping"})
        assert await receive(websocket) == {"type": "pong"}


async def test_complete_from_the_client_stops_the_subscription_and_its_upstream(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("s", STOCK, at="DC-1"))
        await eventually(lambda: gateway.feed.active == 1)

        await send(websocket, {"id": "s", "type": "complete"})

        await eventually(lambda: gateway.feed.active == 0)
        await send(websocket, subscribe("s", STOCK, at="DC-1"))  # the id is free again
        await eventually(lambda: gateway.feed.active == 1)
        gateway.feed.publish(StockEvent("A-1", "DC-1", 4))
        assert (await receive(websocket))["payload"] == {
            "data": {"stockChanged": {"sku": "A-1", "onHand": 4}}
        }


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("not json", "the message is not valid JSON"),
        ("[1, 2]", "the message is not a JSON object"),
        ('{"type": "launch"}', 'unexpected message of type "launch"'),
        ('{"type": "next", "id": "1", "payload": {}}', 'unexpected message of type "next"'),
        ('{"id": "1"}', 'the message has no "type"'),
        ('{"type": "subscribe", "payload": {"query": "{ x }"}}', 'needs a non-empty string "id"'),
        ('{"type": "subscribe", "id": "1", "payload": {}}', 'needs a "query" or a "documentId"'),
        ('{"type": "connection_init", "payload": "x"}', '"payload" must be an object or null'),
    ],
)
async def test_an_invalid_message_closes_the_socket_with_4400(
    gateway: LiveGateway, frame: str, reason: str
) -> None:
    initialise = not frame.startswith('{"type": "connection_init"')
    async with socket_to(gateway.address, init=initialise) as websocket:
        await websocket.send(frame)

        code, said = await closed_with(websocket)
        assert code == 4400
        assert reason in (said or "")


async def test_subscribe_before_the_ack_closes_the_socket_with_4401(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address, init=False) as websocket:
        await send(websocket, subscribe("s", STOCK, at="DC-1"))

        assert await closed_with(websocket) == (4401, "Unauthorized")


async def test_a_duplicate_subscription_id_closes_the_socket_with_4409(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, subscribe("twice", STOCK, at="DC-1"))
        await send(websocket, subscribe("twice", STOCK, at="DC-2"))

        assert await closed_with(websocket) == (4409, "Subscriber for twice already exists")
    await eventually(lambda: gateway.feed.active == 0)


async def test_a_second_connection_init_closes_the_socket_with_4429(gateway: LiveGateway) -> None:
    async with socket_to(gateway.address) as websocket:
        await send(websocket, {"type": "connection_init"})

        assert await closed_with(websocket) == (4429, "Too many initialisation requests")


async def test_no_connection_init_in_time_closes_the_socket_with_4408() -> None:
    async with (
        live_gateway(init_timeout=0.2) as gateway,
        socket_to(gateway.address, init=False) as websocket,
    ):
        assert await closed_with(websocket) == (4408, "Connection initialisation timeout")


async def test_a_socket_without_the_subprotocol_is_closed_with_4406(gateway: LiveGateway) -> None:
    from websockets.asyncio.client import connect

    async with connect(f"ws://{gateway.address}/graphql") as websocket:
        assert await closed_with(websocket) == (4406, "Subprotocol not acceptable")


async def test_connection_init_without_a_valid_api_key_closes_the_socket_with_4401() -> None:
    async with live_gateway(clients=members_only("s3cret")) as gateway:
        async with socket_to(gateway.address, init=False) as websocket:
            await send(websocket, {"type": "connection_init", "payload": {"apiKey": "guess"}})
            assert await closed_with(websocket) == (4401, "Unauthorized")

        async with socket_to(gateway.address, init=False) as websocket:
            await send(websocket, {"type": "connection_init"})
            assert await closed_with(websocket) == (4401, "Unauthorized")

        async with socket_to(gateway.address, payload={"apiKey": "s3cret"}) as websocket:
            await send(websocket, subscribe("c", "subscription { countdown(start: 1) }"))
            assert (await receive(websocket))["payload"] == {"data": {"countdown": 1}}


async def test_a_misbehaving_client_is_closed_while_the_others_keep_receiving(
    gateway: LiveGateway,
) -> None:
    async with socket_to(gateway.address) as polite, socket_to(gateway.address) as rude:
        await send(polite, subscribe("p", STOCK, at="DC-1"))
        await send(rude, subscribe("r", STOCK, at="DC-1"))
        await eventually(lambda: gateway.engine.subscriptions.subscribers == 2)
        await eventually(lambda: gateway.feed.active == 1)
        gateway.feed.publish(StockEvent("A-1", "DC-1", 1))
        assert (await receive(polite))["id"] == "p"
        assert (await receive(rude))["id"] == "r"

        await rude.send("{ this is not json")

        assert (await closed_with(rude))[0] == 4400
        gateway.feed.publish(StockEvent("A-1", "DC-1", 2))
        assert (await receive(polite))["payload"] == {
            "data": {"stockChanged": {"sku": "A-1", "onHand": 2}}
        }
