"""Inventory's internal endpoints for checkout (``/internal/location``, ``/internal/reserve``,
``/internal/release``): the service calls of their GraphQL fields, with the same
refusals, all lines or none, and a repeat that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from domains.inventory import repository
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.service import MAX_LINES
from tests.integration.inventory.conftest import new_sku, stock

Served = tuple[httpx.AsyncClient, InventoryDomain]


def reserve_body(key: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "orderReference": "order-1",
        "channel": "web",
        "lines": [{"sku": sku, "locationId": "DC", "quantity": units} for sku, units in lines],
    }


async def reserved(domain: InventoryDomain, sku: str) -> int:
    async with domain.engine.connect() as conn:
        levels = await repository.load_levels(conn, [sku], domain.clock.now())
    return sum(level.reserved for level in levels if level.location_id == "DC")


async def test_a_location_answers_what_checkout_needs_and_null_when_there_is_none(
    served: Served,
) -> None:
    http, _ = served

    known = await http.post("/internal/location", json={"id": "ST"})
    unknown = await http.post("/internal/location", json={"id": "NOWHERE"})

    assert known.json() == {
        "location": {"region": "south", "kind": "STORE", "channels": ["store", "web"]}
    }
    assert unknown.json() == {"location": None}


async def test_reserving_holds_every_line_once_and_a_repeat_returns_the_same(
    served: Served,
) -> None:
    http, domain = served
    first, second = new_sku(), new_sku()
    await stock(domain, first, on_hand=5)
    await stock(domain, second, on_hand=5)
    body = reserve_body("k-1", (first, 2), (second, 1))

    placed = await http.post("/internal/reserve", json=body)
    again = await http.post("/internal/reserve", json=body)

    assert placed.status_code == 200, placed.text
    assert placed.json() == {
        "reservations": [
            {"idempotencyKey": "k-1:1", "status": "ACTIVE"},
            {"idempotencyKey": "k-1:2", "status": "ACTIVE"},
        ]
    }
    assert again.json() == placed.json()
    assert (await reserved(domain, first), await reserved(domain, second)) == (2, 1)


async def test_a_line_short_of_stock_refuses_the_whole_reservation_with_what_is_left(
    served: Served,
) -> None:
    http, domain = served
    plenty, scarce = new_sku(), new_sku()
    await stock(domain, plenty, on_hand=5)
    await stock(domain, scarce, on_hand=1)

    response = await http.post(
        "/internal/reserve", json=reserve_body("k-2", (plenty, 1), (scarce, 2))
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["available"], error["sku"]) == ("INSUFFICIENT_STOCK", 1, scarce)
    assert await reserved(domain, plenty) == 0


async def test_releasing_gives_the_units_back_once_and_an_unknown_key_is_not_found(
    served: Served,
) -> None:
    http, domain = served
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    await http.post("/internal/reserve", json=reserve_body("k-3", (sku, 2)))

    released = await http.post("/internal/release", json={"idempotencyKey": "k-3:1"})
    again = await http.post("/internal/release", json={"idempotencyKey": "k-3:1"})
    unknown = await http.post("/internal/release", json={"idempotencyKey": "k-nope:1"})

    assert released.json() == again.json() == {"status": "RELEASED"}
    assert await reserved(domain, sku) == 0
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "RESERVATION_NOT_FOUND"


async def test_more_lines_than_an_order_holds_are_refused_before_any_is_read(
    served: Served,
) -> None:
    http, _ = served
    body = reserve_body("k-4", *[(f"SKU-{n}", 1) for n in range(MAX_LINES + 1)])

    response = await http.post("/internal/reserve", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_LINES"


async def test_a_reservation_outside_the_contract_is_malformed_request(served: Served) -> None:
    http, _ = served

    no_key = await http.post("/internal/reserve", json={"lines": []})
    text_units = await http.post(
        "/internal/reserve",
        json={
            "idempotencyKey": "k-5",
            "lines": [{"sku": "A", "locationId": "DC", "quantity": "1"}],
        },
    )

    for response in (no_key, text_units):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "MALFORMED_REQUEST"
