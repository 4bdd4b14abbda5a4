"""Inventory's migrations build exactly the tables its models describe."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from domains.inventory import tables


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine, "inventory", tables.metadata)
    await migrations.check(engine, "inventory", tables.metadata)


async def test_upgrading_twice_keeps_the_schema(engine: AsyncEngine) -> None:
    await migrations.upgrade(engine, "inventory", tables.metadata)
    await migrations.upgrade(engine, "inventory", tables.metadata)
    await migrations.check(engine, "inventory", tables.metadata)
