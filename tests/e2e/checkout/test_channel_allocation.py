"""Checkout holds a channel to its allocation at the location, the figure
`availability(channel)` shows, as well as to the physical stock."""

from __future__ import annotations

import uuid

from tests.e2e.checkout.conftest import DC, Shop, codes

SAVE_LOCATION = """
mutation ($id: ID!, $name: String!, $kind: LocationKind!,
          $channels: [ChannelAllocationInput!]!) {
  saveLocation(input: { id: $id, name: $name, kind: $kind, region: "north",
                        channels: $channels }) { id }
}
"""
WEB_AVAILABILITY = """
query { product(sku: "TEE-1") { availability(channel: "web") {
  available locations { locationId allocated }
} } }
"""


async def web_allocated_at_dc(shop: Shop) -> int:
    body = await shop.post(WEB_AVAILABILITY, {})
    locations = body["data"]["product"]["availability"]["locations"]
    return next(int(loc["allocated"]) for loc in locations if loc["locationId"] == DC)


async def allocate(shop: Shop, location: str, kind: str, **web: int) -> None:
    channels = [{"channel": "web", **web}, {"channel": "store"}]
    body = await shop.post(
        SAVE_LOCATION, {"id": location, "name": location, "kind": kind, "channels": channels}
    )
    assert "errors" not in body, body


async def test_a_web_order_beyond_the_webs_cap_at_the_dc_is_refused_with_the_webs_figure(
    shop: Shop,
) -> None:
    await allocate(shop, DC, "DC", cap=10)
    assert await web_allocated_at_dc(shop) == 10  # 30 TEE-1 on hand

    refused = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 15)])
    assert codes(refused) == ["INSUFFICIENT_STOCK"]
    [error] = refused["errors"]
    assert (error["extensions"]["channel"], error["extensions"]["available"]) == ("web", 10)
    assert (await shop.stock("TEE-1"))["reserved"] == 0

    placed = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 10)])
    assert codes(placed) == []


async def test_a_share_limits_checkout_to_what_availability_shows_for_the_channel(
    shop: Shop,
) -> None:
    await allocate(shop, DC, "DC", sharePercent=50)
    shown = await web_allocated_at_dc(shop)
    assert shown == 15  # half of the 30 sellable units

    assert codes(await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", shown + 1)])) == [
        "INSUFFICIENT_STOCK"
    ]
    assert codes(await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 4)])) == []
    # Half of the 26 left: what availability shows now is what checkout allows.
    shown = await web_allocated_at_dc(shop)
    assert shown == 13
    assert codes(await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", shown + 1)])) == [
        "INSUFFICIENT_STOCK"
    ]
    assert codes(await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", shown)])) == []


async def test_a_location_with_a_web_cap_of_zero_sells_nothing_on_the_web(shop: Shop) -> None:
    await allocate(shop, DC, "DC", cap=0)
    assert await web_allocated_at_dc(shop) == 0
    assert codes(await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1)])) == ["INSUFFICIENT_STOCK"]
