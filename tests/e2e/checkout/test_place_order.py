"""placeOrder through the gateway: priced by pricing, reserved by inventory, once per key."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from domains.pricing import service as pricing
from tests.e2e.checkout.conftest import Shop, codes


async def test_an_order_is_priced_server_side_with_buy_x_get_y_in_its_totals(shop: Shop) -> None:
    body = await shop.place(f"k-{uuid.uuid4()}", [("MUG-1", 4), ("TEE-1", 1)])

    placed = body["data"]["placeOrder"]
    order = placed["order"]
    assert placed["created"] is True
    assert order["status"] == "PENDING"
    assert order["number"].startswith("RG-")
    mugs, tee = order["lines"]
    # Buy 2 get 1 on 4 mugs at 9.99: 3 are paid, 29.97, spread over the 4 units
    # (7.493 each: 4 x 7.493 rounds to 29.97).
    assert mugs["unitPrice"]["amount"] == "9.99"
    assert mugs["lineTotal"]["amount"] == "29.97"
    assert mugs["promotionalUnitPrice"]["amount"] == "7.493"
    assert tee["lineTotal"]["amount"] == "20.00"
    assert order["totals"]["subtotal"]["amount"] == "59.96"
    assert order["totals"]["discount"]["amount"] == "9.99"
    assert order["totals"]["total"] == {"amount": "49.97", "currency": "EUR"}


async def test_a_placed_order_holds_its_units_in_reservations(shop: Shop) -> None:
    before = await shop.stock("TEE-1")

    await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 3)])

    after = await shop.stock("TEE-1")
    assert after["available"] == before["available"] - 3
    assert after["reserved"] + after["committed"] == 3


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([("NO-SUCH-SKU", 1)], "UNKNOWN_SKU"),
        ([("TEE-1", 31)], "INSUFFICIENT_STOCK"),
        ([("TEE-1", 0)], "BAD_USER_INPUT"),
        ([], "BAD_USER_INPUT"),
    ],
)
async def test_a_refused_checkout_says_why_and_holds_nothing(
    shop: Shop, lines: list[tuple[str, int]], code: str
) -> None:
    body = await shop.place(f"k-{uuid.uuid4()}", lines)

    assert codes(body) == [code]
    assert body["data"] is None
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 0
    assert await shop.scalar("inventory", "SELECT count(*) FROM inventory_reservation") == 0


async def test_an_unknown_location_is_refused(shop: Shop) -> None:
    body = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1)], location="NOWHERE")

    assert codes(body) == ["UNKNOWN_LOCATION"]


async def test_a_repeated_key_returns_the_same_order_and_reserves_once(shop: Shop) -> None:
    key = f"k-{uuid.uuid4()}"
    first = await shop.place(key, [("TEE-1", 2), ("MUG-1", 1)])
    again = await shop.place(key, [("TEE-1", 2), ("MUG-1", 1)])

    assert again["data"]["placeOrder"]["created"] is False
    assert again["data"]["placeOrder"]["order"]["id"] == first["data"]["placeOrder"]["order"]["id"]
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 1
    assert await shop.scalar("inventory", "SELECT count(*) FROM inventory_reservation") == 2


async def test_an_idempotency_key_of_the_longest_allowed_length_places_its_order(
    shop: Shop,
) -> None:
    for length in (199, 200):
        key = f"{length}-" + "k" * (length - len(f"{length}-"))
        placed = await shop.place(key, [("TEE-1", 1), ("MUG-1", 1)])
        assert placed.get("errors") is None, placed
        assert placed["data"]["placeOrder"]["created"] is True
        again = await shop.place(key, [("TEE-1", 1), ("MUG-1", 1)])
        assert again["data"]["placeOrder"]["created"] is False
    too_long = await shop.place("k" * 201, [("TEE-1", 1)])
    assert [e["extensions"]["code"] for e in too_long["errors"]] == ["BAD_USER_INPUT"]


async def test_a_key_reused_with_another_basket_is_refused_and_changes_nothing(
    shop: Shop,
) -> None:
    key = f"k-{uuid.uuid4()}"
    await shop.place(key, [("TEE-1", 2), ("MUG-1", 1)])
    reused = await shop.place(key, [("TEE-1", 3), ("MUG-1", 1)])

    assert reused["data"] is None
    assert [e["extensions"]["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 1
    assert await shop.scalar("inventory", "SELECT count(*) FROM inventory_reservation") == 2
    held = await shop.stock("TEE-1")
    assert held["reserved"] + held["committed"] == 2


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_twenty_concurrent_repeats_make_one_order_and_one_reservation_per_line(
    shop: Shop,
) -> None:
    key = f"k-{uuid.uuid4()}"

    bodies = await asyncio.gather(
        *(shop.place(key, [("TEE-1", 2), ("MUG-1", 3)]) for _ in range(20))
    )

    assert [codes(body) for body in bodies] == [[]] * 20
    ids = {body["data"]["placeOrder"]["order"]["id"] for body in bodies}
    assert len(ids) == 1
    assert sum(body["data"]["placeOrder"]["created"] for body in bodies) == 1
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 1
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_lines") == 2
    reservations = await shop.scalar(
        "inventory",
        "SELECT count(*) FROM inventory_reservation WHERE idempotency_key LIKE :k",
        k=f"{key}:%",
    )
    assert reservations == 2
    await shop.settle()
    created = await shop.scalar(
        "orders", "SELECT count(*) FROM orders_outbox WHERE type = 'OrderCreated'"
    )
    assert created == 1
    assert (await shop.stock("TEE-1"))["available"] == 28


def out_of_stock(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in body["errors"] if e["extensions"]["code"] == "INSUFFICIENT_STOCK"]


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_two_hundred_concurrent_checkouts_sell_exactly_the_fifty_units_there_are(
    shop: Shop,
) -> None:
    bodies = await asyncio.gather(
        *(shop.place(f"flash-{n}-{uuid.uuid4()}", [("FLASH-1", 1)]) for n in range(200))
    )

    sold = [body for body in bodies if not body.get("errors")]
    refused = [body for body in bodies if body.get("errors")]
    assert len(sold) == 50
    other_errors = [e for b in refused for e in b["errors"] if e not in out_of_stock(b)]
    assert other_errors == []
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 50
    assert (
        await shop.scalar(
            "orders", "SELECT coalesce(sum(quantity), 0) FROM orders_lines WHERE sku = 'FLASH-1'"
        )
        == 50
    )
    assert (
        await shop.scalar(
            "inventory",
            "SELECT coalesce(sum(quantity), 0) FROM inventory_reservation WHERE sku = 'FLASH-1'",
        )
        == 50
    )
    await shop.settle()
    stock = await shop.stock("FLASH-1")
    assert stock == {"onHand": 50, "committed": 50, "reserved": 0, "available": 0}
    # Nothing the reservations and commitments hold exceeds what is on hand.
    held = await shop.scalar(
        "inventory",
        "SELECT s.on_hand - s.committed - coalesce((SELECT sum(r.quantity) FROM "
        "inventory_reservation r WHERE r.sku = s.sku AND r.location_id = s.location_id "
        "AND r.status = 'ACTIVE'), 0) FROM inventory_stock s WHERE s.sku = 'FLASH-1'",
    )
    assert held == 0


async def test_the_correlation_id_reaches_the_order_and_its_events(shop: Shop) -> None:
    correlation_id = f"checkout-{uuid.uuid4().hex[:12]}"

    body = await shop.place(
        f"k-{uuid.uuid4()}", [("TEE-1", 1)], **{"X-Correlation-ID": correlation_id}
    )

    order = body["data"]["placeOrder"]["order"]
    assert order["correlationId"] == correlation_id
    await shop.settle()
    for sql in (
        "SELECT correlation_id FROM orders_orders",
        "SELECT correlation_id FROM orders_outbox WHERE type = 'OrderCreated'",
        "SELECT correlation_id FROM inventory_outbox WHERE type = 'ReservationCreated'",
        "SELECT correlation_id FROM inventory_outbox WHERE type = 'ReservationConsumed'",
    ):
        assert await shop.scalar(sql.split()[3].split("_")[0], sql) == correlation_id, sql


async def test_a_promotion_paused_for_low_stock_in_the_region_no_longer_lowers_the_price(
    shop: Shop,
) -> None:
    now = shop.domains["pricing"].clock.now()
    terms = pricing.build_terms(
        name="Tees 10% off while stock lasts",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        kind="PERCENT_OFF",
        percent="10",
        skus=["TEE-1"],
        low_stock_threshold=5,
    )
    promotions = shop.domains["pricing"]
    await pricing.create_promotion(promotions.uow(), terms, promotion_id="tees-10")
    await pricing.activate_promotion(promotions.uow(), "tees-10")

    before = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1)])
    await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 25)])  # 4 units left in the region
    await shop.settle()
    after = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1)])

    def line_total(body: dict[str, Any]) -> str:
        return str(body["data"]["placeOrder"]["order"]["lines"][0]["lineTotal"]["amount"])

    assert line_total(before) == "18.00"
    assert line_total(after) == "20.00"
