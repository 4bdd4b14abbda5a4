"""The orders subgraph through its ASGI app: SDL, entities, queries and mutations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql import parse
from prometheus_client import REGISTRY

from domains.orders import commands, service
from tests.integration.orders.conftest import Subgraph, make_order, make_orders

ORDER_FIELDS = """
  id number channel status idempotencyKey correlationId createdAt
  fulfilment { type locationId location { id } }
  totals { subtotal { amount currency } discount { amount } tax { amount } total { amount } }
  lines { id sku product { sku } quantity lineTotal { amount } status }
  history { from to reason correlationId }
"""


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_service_sdl_is_federation_v2_with_keys(subgraph: Subgraph) -> None:
    body = await subgraph.post("{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    parse(sdl)
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    assert 'type Order @key(fields: "id")' in sdl
    assert 'type Product @key(fields: "sku")' in sdl
    assert 'type Location @key(fields: "id")' in sdl


async def test_entities_resolve_100_orders_in_two_statements_in_order(
    subgraph: Subgraph,
) -> None:
    orders = await make_orders(subgraph.domain, 99)
    unknown = str(uuid.uuid4())
    ids = [o.id for o in orders[:50]] + [unknown] + [o.id for o in orders[50:]]
    subgraph.count_statements()
    body = await subgraph.post(
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Order { id number lines { sku } totals { total { amount } } } } }",
        {"r": [{"__typename": "Order", "id": i} for i in ids]},
    )
    entities = body["data"]["_entities"]
    assert [e and e["id"] for e in entities] == [*ids[:50], None, *ids[51:]]
    assert entities[0]["lines"][0]["sku"] == "ST-0001-01"
    assert len(subgraph.statements) == 2  # the orders, then their lines
    [error] = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["path"] == ["_entities", 50]


async def test_products_recent_orders_are_newest_first_in_three_statements(
    subgraph: Subgraph,
) -> None:
    base = datetime(2026, 10, 1, tzinfo=UTC)
    made = [await make_order(subgraph.domain, at=base + timedelta(hours=n)) for n in range(4)]
    subgraph.count_statements()
    skus = ["ST-0001-01", "ST-0002-01", "NO-SUCH-SKU"]
    body = await subgraph.post(
        "query($r: [_Any!]!) { _entities(representations: $r) "
        "{ ... on Product { sku recentOrders(first: 3) { id lines { sku } } } } }",
        {"r": [{"__typename": "Product", "sku": s} for s in skus]},
    )
    products = body["data"]["_entities"]
    newest = [o.id for o in reversed(made)][:3]
    assert [o["id"] for o in products[0]["recentOrders"]][:3] == newest
    assert products[2]["recentOrders"] == []
    assert len(subgraph.statements) == 3  # ranked ids for all SKUs, orders, lines


async def test_locations_recent_orders_filter_by_status_in_three_statements(
    subgraph: Subgraph,
) -> None:
    base = datetime(2026, 8, 1, tzinfo=UTC)
    store = f"STORE-{uuid.uuid4().hex[:6]}"
    pickups = [
        await make_order(
            subgraph.domain,
            fulfilment_type="PICKUP_AT_STORE",
            location_id=store,
            at=base + timedelta(hours=n),
        )
        for n in range(3)
    ]
    await service.change_order(subgraph.domain.uow(), pickups[0].id, commands.Confirm())
    subgraph.count_statements()
    body = await subgraph.post(
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Location { id "
        "all: recentOrders(first: 2) { id } confirmed: recentOrders(status: CONFIRMED) { id } "
        "} } }",
        {"r": [{"__typename": "Location", "id": i} for i in (store, "NOWHERE")]},
    )
    here, nowhere = body["data"]["_entities"]
    assert [o["id"] for o in here["all"]] == [pickups[2].id, pickups[1].id]
    assert [o["id"] for o in here["confirmed"]] == [pickups[0].id]
    assert nowhere == {"id": "NOWHERE", "all": [], "confirmed": []}
    # Ranked ids per status asked for (two), then the orders and their lines.
    assert len(subgraph.statements) == 4


async def test_order_query_shows_lines_totals_fulfilment_and_history(subgraph: Subgraph) -> None:
    order = await make_order(
        subgraph.domain, fulfilment_type="PICKUP_AT_STORE", location_id="STORE-BERLIN"
    )
    body = await subgraph.post(f'{{ order(id: "{order.id}") {{ {ORDER_FIELDS} }} }}')
    found = body["data"]["order"]
    assert found["number"] == order.number
    assert found["fulfilment"] == {
        "type": "PICKUP_AT_STORE",
        "locationId": "STORE-BERLIN",
        "location": {"id": "STORE-BERLIN"},
    }
    assert found["totals"]["total"] == {"amount": "21.00"}
    assert found["totals"]["subtotal"] == {"amount": "25.00", "currency": "EUR"}
    assert found["lines"][0]["product"] == {"sku": "ST-0001-01"}
    assert found["history"] == [
        {"from": None, "to": "PENDING", "reason": "created", "correlationId": "corr-create"}
    ]
    missing = await subgraph.post(f'{{ order(id: "{uuid.uuid4()}") {{ id }} }}')
    assert missing == {"data": {"order": None}}


async def test_orders_pages_newest_first_with_filters(subgraph: Subgraph) -> None:
    base = datetime(2026, 9, 1, tzinfo=UTC)
    channel_orders = [
        await make_order(subgraph.domain, channel="app", at=base + timedelta(minutes=n))
        for n in range(5)
    ]
    await make_order(subgraph.domain, channel="store", at=base)
    await service.change_order(subgraph.domain.uow(), channel_orders[0].id, commands.Confirm())
    query = """query($after: String) {
      orders(channel: "app", createdFrom: "2026-09-01T00:00:00Z",
             createdTo: "2026-09-02T00:00:00Z", first: 2, after: $after) {
        edges { cursor node { id channel } } pageInfo { hasNextPage endCursor }
      } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await subgraph.post(query, {"after": after}))["data"]["orders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [o.id for o in reversed(channel_orders)]
    confirmed = await subgraph.post(
        '{ orders(status: CONFIRMED, channel: "app", createdFrom: "2026-09-01T00:00:00Z", '
        'createdTo: "2026-09-02T00:00:00Z") { edges { node { id } } } }'
    )
    assert [e["node"]["id"] for e in confirmed["data"]["orders"]["edges"]] == [channel_orders[0].id]
    stores = await subgraph.post(
        '{ orders(locationId: "DC-NORTH", channel: "store", createdTo: "2026-09-02T00:00:00Z")'
        " { edges { node { fulfilment { locationId } } } } }"
    )
    assert stores["data"]["orders"]["edges"]


async def test_lifecycle_mutations_move_the_order_and_carry_the_correlation_id(
    subgraph: Subgraph,
) -> None:
    order = await make_order(subgraph.domain)
    steps = [
        'confirmOrder(id: $id, idempotencyKey: "step-confirm")',
        'authorizePayment(id: $id, idempotencyKey: "step-pay", reference: "PSP-1")',
        'releaseOrderToFulfilment(id: $id, idempotencyKey: "step-release")',
    ]
    for step in steps:
        body = await subgraph.post(
            f"mutation($id: ID!) {{ {step} {{ status }} }}",
            {"id": order.id},
            **{"X-Correlation-ID": "corr-steps"},
        )
        assert "errors" not in body, body
    line_ids = [line.id for line in order.lines]
    shipped = await subgraph.post(
        "mutation($id: ID!, $lines: [OrderLineQuantityInput!]!) "
        '{ confirmShipment(id: $id, idempotencyKey: "step-ship", lines: $lines, '
        'reference: "SHP-9") '
        "{ status allowedTransitions lines { quantityShipped status } "
        "history { to correlationId } } }",
        {"id": order.id, "lines": [{"lineId": i, "quantity": 1} for i in line_ids]},
        **{"X-Correlation-ID": "corr-ship"},
    )
    result = shipped["data"]["confirmShipment"]
    assert result["status"] == "PARTIALLY_SHIPPED"
    assert result["allowedTransitions"] == ["PARTIALLY_SHIPPED", "SHIPPED"]
    assert result["lines"] == [
        {"quantityShipped": 1, "status": "PARTIALLY_SHIPPED"},
        {"quantityShipped": 1, "status": "SHIPPED"},
    ]
    assert result["history"][-2:] == [
        {"to": "RELEASED_TO_FULFILMENT", "correlationId": "corr-steps"},
        {"to": "PARTIALLY_SHIPPED", "correlationId": "corr-ship"},
    ]


BAD_MUTATIONS = [
    ("confirmDelivery(id: $id) { id }", "INVALID_TRANSITION"),
    ('refundOrder(id: $id, reference: "x") { id }', "INVALID_TRANSITION"),
    ('confirmShipment(id: $id, lines: [{lineId: "x", quantity: 1}]) { id }', "INVALID_TRANSITION"),
    ('cancelOrderLines(id: $id, lines: [{lineId: "x", quantity: -1}]) { id }', "BAD_USER_INPUT"),
    ('cancelOrderLines(id: $id, lines: [{lineId: "nope", quantity: 1}]) { id }', "BAD_USER_INPUT"),
    (
        'cancelOrderLines(id: $id, lines: [{lineId: "x", quantity: 1}, {lineId: "x", quantity: 1}])'
        " { id }",
        "BAD_USER_INPUT",
    ),
    ("cancelOrderLines(id: $id, lines: []) { id }", "BAD_USER_INPUT"),
    ('cancelOrderLines(id: $id, lines: [{lineId: "x", quantity: 99}]) { id }', "BAD_USER_INPUT"),
    ('requestReturn(id: $id, lines: [{lineId: "x", quantity: 0}]) { id }', "BAD_USER_INPUT"),
]


async def test_bad_mutations_get_a_coded_error_and_change_nothing(subgraph: Subgraph) -> None:
    order = await make_order(subgraph.domain)
    for attempt, (operation, code) in enumerate(BAD_MUTATIONS):
        operation = operation.replace('"x"', f'"{order.lines[0].id}"').replace(
            "(id: $id", f'(id: $id, idempotencyKey: "bad-{attempt}"'
        )
        body = await subgraph.post(f"mutation($id: ID!) {{ {operation} }}", {"id": order.id})
        assert codes(body) == [code], operation
    unchanged = await service.get_order(subgraph.domain.uow(), order.id)
    assert unchanged.status.value == "PENDING"
    assert [line.quantity_cancelled for line in unchanged.lines] == [0, 0]


async def test_invalid_transition_error_names_from_and_to(subgraph: Subgraph) -> None:
    order = await make_order(subgraph.domain)
    body = await subgraph.post(
        'mutation($id: ID!) { confirmDelivery(id: $id, idempotencyKey: "deliver") { id } }',
        {"id": order.id},
    )
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "INVALID_TRANSITION",
        "from": "PENDING",
        "to": "DELIVERED",
    }
    assert "PENDING" in error["message"]


