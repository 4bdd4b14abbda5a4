"""An order keeps the prices of its checkout: a base price changed or scheduled afterwards,
through the gateway, prices the next order and never an order placed already."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.e2e.checkout.conftest import Shop

IMPORT = """mutation ($rows: [PriceRowInput!]!, $from: DateTime) {
  importPriceList(currency: "EUR", rows: $rows, effectiveFrom: $from) { changed rejected { code } }
}"""
ORDER = """query ($id: ID!) { order(id: $id) {
  lines { sku unitPrice { amount } lineTotal { amount } } totals { total { amount } } } }"""


async def reprice(shop: Shop, sku: str, amount: str, *, effective_from: str | None = None) -> None:
    rows = [{"sku": sku, "currency": "EUR", "amount": amount}]
    body = await shop.post(IMPORT, {"rows": rows, "from": effective_from})
    assert body["data"]["importPriceList"] == {"changed": 1, "rejected": []}, body


async def test_an_order_keeps_the_price_in_effect_at_its_checkout(shop: Shop) -> None:
    placed = (await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 2)]))["data"]["placeOrder"]
    order_id = placed["order"]["id"]
    assert placed["order"]["lines"][0]["unitPrice"]["amount"] == "20.00"

    await reprice(shop, "TEE-1", "25.00")
    later = shop.domains["pricing"].clock.now() + timedelta(days=1)
    await reprice(shop, "FLASH-1", "59.99", effective_from=later.isoformat())

    kept = (await shop.post(ORDER, {"id": order_id}))["data"]["order"]
    assert kept["lines"] == [
        {"sku": "TEE-1", "unitPrice": {"amount": "20.00"}, "lineTotal": {"amount": "40.00"}}
    ]
    assert kept["totals"]["total"]["amount"] == "40.00"
    body = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1), ("FLASH-1", 1)])
    tee, flash = body["data"]["placeOrder"]["order"]["lines"]
    assert tee["unitPrice"]["amount"] == "25.00", "the new price prices the next checkout"
    assert flash["unitPrice"]["amount"] == "49.99", "a scheduled price waits for its moment"
