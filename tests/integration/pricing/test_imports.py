"""Price list imports: validated row by row, reported, never stopped by a bad row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from domains.pricing import imports, tables
from domains.pricing.errors import UnknownChannel, UnsupportedCurrency
from domains.pricing.repository import fetch_sku_prices
from tests.integration.pricing.support import NOW, running_domain, seed_prices


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine, "pricing", tables.metadata)
    await migrations.check(engine, "pricing", tables.metadata)


async def test_price_import_rejects_bad_rows_and_keeps_the_good_ones(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        rows = [
            imports.PriceRow("TOP-1", "EUR", "21.00"),
            imports.PriceRow("NOPE-1", "EUR", "5.00"),
            imports.PriceRow("TOP-2", "EUR", "-1.00"),
            imports.PriceRow("MUG-1", "USD", "10.00"),
            imports.PriceRow("TENT-1", "EUR", "abc"),
            imports.PriceRow("TOP-1", "EUR", "22.00"),
            imports.PriceRow("MUG-1", "EUR", "9.99"),
        ]
        report = await imports.import_price_list(domain.uow, "EUR", rows, batch_size=3)
        assert [(r.index, r.sku, r.code) for r in report.rejected] == [
            (1, "NOPE-1", "UNKNOWN_SKU"),
            (2, "TOP-2", "NEGATIVE_PRICE"),
            (3, "MUG-1", "CURRENCY_MISMATCH"),
            (4, "TENT-1", "INVALID_AMOUNT"),
        ]
        assert (report.received, report.changed, report.unchanged) == (7, 2, 1)
        async with engine.connect() as conn:
            found = await fetch_sku_prices(
                conn, [("TOP-1", "web", "EUR"), ("TOP-2", "web", "EUR")], domain.clock.now()
            )
        # rows in different batches: the later one is the ERP's latest word
        assert found[("TOP-1", "web", "EUR")].amount == Decimal("22.00")
        assert found[("TOP-2", "web", "EUR")].amount == Decimal("35.50")


async def test_price_import_records_price_changed_per_sku_only_for_changes(
    engine: AsyncEngine,
) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        rows = [imports.PriceRow("TOP-1", "EUR", "25.00"), imports.PriceRow("MUG-1", "EUR", "9.99")]
        await imports.import_price_list(domain.uow, "EUR", rows)
        again = await imports.import_price_list(domain.uow, "EUR", rows)
        assert (again.changed, again.unchanged) == (0, 2)
        async with engine.connect() as conn:
            events = (
                await conn.execute(
                    select(tables.outbox.c.partition_key, tables.outbox.c.payload)
                    .where(
                        tables.outbox.c.type == "PriceChanged",
                        tables.outbox.c.partition_key == "TOP-1",
                    )
                    .order_by(tables.outbox.c.seq)
                )
            ).all()
        changes = [(e.payload["oldAmount"], e.payload["newAmount"]) for e in events]
        assert changes[-1] == ("20.00", "25.00")
        assert len([c for c in changes if c[1] == "25.00"]) == 1


async def test_price_import_reports_progress_per_batch(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        seen: list[tuple[int, int]] = []
        rows = [imports.PriceRow("TOP-1", "EUR", f"{20 + i}.00") for i in range(5)]
        await imports.import_price_list(
            domain.uow, "EUR", rows, batch_size=2, on_progress=lambda d, t: seen.append((d, t))
        )
        assert seen == [(2, 5), (4, 5), (5, 5)]


async def test_channel_price_list_overrides_the_all_channel_price(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        await imports.import_price_list(
            domain.uow, "EUR", [imports.PriceRow("TOP-1", "EUR", "18.00")], channel="store"
        )
        async with engine.connect() as conn:
            keys = [("TOP-1", "store", "EUR"), ("TOP-1", "web", "EUR"), ("TOP-1", "app", "USD")]
            found = await fetch_sku_prices(conn, keys, domain.clock.now())
        assert [found[k].amount for k in keys] == [
            Decimal("18.00"),
            Decimal("20.00"),
            Decimal("22.00"),
        ]


async def test_price_import_refuses_an_unknown_currency_or_channel(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        with pytest.raises(UnsupportedCurrency):
            await imports.import_price_list(domain.uow, "JPY", [])
        with pytest.raises(UnknownChannel):
            await imports.import_price_list(domain.uow, "EUR", [], channel="fax")


async def test_sku_registration_updates_category_and_tax_rate(engine: AsyncEngine) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        changed = await imports.register_skus(
            domain.uow(),
            [
                imports.SkuFacts("MUG-1", "home/dining", Decimal("0.07")),
                imports.SkuFacts("TOP-1", "apparel/tops", Decimal("0.19")),
            ],
        )
        assert changed == 1
        async with engine.connect() as conn:
            found = await fetch_sku_prices(conn, [("MUG-1", "web", "EUR")], domain.clock.now())
        assert found[("MUG-1", "web", "EUR")].category == "home/dining"


async def test_prices_stored_before_their_history_become_its_first_rows(
    engine: AsyncEngine,
) -> None:
    await migrations.upgrade(engine, "pricing", tables.metadata, "pricing_0005")
    updated = NOW - timedelta(days=3)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO pricing_sku (sku, category, tax_rate, updated_at) "
                "VALUES ('OLD-1', NULL, '0.19', :at)"
            ),
            {"at": updated},
        )
        await conn.execute(
            text(
                "INSERT INTO pricing_base_price (sku, currency, channel, amount, updated_at) "
                "VALUES ('OLD-1', 'EUR', '*', '12.50', :at)"
            ),
            {"at": updated},
        )
    await migrations.upgrade(engine, "pricing", tables.metadata)

    async with engine.connect() as conn:
        before = await fetch_sku_prices(
            conn, [("OLD-1", "web", "EUR")], updated - timedelta(seconds=1)
        )
        since = await fetch_sku_prices(conn, [("OLD-1", "web", "EUR")], updated)
        announced = (await conn.execute(select(tables.base_prices.c.announced_at))).scalar_one()
    assert before[("OLD-1", "web", "EUR")].amount is None
    assert since[("OLD-1", "web", "EUR")].amount == Decimal("12.50")
    assert announced is not None, "in effect already: nothing left to announce"