BAD_QUERIES = [
    "{ orders(first: 0) { edges { cursor } } }",
    "{ orders(first: 1000) { edges { cursor } } }",
    '{ orders(after: "not a cursor") { edges { cursor } } }',
    '{ orders(channel: "fax") { edges { cursor } } }',
    '{ orders(createdFrom: "2026-02-01T00:00:00Z", createdTo: "2026-01-01T00:00:00Z")'
    " { edges { cursor } } }",
    '{ _entities(representations: [{__typename: "Product", sku: 7}]) { __typename } }',
    '{ _entities(representations: [{__typename: "Order"}]) { __typename } }',
    '{ _entities(representations: [{__typename: "Product", sku: "A"}]) '
    "{ ... on Product { recentOrders(first: -1) { id } } } }",
    'mutation { confirmOrder(id: "no-such-order", idempotencyKey: "k") { id } }',
    'mutation { holdOrderForFraud(id: "x", idempotencyKey: "k", reason: "'
    + "r" * 600
    + '") { id } }',
]


async def test_bad_queries_get_a_coded_error_never_a_500(subgraph: Subgraph) -> None:
    for query in BAD_QUERIES:
        body = await subgraph.post(query)
        assert codes(body), query
        assert "INTERNAL_SERVER_ERROR" not in codes(body), query


