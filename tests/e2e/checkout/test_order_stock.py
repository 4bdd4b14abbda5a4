"""What an order's lifecycle does to the stock it holds, through the gateway.

Cancelling gives units back; shipping changes nothing until the ERP's outbound move (a
PICK) takes the units off hand and out of committed together (ADR 0007).
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.checkout.conftest import Shop, codes

ORDER = "id status lines { id sku quantity quantityCancelled quantityShipped }"


async def placed(shop: Shop, lines: list[tuple[str, int]]) -> dict[str, Any]:
    body = await shop.place(f"k-{uuid.uuid4()}", lines)
    assert codes(body) == [], body
    order: dict[str, Any] = body["data"]["placeOrder"]["order"]
    await shop.settle()
    return order


async def step(shop: Shop, mutation: str, order_id: str, **arguments: Any) -> dict[str, Any]:
    """One request for ``mutation`` (each under a new idempotency key)."""
    declared = "".join(f", ${name}: {kind}" for name, (kind, _) in arguments.items())
    passed = "".join(f", {name}: ${name}" for name in arguments)
    body = await shop.post(
        f"mutation($id: ID!, $key: String!{declared}) "
        f"{{ {mutation}(id: $id, idempotencyKey: $key{passed}) {{ {ORDER} }} }}",
        {
            "id": order_id,
            "key": str(uuid.uuid4()),
            **{name: value for name, (_, value) in arguments.items()},
        },
    )
    await shop.settle()
    return body


def line_of(order: dict[str, Any], sku: str) -> str:
    return str(next(line["id"] for line in order["lines"] if line["sku"] == sku))


async def test_an_order_commits_its_reserved_units_once_created(shop: Shop) -> None:
    await placed(shop, [("TEE-1", 3)])

    stock = await shop.stock("TEE-1")

    assert stock == {"onHand": 30, "committed": 3, "reserved": 0, "available": 27}
    assert (
        await shop.scalar(
            "inventory", "SELECT count(*) FROM inventory_reservation WHERE status = 'CONSUMED'"
        )
        == 1
    )


async def test_cancelling_an_order_gives_all_its_units_back(shop: Shop) -> None:
    order = await placed(shop, [("TEE-1", 3), ("MUG-1", 2)])

    body = await step(shop, "cancelOrder", order["id"])

    assert body["data"]["cancelOrder"]["status"] == "CANCELLED"
    assert await shop.stock("TEE-1") == {
        "onHand": 30,
        "committed": 0,
        "reserved": 0,
        "available": 30,
    }
    assert (await shop.stock("MUG-1"))["available"] == 100


async def test_cancelling_part_of_a_line_gives_back_only_those_units(shop: Shop) -> None:
    order = await placed(shop, [("TEE-1", 3), ("MUG-1", 2)])
    lines = [{"lineId": line_of(order, "TEE-1"), "quantity": 1}]

    body = await step(
        shop, "cancelOrderLines", order["id"], lines=("[OrderLineQuantityInput!]!", lines)
    )

    assert body["data"]["cancelOrderLines"]["status"] == "PARTIALLY_CANCELLED"
    assert await shop.stock("TEE-1") == {
        "onHand": 30,
        "committed": 2,
        "reserved": 0,
        "available": 28,
    }
    assert (await shop.stock("MUG-1"))["available"] == 98


async def test_a_shipped_unit_leaves_on_hand_once_when_the_erps_pick_arrives(shop: Shop) -> None:
    order = await placed(shop, [("TEE-1", 3)])
    for mutation in ("confirmOrder", "authorizePayment", "releaseOrderToFulfilment"):
        assert codes(await step(shop, mutation, order["id"])) == []
    shipped = [{"lineId": line_of(order, "TEE-1"), "quantity": 3}]

    body = await step(
        shop, "confirmShipment", order["id"], lines=("[OrderLineQuantityInput!]!", shipped)
    )

    assert body["data"]["confirmShipment"]["status"] == "SHIPPED"
    # Still on hand and committed until the goods leave in the ERP's books.
    assert await shop.stock("TEE-1") == {
        "onHand": 30,
        "committed": 3,
        "reserved": 0,
        "available": 27,
    }
    pick = (
        'mutation { applyStockMovements(movements: [{ type: PICK, sku: "TEE-1", '
        'locationId: "DC-TEST", quantity: 3, sourceDocumentId: "erp-move:77" }]) '
        "{ applied { outcome } } }"
    )
    for _ in range(2):  # the poller re-reads a move inside its overlap window
        assert codes(await shop.post(pick, {})) == []
        assert await shop.stock("TEE-1") == {
            "onHand": 27,
            "committed": 0,
            "reserved": 0,
            "available": 27,
        }


async def test_a_step_the_status_does_not_allow_is_refused_and_moves_no_stock(
    shop: Shop,
) -> None:
    order = await placed(shop, [("TEE-1", 2)])
    early = [{"lineId": line_of(order, "TEE-1"), "quantity": 2}]

    too_early = await step(
        shop, "confirmShipment", order["id"], lines=("[OrderLineQuantityInput!]!", early)
    )
    assert codes(await step(shop, "cancelOrder", order["id"])) == []
    twice = await step(shop, "cancelOrder", order["id"])

    assert codes(too_early) == ["INVALID_TRANSITION"]
    assert codes(twice) == ["INVALID_TRANSITION"]
    assert await shop.stock("TEE-1") == {
        "onHand": 30,
        "committed": 0,
        "reserved": 0,
        "available": 30,
    }
