"""Pricing's read models on the real Redis: cached, shared, and dropped after commits."""

from __future__ import annotations

import uuid
from decimal import Decimal

import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache import RedisStore
from adapters.runtime import Runtime
from domains.pricing import imports
from domains.pricing.bootstrap import start
from tests.support import suite_clock


async def test_prices_cached_in_redis_follow_price_imports(
    engine: AsyncEngine, redis_client: redis.Redis
) -> None:
    sku = f"RDS-{uuid.uuid4().hex[:12]}"
    runtime = Runtime(
        bus=InProcessBus(),
        cache=RedisStore(redis_client),
        migrate_on_start=True,
        clock=suite_clock(),
    )
    domain = await start(runtime, engine=engine)
    try:
        await imports.register_skus(
            domain.uow(), [imports.SkuFacts(sku, "outdoor", Decimal("0.19"))]
        )
        await imports.import_price_list(domain.uow, "EUR", [imports.PriceRow(sku, "EUR", "50.00")])
        key = (sku, "web", "EUR")
        assert (await domain.read_models.sku_prices([key], domain.clock.now()))[
            0
        ].amount == Decimal("50.00")
        assert await redis_client.exists(f"rm:pricing.price:web|EUR|{sku}")
        await imports.import_price_list(domain.uow, "EUR", [imports.PriceRow(sku, "EUR", "45.00")])
        assert (await domain.read_models.sku_prices([key], domain.clock.now()))[
            0
        ].amount == Decimal("45.00")
    finally:
        await domain.close()
