"""An orders domain on a private database of each backend, and a way to make orders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache.store import MemoryStore
from adapters.runtime import Runtime
from domains.orders import service
from domains.orders.bootstrap import OrdersDomain, start
from domains.orders.model import NewLine, Order


def runtime() -> Runtime:
    return Runtime(bus=InProcessBus(), cache=MemoryStore(), migrate_on_start=True)


@pytest.fixture
async def domain(engine: AsyncEngine) -> AsyncIterator[OrdersDomain]:
    started = await start(runtime(), engine=engine)
    yield started
    await started.close()


def two_lines() -> list[NewLine]:
    return [
        NewLine("ST-0001-01", 2, Decimal("10.00"), Decimal("8.00"), Decimal("0.19")),
        NewLine("ST-0002-01", 1, Decimal("5.00"), None, Decimal("0.07")),
    ]


async def make_order(domain: OrdersDomain, **overrides: Any) -> Order:
    values: dict[str, Any] = {
        "idempotency_key": f"key-{uuid.uuid4()}",
        "channel": "web",
        "fulfilment_type": "SHIP_FROM_DC",
        "location_id": "DC-NORTH",
        "customer_reference": "cust-1",
        "currency": "EUR",
        "lines": two_lines(),
        "correlation_id": "corr-create",
        **overrides,
    }
    created = await service.create_order(domain.uow(), **values)
    return created.order
