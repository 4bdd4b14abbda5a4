"""The inventory subgraph over HTTP: federation, batched entities, read-after-write, bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import parse
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore, RedisStore
from adapters.runtime import Runtime
from domains.inventory.app import create_app
from domains.inventory.bootstrap import InventoryDomain
from tests.integration.inventory.conftest import counted_statements, gql, new_sku, serve, stock
from tests.support import suite_clock

Served = tuple[httpx.AsyncClient, InventoryDomain]


RESERVE = """mutation ($input: ReserveStockInput!) { reserveStock(input: $input) { id } }"""


async def _reserve(client: httpx.AsyncClient, sku: str, quantity: int) -> dict[str, Any]:
    variables = {"sku": sku, "locationId": "DC", "quantity": quantity, "idempotencyKey": sku}
    return await gql(client, RESERVE, {"input": variables})


async def test_service_sdl_is_federation_v2_with_the_entity_keys(served: Served) -> None:
    client, _ = served
    sdl = (await gql(client, "{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    assert 'type Location @key(fields: "id")' in sdl
    assert 'type Product @key(fields: "sku")' in sdl
    assert 'type Reservation @key(fields: "id")' in sdl
    parse(sdl)


PRODUCT_ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product {
      sku
      stock(locationId: "DC") { onHand reserved available }
      stockLevels { locationId available }
      availability(channel: "web") { available locations { locationId allocated } }
    }
  }
}
"""


async def test_product_entities_take_one_statement_per_loader_whatever_their_number(
    served: Served,
) -> None:
    client, domain = served
    skus = [new_sku() for _ in range(100)]
    for index, sku in enumerate(skus[:10]):
        await stock(domain, sku, on_hand=index + 1)
    representations = [{"__typename": "Product", "sku": sku} for sku in skus]
    with counted_statements(domain.engine) as statements:
        body = await gql(client, PRODUCT_ENTITIES, {"representations": representations})
    assert "errors" not in body
    # One for stock levels, one for the availability read model's (missed) batch.
    assert len(statements) == 2, statements
    entities = body["data"]["_entities"]
    assert [e["sku"] for e in entities] == skus
    assert entities[4]["stock"] == {"onHand": 5, "reserved": 0, "available": 5}
    assert entities[4]["availability"]["available"] == 5
    assert entities[50] == {
        "sku": skus[50],
        "stock": None,
        "stockLevels": [],
        "availability": {"available": 0, "locations": []},
    }
    with counted_statements(domain.engine) as statements:
        await gql(client, PRODUCT_ENTITIES, {"representations": representations})
    assert len(statements) == 1, "availability now comes from the read model"


async def test_location_and_reservation_entities_resolve_in_order_with_errors_for_unknowns(
    served: Served,
) -> None:
    client, domain = served
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    reserved = await _reserve(client, sku, 1)
    reservation_id = reserved["data"]["reserveStock"]["id"]
    representations = [
        {"__typename": "Location", "id": "ST"},
        {"__typename": "Location", "id": "NOWHERE"},
        {"__typename": "Reservation", "id": reservation_id},
        {"__typename": "Reservation", "id": "no-such-reservation"},
        *({"__typename": "Location", "id": "DC"} for _ in range(50)),
    ]
    query = """query ($r: [_Any!]!) { _entities(representations: $r) {
        ... on Location { id kind channels }
        ... on Reservation { id sku quantity status location { id } } } }"""
    with counted_statements(domain.engine) as statements:
        body = await gql(client, query, {"r": representations})
    assert len(statements) == 2, "one per entity type"
    entities = body["data"]["_entities"]
    assert entities[0] == {"id": "ST", "kind": "STORE", "channels": ["store", "web"]}
    assert entities[1] is None
    assert entities[2]["sku"] == sku
    assert entities[2]["status"] == "ACTIVE"
    assert entities[3] is None
    assert all(e["id"] == "DC" for e in entities[4:])
    codes = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert codes == {
        ("_entities", 1): "UNKNOWN_LOCATION",
        ("_entities", 3): "RESERVATION_NOT_FOUND",
    }