CANCEL_ONE = """mutation($id: ID!, $key: String!, $line: ID!, $quantity: Int!) {
  cancelOrderLines(id: $id, idempotencyKey: $key, lines: [{lineId: $line, quantity: $quantity}])
  { status lines { quantityCancelled } totals { total { amount } } }
}"""


async def test_a_retried_cancellation_is_answered_once_and_counted_as_a_repeat(
    subgraph: Subgraph,
) -> None:
    order = await make_order(subgraph.domain)
    asked = {"id": order.id, "key": "cancel-1", "line": order.lines[0].id, "quantity": 1}
    before = _duplicates("cancelOrderLines")
    first = await subgraph.post(CANCEL_ONE, asked)
    again = await subgraph.post(CANCEL_ONE, asked)
    reused = await subgraph.post(CANCEL_ONE, {**asked, "quantity": 2})
    missing = await subgraph.post(CANCEL_ONE, {**asked, "key": ""})

    assert first == again
    assert first["data"]["cancelOrderLines"] == {
        "status": "PARTIALLY_CANCELLED",
        "lines": [{"quantityCancelled": 1}, {"quantityCancelled": 0}],
        "totals": {"total": {"amount": "13.00"}},
    }
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert codes(missing) == ["BAD_USER_INPUT"]
    assert _duplicates("cancelOrderLines") == before + 1


def _duplicates(operation: str) -> float:
    found = REGISTRY.get_sample_value(
        "retailgraph_duplicate_requests_total", {"operation": operation, "channel": "web"}
    )
    return found or 0.0
