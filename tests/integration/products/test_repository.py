"""Listing queries: filters and keyset pages, on both backends."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from domains.products import model, repository, service
from domains.products.bootstrap import ProductsDomain
from tests.integration.products.conftest import make_items


async def _fill(domain: ProductsDomain) -> None:
    items = make_items(styles=6, variants=2)
    items.append({**items[0], "sku": "ODD-1", "name": "Percent 100% polo"})
    items.append({**items[0], "sku": "ODD-2", "name": "Snake_case polo"})
    await service.import_items(domain.uow(), items)
    await service.publish_many(domain.uow(), [("ST-0001-01", "web"), ("ST-0003-02", "web")])
    await service.unpublish_product(domain.uow(), "ST-0003-02", "web")


async def _skus(engine: AsyncEngine, **parts: str) -> list[str]:
    async with engine.connect() as conn:
        return await repository.page_of_skus(
            conn, model.check_filter(**parts), after=None, limit=200
        )


async def test_filter_by_category_matches_the_whole_subtree(domain: ProductsDomain) -> None:
    await _fill(domain)
    tops = await _skus(domain.engine, category="apparel/tops")
    assert tops == await _skus(domain.engine, category="apparel")
    assert await _skus(domain.engine, category="home/kitchen") == [
        "ST-0003-01",
        "ST-0003-02",
        "ST-0006-01",
        "ST-0006-02",
    ]
    assert await _skus(domain.engine, category="apparel/top") == []


async def test_filter_by_brand_and_channel_together(domain: ProductsDomain) -> None:
    await _fill(domain)
    assert await _skus(domain.engine, channel="web") == ["ST-0001-01"]
    assert await _skus(domain.engine, channel="web", brand="Contoso") == []
    assert "ST-0002-01" in await _skus(domain.engine, brand="Contoso")


async def test_search_ignores_case_and_takes_wildcards_literally(domain: ProductsDomain) -> None:
    await _fill(domain)
    assert await _skus(domain.engine, search="MUG") == [
        "ST-0003-01",
        "ST-0003-02",
        "ST-0006-01",
        "ST-0006-02",
    ]
    assert await _skus(domain.engine, search="100%") == ["ODD-1"]
    assert await _skus(domain.engine, search="e_c") == ["ODD-2"]
    assert await _skus(domain.engine, search="%") == ["ODD-1"]


async def test_keyset_pages_walk_every_product_once_in_sku_order(domain: ProductsDomain) -> None:
    await _fill(domain)
    everything = model.check_filter()
    seen: list[str] = []
    after: str | None = None
    async with domain.engine.connect() as conn:
        while page := await repository.page_of_skus(conn, everything, after=after, limit=5):
            seen.extend(page)
            after = page[-1]
        total = await repository.count_products(conn, everything)
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == total == 14
