"""Loads the demo retailer's catalogue into the products domain, through its service layer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domains.products import repository, service
from domains.products.bootstrap import ProductsDomain
from retailgraph.demo.catalog import DemoCatalog, DemoItem

# A fixed date keeps the demo identical on every machine and every run.
PUBLISHED_SINCE = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 500


def item_record(item: DemoItem) -> dict[str, Any]:
    """The demo item as the ERP item master would send it."""
    return {
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "brand": item.brand,
        "category": item.category,
        "unit_of_measure": item.unit_of_measure,
        "style": item.style,
        "attributes": dict(item.attributes),
        "variant": dict(item.variant),
        "status": "active",
    }


async def load(domain: ProductsDomain, catalog: DemoCatalog) -> None:
    """Import every demo item and publish it in its channels; a no-op once it is there."""
    skus = [item.sku for item in catalog.items]
    async with domain.engine.connect() as conn:
        if await repository.count_known(conn, skus) == len(skus):
            return
    for start in range(0, len(catalog.items), BATCH):
        batch = catalog.items[start : start + BATCH]
        report = await service.import_items(
            domain.uow(), [item_record(item) for item in batch], at=PUBLISHED_SINCE
        )
        if report.rejected:
            raise RuntimeError(f"the demo catalogue has bad items: {report.rejected[:3]}")
        placements = [(item.sku, channel) for item in batch for channel in item.channels]
        await service.publish_many(domain.uow(), placements, sales=domain.sales, at=PUBLISHED_SINCE)
