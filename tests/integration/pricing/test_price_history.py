"""Base prices over time through the pricing subgraph, on both databases: `price(at:)`
answers for any moment, a scheduled price is served from its moment on (cached or not)
and announced once, and held changes wait for `approvePriceChanges`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.pricing import tables
from domains.pricing.app import create_app
from kernel.clock import SettableClock
from tests.integration.pricing.support import NOW, PRICED_SINCE, gql, seed_prices, settle
from tests.support import local_runtime, serving

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

PRICE_AT = """query ($at: DateTime) { _entities(representations: [
  {__typename: "Product", sku: "TOP-1"}]) {
  ... on Product { price(channel: "web", currency: "EUR", at: $at) { base { amount } } } } }"""

IMPORT = """mutation ($rows: [PriceRowInput!]!, $from: DateTime) {
  importPriceList(currency: "EUR", rows: $rows, effectiveFrom: $from) {
    changed unchanged held rejected { index sku code reason heldChangeId } } }"""

HELD = """{ heldPriceChanges { id sku channel oldPrice { amount } newPrice { amount }
  changePercent status } }"""

APPROVE = """mutation ($ids: [ID!]!) { approvePriceChanges(ids: $ids) { id status } }"""
DISCARD = """mutation ($ids: [ID!]!) { discardPriceChanges(ids: $ids) { id status } }"""


async def base_at(http: Any, at: Any = None) -> str | None:
    body = await gql(http, PRICE_AT, at=None if at is None else at.isoformat())
    assert "errors" not in body, body
    price = body["data"]["_entities"][0]["price"]
    return None if price is None else str(price["base"]["amount"])


async def price_changes(engine: AsyncEngine, sku: str) -> list[tuple[str, str]]:
    outbox = tables.outbox
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.type == "PriceChanged", outbox.c.partition_key == sku)
            .order_by(outbox.c.seq)
        )
        return [(row.payload["oldAmount"], row.payload["newAmount"]) for row in rows]


async def test_price_at_answers_for_past_and_future_moments(engine: AsyncEngine) -> None:
    clock = SettableClock(NOW)
    app = create_app(local_runtime(clock=clock), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        rows = [{"sku": "TOP-1", "currency": "EUR", "amount": "22.00"}]
        body = await gql(http, IMPORT, rows=rows, **{"from": (NOW + 10 * DAY).isoformat()})
        assert body["data"]["importPriceList"]["changed"] == 1, body
        clock.set(NOW + 20 * DAY)
        body = await gql(http, IMPORT, rows=[{**rows[0], "amount": "23.00"}])
        assert body["data"]["importPriceList"]["changed"] == 1, body

        assert await base_at(http, NOW - PRICED_SINCE - DAY) is None, "not priced yet then"
        assert await base_at(http, NOW - PRICED_SINCE) == "20.00"
        assert await base_at(http, NOW + 10 * DAY - HOUR) == "20.00"
        assert await base_at(http, NOW + 10 * DAY) == "22.00"
        assert await base_at(http, NOW + 20 * DAY) == "23.00"
        assert await base_at(http) == "23.00"


async def test_a_scheduled_price_is_served_from_its_moment_and_announced_once(
    engine: AsyncEngine,
) -> None:
    clock = SettableClock(NOW)
    app = create_app(local_runtime(clock=clock), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        await seed_prices(domain)
        await settle(domain)
        await domain.stop_background()  # the announcements below are this test's passes
        assert await base_at(http) == "20.00"  # cached, before anything is scheduled
        rows = [{"sku": "TOP-1", "currency": "EUR", "amount": "24.00"}]
        body = await gql(http, IMPORT, rows=rows, **{"from": (NOW + HOUR).isoformat()})
        assert body["data"]["importPriceList"]["changed"] == 1, body
        assert await base_at(http) == "20.00"  # cached again, knowing what comes at NOW + 1h
        before = await price_changes(engine, "TOP-1")

        clock.set(NOW + HOUR)
        assert await base_at(http) == "24.00", "the cache never serves a price past its end"
        assert await domain.announce_prices() == 1
        assert await domain.announce_prices() == 0

        assert (await price_changes(engine, "TOP-1"))[len(before) :] == [("20.00", "24.00")]


async def test_a_held_change_waits_for_an_operator_and_applies_once(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        await seed_prices(domain)
        rows = [
            {"sku": "TOP-1", "currency": "EUR", "amount": "45.00"},
            {"sku": "MUG-1", "currency": "EUR", "amount": "10.49"},
        ]
        report = (await gql(http, IMPORT, rows=rows))["data"]["importPriceList"]
        assert (report["changed"], report["held"]) == (1, 1)
        (held,) = report["rejected"]
        assert (held["index"], held["sku"], held["code"]) == (0, "TOP-1", "HELD_FOR_APPROVAL")
        assert await base_at(http) == "20.00"
        listed = (await gql(http, HELD))["data"]["heldPriceChanges"]
        assert listed == [
            {
                "id": held["heldChangeId"],
                "sku": "TOP-1",
                "channel": "*",
                "oldPrice": {"amount": "20.00"},
                "newPrice": {"amount": "45.00"},
                "changePercent": "125.00",
                "status": "HELD",
            }
        ]
        before = await price_changes(engine, "TOP-1")

        for _ in range(2):
            approved = await gql(http, APPROVE, ids=[held["heldChangeId"]])
            assert approved["data"]["approvePriceChanges"] == [
                {"id": held["heldChangeId"], "status": "APPROVED"}
            ]

        assert await base_at(http) == "45.00"
        assert (await price_changes(engine, "TOP-1"))[len(before) :] == [("20.00", "45.00")]
        assert (await gql(http, HELD))["data"]["heldPriceChanges"] == []
        refused = await gql(http, DISCARD, ids=[held["heldChangeId"]])
        assert refused["errors"][0]["extensions"]["code"] == "HELD_CHANGE_DECIDED"
        unknown = await gql(http, APPROVE, ids=["nobody-held-this"])
        assert unknown["errors"][0]["extensions"]["code"] == "HELD_CHANGE_NOT_FOUND"