async def test_malformed_representations_are_the_clients_mistake(served: Served) -> None:
    client, _ = served
    query = "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    body = await gql(client, query, {"r": [{"__typename": "Product", "sku": 7}]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(client, query, {"r": [{"__typename": "Location"}]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


AVAILABILITY = """query ($r: [_Any!]!) { _entities(representations: $r) {
    ... on Product { availability(channel: "web") { available } } } }"""


async def _web_availability(client: httpx.AsyncClient, sku: str) -> int:
    body = await gql(client, AVAILABILITY, {"r": [{"__typename": "Product", "sku": sku}]})
    return int(body["data"]["_entities"][0]["availability"]["available"])


async def _receive(client: httpx.AsyncClient, sku: str, quantity: int, doc: str) -> None:
    body = await gql(
        client,
        """mutation ($m: [StockMovementInput!]!) { applyStockMovements(movements: $m) {
            applied { lineNumber } stockLevels { onHand } } }""",
        {
            "m": [
                {
                    "type": "RECEIPT",
                    "sku": sku,
                    "locationId": "DC",
                    "quantity": quantity,
                    "sourceDocumentId": doc,
                }
            ]
        },
    )
    assert len(body["data"]["applyStockMovements"]["applied"]) == 1


async def _read_after_write(client: httpx.AsyncClient, domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10, incoming=4)
    assert await _web_availability(client, sku) == 14  # web counts in-transit units
    await _receive(client, sku, 3, f"GRN-{sku}")
    assert await _web_availability(client, sku) == 14  # 3 landed: on hand 13, incoming 1
    await _receive(client, sku, 6, f"GRN2-{sku}")
    assert await _web_availability(client, sku) == 19
    await _reserve(client, sku, 9)
    assert await _web_availability(client, sku) == 10


async def test_a_query_right_after_a_change_sees_the_new_availability(served: Served) -> None:
    await _read_after_write(*served)


@pytest.mark.redis
async def test_read_after_write_holds_with_the_cache_in_redis(
    engine: AsyncEngine, redis_client: Redis
) -> None:
    runtime = Runtime(
        bus=InProcessBus(),
        cache=RedisStore(redis_client),
        migrate_on_start=True,
        clock=suite_clock(),
    )
    async with serve(create_app(runtime, engine=engine)) as (client, domain):
        await _read_after_write(client, domain)


BAD_INPUT = [
    (
        """mutation { reserveStock(input: {sku: "S", locationId: "DC", quantity: -1,
        idempotencyKey: "k"}) { id } }""",
        "INVALID_QUANTITY",
    ),
    (
        """mutation { reserveStock(input: {sku: "S", locationId: "DC", quantity: 1,
        idempotencyKey: "k", ttlSeconds: 0}) { id } }""",
        "INVALID_TTL",
    ),
    (
        """mutation { reserveStock(input: {sku: "S", locationId: "NOWHERE", quantity: 1,
        idempotencyKey: "k"}) { id } }""",
        "UNKNOWN_LOCATION",
    ),
    (
        """mutation { reserveStock(input: {sku: "UNKNOWN", locationId: "DC", quantity: 1,
        idempotencyKey: "k"}) { id } }""",
        "UNKNOWN_SKU",
    ),
    (
        """mutation { reserveStock(input: {sku: "S", locationId: "DC", quantity: 99999999999,
        idempotencyKey: "k"}) { id } }""",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        """mutation { reserveStock(input: {sku: "S\\u0000", locationId: "DC", quantity: 1,
        idempotencyKey: "k"}) { id } }""",
        "INVALID_REFERENCE",
    ),
    (
        """mutation { reserveStock(input: {sku: "S", locationId: "DC", quantity: 1,
        idempotencyKey: "k\\u0000", orderReference: "o"}) { id } }""",
        "INVALID_IDEMPOTENCY_KEY",
    ),
    ('mutation { releaseReservation(input: {id: "\\u0000"}) { id } }', "RESERVATION_NOT_FOUND"),
    ('mutation { setChannelPolicy(channel: "w\\u0000", countsIncoming: true) }', "INVALID_CHANNEL"),
    ("mutation { releaseReservation(input: {}) { id } }", "BAD_USER_INPUT"),
    ('mutation { releaseReservation(input: {id: "nope"}) { id } }', "RESERVATION_NOT_FOUND"),
    ('mutation { consumeReservation(id: "nope") { id } }', "RESERVATION_NOT_FOUND"),
    (
        """mutation { saveLocation(input: {id: "X", name: "X", kind: STORE, region: "r",
        channels: [{channel: "web", sharePercent: 150}]}) { id } }""",
        "INVALID_ALLOCATION",
    ),
    (
        '{ _entities(representations: [{__typename: "Product", sku: "S"}]) { ... on Product {'
        ' availability(channel: "") { available } } } }',
        "INVALID_CHANNEL",
    ),
    ("{ locations(kind: MALL) { id } }", "GRAPHQL_VALIDATION_FAILED"),
]


