"""A running products domain on the test's private database, and items to fill it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.products.bootstrap import ProductsDomain, start
from tests.support import local_runtime

COLOURS = ("black", "white", "navy", "red")


def make_items(styles: int = 3, variants: int = 4, prefix: str = "ST") -> list[dict[str, Any]]:
    """ERP item records: ``styles`` styles of ``variants`` colours each."""
    items = []
    for number in range(1, styles + 1):
        style = f"{prefix}-{number:04d}"
        brand = "Northwind" if number % 2 else "Contoso"
        category = "apparel/tops" if number % 3 else "home/kitchen"
        noun = "Polo" if category == "apparel/tops" else "Mug"
        for index in range(1, variants + 1):
            colour = COLOURS[(index - 1) % len(COLOURS)]
            items.append(
                {
                    "sku": f"{style}-{index:02d}",
                    "name": f"{brand} {noun} {colour.title()}",
                    "description": f"A {colour} {noun.lower()}.",
                    "brand": brand,
                    "category": category,
                    "unit_of_measure": "EA",
                    "style": style,
                    "attributes": {"material": "cotton"},
                    "variant": {"colour": colour},
                }
            )
    return items


def unique_prefix() -> str:
    """SKUs nobody else uses, for tests that share one Redis."""
    return f"T{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def domain(engine: AsyncEngine) -> AsyncIterator[ProductsDomain]:
    runtime = local_runtime()
    running = await start(runtime, engine=engine)
    runtime.consume(running.consumers())  # as the subgraph serving it does
    yield running
    await running.close()


async def relayed(domain: ProductsDomain) -> None:
    """Wait until the relay has published (and so delivered) every committed event.

    Delivered events drop cached cards; tests that count cache hits wait for them first.
    """
    async with asyncio.timeout(10):
        while await domain.relay.depth():  # noqa: ASYNC110 - the relay has no idle signal
            await asyncio.sleep(0.01)
