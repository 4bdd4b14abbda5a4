"""The demo loader fills pricing with the demo retailer's prices and promotions, once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from adapters.db.engine import create_engine
from domains.pricing import tables
from domains.pricing.app import create_app
from kernel.clock import SettableClock
from retailgraph.demo import pricing as demo
from retailgraph.demo.catalog import demo_catalog
from tests.integration.pricing.support import gql
from tests.support import local_runtime, serving

# A Wednesday: the scheduled promotion belongs to Saturday 25th and Sunday 26th.
REFERENCE = datetime(2026, 11, 18, 10, tzinfo=UTC)


def test_next_weekend_runs_from_saturday_to_the_end_of_sunday() -> None:
    assert demo.next_weekend(REFERENCE) == (
        datetime(2026, 11, 21, tzinfo=UTC),
        datetime(2026, 11, 23, tzinfo=UTC),
    )
    saturday = datetime(2026, 11, 21, 9, tzinfo=UTC)
    assert demo.next_weekend(saturday)[0] == datetime(2026, 11, 28, tzinfo=UTC)


async def test_demo_loads_once_and_the_subgraph_answers_a_shopper(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pricing.db'}")
    catalog = demo_catalog()
    app = create_app(local_runtime(clock=SettableClock(REFERENCE)), engine=engine)
    try:
        async with serving(app, "http://pricing") as http:
            await demo.load(app.state.domain, catalog)
            async with engine.connect() as conn:
                events = (
                    await conn.execute(select(func.count()).select_from(tables.outbox))
                ).scalar()
            await demo.load(app.state.domain, catalog)
            async with engine.connect() as conn:
                again = (
                    await conn.execute(select(func.count()).select_from(tables.outbox))
                ).scalar()
            assert again == events

            at = REFERENCE.isoformat()
            statuses = await gql(
                http,
                "query ($at: DateTime) { promotions { id status(at: $at) currentVersion } }",
                at=at,
            )
            assert {
                p["id"]: (p["status"], p["currentVersion"]) for p in statuses["data"]["promotions"]
            } == {
                demo.ENDED: ("ENDED", 1),
                demo.CATEGORY_SALE: ("ACTIVE", 1),
                demo.STORE_MULTIBUY: ("ACTIVE", 1),
                demo.WEEKEND: ("SCHEDULED", 2),
            }

            tent = next(i for i in catalog.items if i.category == "outdoor")
            mug = next(i for i in catalog.items if i.category == "home/kitchen")
            query = """query ($r: [_Any!]!, $at: DateTime, $lines: [QuoteLineInput!]!) {
              _entities(representations: $r) { ... on Product { sku
                eur: price(channel: "web", currency: "EUR", at: $at) { base { amount }
                  promotional { amount } appliedPromotions { promotionId } }
                usd: price(channel: "app", currency: "USD", at: $at) { base { amount currency } }
                promotions(at: $at) { id } } }
              quote(lines: $lines, channel: "store", currency: "EUR", at: $at) {
                lines { sku lineDiscount { amount } appliedPromotions { promotionId } }
                total { amount } } }"""
            body = await gql(
                http,
                query,
                r=[{"__typename": "Product", "sku": tent.sku}],
                at=at,
                lines=[{"sku": mug.sku, "quantity": 3}],
            )
    finally:
        await engine.dispose()
    assert "errors" not in body, body
    product = body["data"]["_entities"][0]
    assert product["eur"]["base"]["amount"] == str(tent.base_prices["EUR"])
    assert product["eur"]["appliedPromotions"] == [{"promotionId": demo.CATEGORY_SALE}]
    assert product["usd"]["base"] == {"amount": str(tent.base_prices["USD"]), "currency": "USD"}
    assert product["promotions"] == [{"id": demo.CATEGORY_SALE}]
    line = body["data"]["quote"]["lines"][0]
    assert line["appliedPromotions"] == [{"promotionId": demo.STORE_MULTIBUY}]
    assert line["lineDiscount"]["amount"] == str(mug.base_prices["EUR"])