async def test_bad_input_gets_a_coded_error_and_no_server_error(served: Served) -> None:
    # One app for every case: starting one per case would cost a second each on PostgreSQL.
    client, domain = served
    await stock(domain, "S", on_hand=5)
    for query, code in BAD_INPUT:
        body = await gql(client, query)
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], query


async def test_text_no_column_can_hold_reads_as_nothing_found(served: Served) -> None:
    client, _ = served
    body = await gql(
        client,
        """{ location(id: "D\\u0000") { id } reservation(id: "\\u0000") { id }
             locations(region: "\\u0000") { id }
             _entities(representations: [{__typename: "Product", sku: "S"}]) {
               ... on Product { stock(locationId: "\\u0000") { onHand } } } }""",
    )
    assert "errors" not in body
    assert body["data"] == {
        "location": None,
        "reservation": None,
        "locations": [],
        "_entities": [{"stock": None}],
    }


async def test_out_of_stock_says_how_many_are_available(served: Served) -> None:
    client, domain = served
    sku = new_sku()
    await stock(domain, sku, on_hand=4, safety_stock=1)
    body = await _reserve(client, sku, 5)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INSUFFICIENT_STOCK"
    assert error["extensions"]["available"] == 3


async def test_invalid_movement_lines_come_back_rejected_with_codes(served: Served) -> None:
    client, _ = served
    sku = new_sku()
    body = await gql(
        client,
        """mutation ($m: [StockMovementInput!]!) { applyStockMovements(movements: $m) {
            applied { lineNumber } rejected { lineNumber outcome code } } }""",
        {
            "m": [
                {
                    "type": "PICK",
                    "sku": sku,
                    "locationId": "DC",
                    "quantity": -2,
                    "sourceDocumentId": "D",
                    "lineNumber": 1,
                },
                {
                    "type": "RECEIPT",
                    "sku": sku,
                    "locationId": "MARS",
                    "quantity": 2,
                    "sourceDocumentId": "D",
                    "lineNumber": 2,
                },
                {
                    "type": "RECEIPT",
                    "sku": sku,
                    "locationId": "DC",
                    "quantity": 2,
                    "sourceDocumentId": "D",
                    "lineNumber": 3,
                },
            ]
        },
    )
    result = body["data"]["applyStockMovements"]
    assert result["applied"] == [{"lineNumber": 3}]
    assert result["rejected"] == [
        {"lineNumber": 1, "outcome": "REJECTED", "code": "NEGATIVE_QUANTITY"},
        {"lineNumber": 2, "outcome": "REJECTED", "code": "UNKNOWN_LOCATION"},
    ]


async def test_locations_filter_by_kind_region_and_channel(served: Served) -> None:
    client, _ = served
    body = await gql(
        client,
        """{ all: locations { id } stores: locations(kind: STORE) { id }
             north: locations(region: "north") { id } app: locations(channel: "app") {
             id allocationRules { channel sharePercent cap } }
             one: location(id: "ST") { name region } none: location(id: "X") { id } }""",
    )
    data = body["data"]
    assert [loc["id"] for loc in data["all"]] == ["DC", "ST"]
    assert [loc["id"] for loc in data["stores"]] == ["ST"]
    assert [loc["id"] for loc in data["north"]] == ["DC"]
    assert data["app"][0]["allocationRules"] == [
        {"channel": "app", "sharePercent": 50, "cap": 10},
        {"channel": "web", "sharePercent": 100, "cap": None},
    ]
    assert data["one"] == {"name": "Store", "region": "south"}
    assert data["none"] is None


