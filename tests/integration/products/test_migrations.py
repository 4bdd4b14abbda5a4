"""The shipped migrations create exactly the tables the models describe, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from domains.products.repository import metadata, products


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine, "products", metadata)
    await migrations.check(engine, "products", metadata)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert {"products_product", "products_publication", "products_outbox"} <= set(tables)


async def test_upgrading_twice_keeps_the_data(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine, "products", metadata)
    row = {
        "sku": "KEEP-1",
        "name": "n",
        "description": "",
        "brand": "b",
        "category": "c",
        "unit_of_measure": "EA",
        "style": "KEEP",
        "attributes": [],
        "variant_attributes": [],
        "status": "active",
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    async with engine.begin() as conn:
        await conn.execute(insert(products).values(row))
    await migrations.upgrade(engine, "products", metadata)
    async with engine.connect() as conn:
        assert (await conn.execute(select(products.c.sku))).scalars().all() == ["KEEP-1"]
