"""Promotion use cases on real storage: versions, transitions, events and the read model."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache import MemoryStore
from domains.pricing import imports, service, tables
from domains.pricing.bootstrap import start
from domains.pricing.errors import (
    InvalidStatusTransition,
    NoPreviousVersion,
    PricingError,
    PromotionNotFound,
)
from domains.pricing.model import PromotionStatus
from domains.pricing.repository import fetch_promotions
from tests.integration.pricing.support import (
    DAY,
    NOW,
    live_promotion,
    percent_terms,
    running_domain,
    seed_prices,
    settle,
)
from tests.support import local_runtime


async def test_promotion_lifecycle_records_one_event_each_keyed_by_promotion(
    engine: AsyncEngine,
) -> None:
    async with running_domain(engine) as domain:
        created = await service.create_promotion(domain.uow(), percent_terms("20"), at=NOW)
        pid = created.id
        await service.publish_promotion_version(domain.uow(), pid, percent_terms("30"), at=NOW)
        await service.activate_promotion(domain.uow(), pid, at=NOW)
        await service.pause_promotion(domain.uow(), pid, at=NOW)
        await service.activate_promotion(domain.uow(), pid, at=NOW)
        rolled = await service.rollback_promotion(domain.uow(), pid, at=NOW)
        assert rolled.status(NOW) is PromotionStatus.ROLLED_BACK
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(tables.outbox.c.type, tables.outbox.c.payload)
                    .where(tables.outbox.c.partition_key == pid)
                    .order_by(tables.outbox.c.seq)
                )
            ).all()
            stored = (await fetch_promotions(conn, [pid]))[pid]
        assert [r.type for r in rows] == [
            "PromotionCreated",
            "PromotionVersionPublished",
            "PromotionActivated",
            "PromotionPaused",
            "PromotionActivated",
            "PromotionRolledBack",
        ]
        assert rows[-1].payload["version"] == 1
        assert stored == rolled
        assert [v.terms.rule.percent for v in stored.versions] == [20, 30]


async def test_unknown_promotion_is_reported_by_every_use_case(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        for use_case in (
            service.activate_promotion,
            service.pause_promotion,
            service.rollback_promotion,
        ):
            with pytest.raises(PromotionNotFound):
                await use_case(domain.uow(), "missing", at=NOW)
        with pytest.raises(PromotionNotFound):
            await service.publish_promotion_version(domain.uow(), "missing", percent_terms())


async def test_invalid_transitions_change_nothing(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        promotion = await service.create_promotion(domain.uow(), percent_terms(), at=NOW)
        with pytest.raises(InvalidStatusTransition):
            await service.pause_promotion(domain.uow(), promotion.id, at=NOW)
        with pytest.raises(NoPreviousVersion):
            await service.rollback_promotion(domain.uow(), promotion.id, at=NOW)
        async with engine.connect() as conn:
            stored = (await fetch_promotions(conn, [promotion.id]))[promotion.id]
            types = (
                await conn.execute(
                    select(tables.outbox.c.type).where(
                        tables.outbox.c.partition_key == promotion.id
                    )
                )
            ).scalars()
            assert list(types) == ["PromotionCreated"]
        assert stored.status(NOW) is PromotionStatus.DRAFT


async def test_concurrent_publishes_get_distinct_version_numbers(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        promotion = await service.create_promotion(domain.uow(), percent_terms(), at=NOW)
        await asyncio.gather(
            *(
                service.publish_promotion_version(
                    domain.uow(), promotion.id, percent_terms(str(10 + i)), at=NOW
                )
                for i in range(5)
            )
        )
        async with engine.connect() as conn:
            stored = (await fetch_promotions(conn, [promotion.id]))[promotion.id]
        assert [v.number for v in stored.versions] == [1, 2, 3, 4, 5, 6]
        assert stored.current_version == 6


async def test_promotion_changes_reprice_through_the_read_model(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        assert await domain.read_models.live_offers() == []
        await live_promotion(domain, percent_terms("20"), "promo-rm")
        assert [o.promotion_id for o in await domain.read_models.live_offers()] == ["promo-rm"]
        await service.publish_promotion_version(
            domain.uow(), "promo-rm", percent_terms("50"), at=NOW
        )
        offers = await domain.read_models.live_offers()
        assert offers[0].terms.rule.percent == 50
        await service.rollback_promotion(domain.uow(), "promo-rm", at=NOW)
        offers = await domain.read_models.live_offers()
        assert offers[0].terms.rule.percent == 20
        await service.pause_promotion(domain.uow(), "promo-rm", at=NOW)
        assert await domain.read_models.live_offers() == []


async def test_price_changes_refresh_the_cached_base_price(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        key = ("TOP-1", "app", "EUR")
        assert (await domain.read_models.sku_prices([key], domain.clock.now()))[
            0
        ].amount == Decimal("20.00")
        await imports.import_price_list(
            domain.uow, "EUR", [imports.PriceRow("TOP-1", "EUR", "24.00")]
        )
        assert (await domain.read_models.sku_prices([key], domain.clock.now()))[
            0
        ].amount == Decimal("24.00")


async def test_quote_prices_lines_with_promotions_and_tax(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        await live_promotion(domain, percent_terms("20"), "tops-20")
        await live_promotion(
            domain,
            percent_terms(
                kind="BUY_X_GET_Y",
                percent=None,
                buy=2,
                get=1,
                categories=[],
                skus=["MUG-1"],
                channels=["store"],
                stacking="STACKABLE",
            ),
            "mugs-b2g1",
        )
        quote = await service.quote(
            domain.uow(), [("TOP-1", 2), ("MUG-1", 3)], channel="store", currency="EUR", at=NOW
        )
        top, mug = quote.lines
        assert (top.unit_promotional, top.line_total) == (Decimal("16.00"), Decimal("32.00"))
        assert (mug.line_discount, mug.line_total) == (Decimal("9.99"), Decimal("19.98"))
        assert [a.promotion_id for a in mug.applied] == ["mugs-b2g1"]
        assert quote.total == Decimal("51.98")
        assert quote.subtotal - quote.discount == quote.total
        assert quote.net + quote.tax == quote.total
        web = await service.quote(
            domain.uow(), [("MUG-1", 3)], channel="web", currency="EUR", at=NOW
        )
        assert web.total == Decimal("29.97")
        later = await service.quote(
            domain.uow(), [("TOP-1", 1)], channel="web", currency="EUR", at=NOW + 30 * DAY
        )
        assert later.total == Decimal("20.00")


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([("TOP-1", 0)], "INVALID_QUANTITY"),
        ([("TOP-1", -2)], "INVALID_QUANTITY"),
        ([("NOPE", 1)], "UNKNOWN_SKU"),
        ([], "EMPTY_QUOTE"),
    ],
)
async def test_quote_rejects_bad_lines_with_a_code(
    engine: AsyncEngine, lines: list[tuple[str, int]], code: str
) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        with pytest.raises(PricingError) as error:
            await service.quote(domain.uow(), lines, channel="web", currency="EUR", at=NOW)
        assert error.value.code == code


async def test_other_replicas_drop_their_cache_when_the_events_arrive(
    engine: AsyncEngine,
) -> None:
    shared = local_runtime()
    writer = await start(shared, engine=engine)
    elsewhere = type(shared)(
        bus=shared.bus, cache=MemoryStore(), migrate_on_start=False, clock=shared.clock
    )
    reader = await start(elsewhere, engine=engine)
    # Both replicas serve pricing, so both consume its events.
    shared.consume(writer.consumers())
    elsewhere.consume(reader.consumers())
    try:
        await seed_prices(writer)
        assert await reader.read_models.live_offers() == []
        await live_promotion(writer, percent_terms("20"), "seen-elsewhere")
        await settle(writer)
        assert [o.promotion_id for o in await reader.read_models.live_offers()] == [
            "seen-elsewhere"
        ]
    finally:
        await reader.close()
        await writer.close()