async def test_a_reservation_can_be_released_by_its_key_and_read_back(served: Served) -> None:
    client, domain = served
    sku = new_sku()
    await stock(domain, sku, on_hand=3)
    reservation_id = (await _reserve(client, sku, 2))["data"]["reserveStock"]["id"]
    body = await gql(
        client,
        """mutation ($key: String!) { releaseReservation(input: {idempotencyKey: $key}) {
            id status } }""",
        {"key": sku},
    )
    assert body["data"]["releaseReservation"] == {"id": reservation_id, "status": "RELEASED"}
    body = await gql(
        client,
        """query ($id: ID!) { reservation(id: $id) { sku quantity status location { id } } }""",
        {"id": reservation_id},
    )
    assert body["data"]["reservation"] == {
        "sku": sku,
        "quantity": 2,
        "status": "RELEASED",
        "location": {"id": "DC"},
    }
    assert await _web_availability(client, sku) == 3


async def test_committed_events_reach_the_bus_through_the_outbox(engine: AsyncEngine) -> None:
    bus = InProcessBus()
    seen: list[Any] = []

    async def collect(event: Any) -> None:
        seen.append(event)

    bus.subscribe(collect, types=["StockChanged"])
    runtime = Runtime(bus=bus, cache=MemoryStore(), migrate_on_start=True, clock=suite_clock())
    async with serve(create_app(runtime, engine=engine)) as (client, domain):
        sku = new_sku()
        await _receive(client, sku, 4, f"GRN-{sku}")
        await domain.relay.drain()
    (event,) = [e for e in seen if e.payload["sku"] == sku]
    assert event.partition_key == f"{sku}@DC"
    assert event.payload["onHand"] == 4


async def test_an_orders_lines_are_reserved_under_one_key_over_graphql(served: Served) -> None:
    client, domain = served
    sku = new_sku()
    await stock(domain, sku, on_hand=4)
    await stock(domain, sku, "ST", on_hand=1)
    mutation = """mutation ($input: ReserveStockLinesInput!) {
        reserveStockLines(input: $input) { id idempotencyKey locationId quantity } }"""
    order = {
        "idempotencyKey": f"order-{sku}",
        "orderReference": "O-77",
        "lines": [
            {"sku": sku, "locationId": "DC", "quantity": 3},
            {"sku": sku, "locationId": "ST", "quantity": 1},
        ],
    }
    first = (await gql(client, mutation, {"input": order}))["data"]["reserveStockLines"]
    assert [(r["idempotencyKey"], r["locationId"]) for r in first] == [
        (f"order-{sku}:1", "DC"),
        (f"order-{sku}:2", "ST"),
    ]
    again = (await gql(client, mutation, {"input": order}))["data"]["reserveStockLines"]
    assert again == first
    short = {**order, "idempotencyKey": f"other-{sku}"}
    (error,) = (await gql(client, mutation, {"input": short}))["errors"]
    assert (error["extensions"]["code"], error["extensions"]["available"]) == (
        "INSUFFICIENT_STOCK",
        1,
    )


class _CacheThatCannotDelete(MemoryStore):
    async def delete(self, keys: Any) -> None:
        raise ConnectionError("cache unreachable")


async def test_a_cache_outage_after_commit_does_not_fail_the_committed_change(
    engine: AsyncEngine,
) -> None:
    runtime = Runtime(
        bus=InProcessBus(),
        cache=_CacheThatCannotDelete(),
        migrate_on_start=True,
        clock=suite_clock(),
    )
    async with serve(create_app(runtime, engine=engine)) as (client, _):
        sku = new_sku()
        await _receive(client, sku, 2, f"GRN-{sku}")
        body = await gql(
            client,
            """query ($r: [_Any!]!) { _entities(representations: $r) {
                ... on Product { stock(locationId: "DC") { onHand } } } }""",
            {"r": [{"__typename": "Product", "sku": sku}]},
        )
    assert body["data"]["_entities"][0]["stock"] == {"onHand": 2}
