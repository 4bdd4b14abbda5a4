"""Loads the demo retailer's prices and promotions into the pricing domain, through its
service layer: SKU facts, EUR and USD price lists, the marketplace's own list in pounds, and
promotions past, active and scheduled.

Promotions are placed relative to the domain's clock,
so the demo always shows one ended, two active and one scheduled for the next weekend.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domains.pricing import imports, service
from domains.pricing.bootstrap import PricingDomain
from domains.pricing.model import DiscountKind, Stacking, as_utc
from domains.pricing.repository import fetch_promotions
from retailgraph.demo.catalog import MARKETPLACE, MARKETPLACE_CURRENCY, DemoCatalog

ENDED = "demo-spring-clearance"
CATEGORY_SALE = "demo-outdoor-20"
STORE_MULTIBUY = "demo-store-buy2get1"
WEEKEND = "demo-weekend-sale"
PROMOTION_IDS = (ENDED, CATEGORY_SALE, STORE_MULTIBUY, WEEKEND)


def next_weekend(now: datetime) -> tuple[datetime, datetime]:
    """Saturday 00:00 to Monday 00:00 (exclusive, i.e. through Sunday 23:59) UTC, after today."""
    midnight = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    saturday = midnight + timedelta(days=(5 - midnight.weekday()) % 7 or 7)
    return saturday, saturday + timedelta(days=2)


async def load(domain: PricingDomain, catalog: DemoCatalog) -> None:
    """Load prices and promotions; a no-op once the demo promotions are there."""
    async with domain.engine.connect() as conn:
        if len(await fetch_promotions(conn, list(PROMOTION_IDS))) == len(PROMOTION_IDS):
            return
    now = as_utc(domain.clock.now())
    await imports.register_skus(
        domain.uow(),
        [imports.SkuFacts(item.sku, item.category, item.tax_rate) for item in catalog.items],
    )
    for currency in catalog.currencies:
        rows = [
            imports.PriceRow(item.sku, currency, item.base_prices[currency])
            for item in catalog.items
        ]
        report = await imports.import_price_list(domain.uow, currency, rows, sales=domain.sales)
        if report.rejected:
            raise RuntimeError(f"the demo price list has bad rows: {report.rejected[:3]}")
    if domain.sales.sells_in(MARKETPLACE) and domain.sales.prices_in(MARKETPLACE_CURRENCY):
        marketplace_rows = [
            imports.PriceRow(item.sku, MARKETPLACE_CURRENCY, item.marketplace_price)
            for item in catalog.items
            if item.marketplace_price is not None
        ]
        report = await imports.import_price_list(
            domain.uow,
            MARKETPLACE_CURRENCY,
            marketplace_rows,
            channel=MARKETPLACE,
            sales=domain.sales,
        )
        if report.rejected:
            raise RuntimeError(f"the marketplace price list has bad rows: {report.rejected[:3]}")
    await _load_promotions(domain, catalog, now)


async def _load_promotions(domain: PricingDomain, catalog: DemoCatalog, now: datetime) -> None:
    day = timedelta(days=1)
    multibuy_skus = [i.sku for i in catalog.items if i.category == "home/kitchen"][:40]
    weekend_start, weekend_end = next_weekend(now)
    featured = list(catalog.featured_skus)
    plans = [
        (
            ENDED,
            service.build_terms(
                name="Spring clearance: 30% off footwear",
                starts_at=now - 60 * day,
                ends_at=now - 30 * day,
                kind=DiscountKind.PERCENT_OFF,
                percent="30",
                categories=["footwear"],
            ),
            now - 60 * day,
        ),
        (
            CATEGORY_SALE,
            service.build_terms(
                name="20% off everything outdoor",
                starts_at=now - 7 * day,
                ends_at=now + 21 * day,
                kind=DiscountKind.PERCENT_OFF,
                percent="20",
                categories=["outdoor"],
                priority=10,
                low_stock_threshold=5,
                # Without it a pause stays until an operator lifts it, whatever arrives.
                auto_resume=True,
            ),
            now - 7 * day,
        ),
        (
            STORE_MULTIBUY,
            service.build_terms(
                name="Kitchen: buy 2, get 1 free in store",
                starts_at=now - 3 * day,
                ends_at=now + 30 * day,
                kind=DiscountKind.BUY_X_GET_Y,
                buy=2,
                get=1,
                skus=multibuy_skus,
                channels=["store"],
                stacking=Stacking.STACKABLE,
            ),
            now - 3 * day,
        ),
        (
            WEEKEND,
            service.build_terms(
                name="Weekend sale: 15% off featured and tops",
                starts_at=weekend_start,
                ends_at=weekend_end,
                kind=DiscountKind.PERCENT_OFF,
                percent="15",
                skus=featured,
                categories=["apparel/tops"],
                channels=["web", "app", "store"],
                low_stock_threshold=3,
                auto_resume=True,
            ),
            now - day,
        ),
    ]
    async with domain.engine.connect() as conn:
        existing = await fetch_promotions(conn, list(PROMOTION_IDS))
    for promotion_id, terms, created_at in plans:
        if promotion_id in existing:
            continue
        await service.create_promotion(
            domain.uow(), terms, promotion_id=promotion_id, at=created_at
        )
        await service.activate_promotion(domain.uow(), promotion_id, at=created_at)
    if WEEKEND not in existing:
        # A second version, so rolling back to the 15% terms can be tried by hand.
        better = service.build_terms(
            name="Weekend sale: 20% off featured and tops",
            starts_at=weekend_start,
            ends_at=weekend_end,
            kind=DiscountKind.PERCENT_OFF,
            percent="20",
            skus=featured,
            categories=["apparel/tops"],
            channels=["web", "app", "store"],
            low_stock_threshold=3,
            auto_resume=True,
        )
        await service.publish_promotion_version(domain.uow(), WEEKEND, better, at=now)
