"""The demo's marketplace, through `retailgraph run`'s app: a channel that is data, with its
own allocation (30% of DC North's sellable stock), its own price list in pounds, and
orders that are priced, reserved and posted to the ERP in it like any other."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from retailgraph.demo.catalog import MARKETPLACE, MARKETPLACE_CURRENCY, demo_catalog
from retailgraph.demo.inventory import MARKETPLACE_SHARE
from tests.e2e.operations.support import AS_OPERATOR, AS_STOREFRONT, Caller, embedded, until

__all__ = ["embedded"]

PRODUCT = """
query ($sku: ID!) {
  product(sku: $sku) {
    publications { channel published }
    publishedIn(channel: "amazon")
    amazon: price(channel: "amazon", currency: "GBP") { base { amount currency } }
    webInPounds: price(channel: "web", currency: "GBP") { base { amount } }
    marketplace: availability(channel: "amazon") { available locations { locationId allocated } }
    web: availability(channel: "web") { locations { locationId allocated } }
  }
}
"""
PLACE = """
mutation ($key: String!, $sku: ID!, $quantity: Int!, $channel: String!, $currency: String!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: $channel, currency: $currency
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC-NORTH" }
    lines: [{ sku: $sku, quantity: $quantity }]
  }) { order { id channel totals { subtotal { amount currency } } } }
}
"""
ERP_SYNC = "query ($id: ID!) { order(id: $id) { erpSync { status erpDocumentId } } }"


def marketplace_item() -> tuple[str, Decimal]:
    """A SKU the demo sells on the marketplace, with the marketplace's price for it."""
    catalog = demo_catalog()
    at_north = {row.sku for row in catalog.stock if row.location_id == "DC-NORTH"}
    item = next(i for i in catalog.items if i.marketplace_price is not None and i.sku in at_north)
    assert item.marketplace_price is not None
    return item.sku, item.marketplace_price


async def place(caller: Caller, sku: str, quantity: int, channel: str, currency: str) -> Any:
    return await caller.answer(
        PLACE,
        AS_STOREFRONT,
        key=f"marketplace-{uuid.uuid4()}",
        sku=sku,
        quantity=quantity,
        channel=channel,
        currency=currency,
    )


async def test_the_marketplace_sells_from_its_own_share_at_its_own_prices_in_pounds(
    embedded: tuple[Caller, Any],
) -> None:
    caller, _ = embedded
    sku, price = marketplace_item()
    product = (await caller.post(PRODUCT, AS_OPERATOR, sku=sku))["product"]

    assert {"channel": MARKETPLACE, "published": True} in product["publications"]
    assert product["publishedIn"] is True
    assert product["amazon"]["base"] == {"amount": str(price), "currency": "GBP"}
    assert product["webInPounds"] is None  # pounds are the marketplace's list only

    web_at_north = next(
        int(loc["allocated"])
        for loc in product["web"]["locations"]
        if loc["locationId"] == "DC-NORTH"
    )
    [north] = product["marketplace"]["locations"]
    assert north["locationId"] == "DC-NORTH"
    share = int(north["allocated"])
    assert share == web_at_north * MARKETPLACE_SHARE // 100
    assert product["marketplace"]["available"] == share

    refused = await place(caller, sku, share + 1, MARKETPLACE, MARKETPLACE_CURRENCY)
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "INSUFFICIENT_STOCK"
    assert (error["extensions"]["channel"], error["extensions"]["available"]) == (
        MARKETPLACE,
        share,
    )

    placed = await place(caller, sku, 2, MARKETPLACE, MARKETPLACE_CURRENCY)
    assert "errors" not in placed, placed
    order = placed["data"]["placeOrder"]["order"]
    assert order["channel"] == MARKETPLACE
    assert order["totals"]["subtotal"] == {"amount": str(price * 2), "currency": "GBP"}

    after = (await caller.post(PRODUCT, AS_OPERATOR, sku=sku))["product"]
    assert int(after["marketplace"]["locations"][0]["allocated"]) == (
        (web_at_north - 2) * MARKETPLACE_SHARE // 100
    )

    async def posted() -> bool:
        sync = (await caller.post(ERP_SYNC, AS_OPERATOR, id=order["id"]))["order"]["erpSync"]
        return bool(sync["status"] == "POSTED" and sync["erpDocumentId"])

    await until(posted, "the marketplace order posted to the ERP")


async def test_a_channel_or_currency_the_retailer_does_not_sell_in_is_refused_at_checkout(
    embedded: tuple[Caller, Any],
) -> None:
    caller, _ = embedded
    sku, _ = marketplace_item()
    unknown_channel = await place(caller, sku, 1, "zalando", "EUR")
    assert [e["extensions"]["code"] for e in unknown_channel["errors"]] == ["BAD_USER_INPUT"]
    assert "amazon" in unknown_channel["errors"][0]["message"]
    unknown_currency = await place(caller, sku, 1, MARKETPLACE, "JPY")
    assert [e["extensions"]["code"] for e in unknown_currency["errors"]] == ["BAD_USER_INPUT"]
    refused_price = await caller.answer(
        'query ($sku: ID!) { product(sku: $sku) { price(channel: "zalando", currency: "EUR")'
        " { base { amount } } } }",
        AS_OPERATOR,
        sku=sku,
    )
    assert [e["extensions"]["code"] for e in refused_price["errors"]] == ["UNKNOWN_CHANNEL"]
