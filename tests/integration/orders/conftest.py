"""An orders domain on a private database of each backend, and a way to make orders."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import Runtime
from domains.orders import service
from domains.orders.app import create_app
from domains.orders.bootstrap import OrdersDomain, start
from domains.orders.creation import new_order
from domains.orders.model import Fulfilment, FulfilmentType, NewLine, Order
from tests.support import local_runtime, serving


def runtime() -> Runtime:
    return local_runtime()


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


def creation(**overrides: Any) -> dict[str, Any]:
    """What ``service.create_order`` takes for a web order of ``two_lines`` from DC-NORTH,
    under a new key unless ``overrides`` name one."""
    return {
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


async def make_order(domain: OrdersDomain, **overrides: Any) -> Order:
    created = await service.create_order(domain.uow(), **creation(**overrides))
    return created.order


async def make_orders(domain: OrdersDomain, count: int) -> list[Order]:
    """``count`` orders in one transaction: quicker than one use case call each."""
    made = []
    async with domain.uow() as uow:
        for _ in range(count):
            order = new_order(
                order_id=str(uuid.uuid4()),
                idempotency_key=f"key-{uuid.uuid4()}",
                channel="web",
                customer_reference="cust-bulk",
                fulfilment=Fulfilment(FulfilmentType.SHIP_FROM_DC, "DC-NORTH"),
                currency="EUR",
                lines=two_lines(),
                at=uow.clock.now(),
                correlation_id=None,
                line_ids=[str(uuid.uuid4()) for _ in range(2)],
            )
            await uow.orders.add(order)
            made.append(order)
        await uow.commit()
    return made


class Subgraph:
    """The orders subgraph app, running, with a client and a statement counter."""

    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.statements: list[str] = []

    @property
    def domain(self) -> OrdersDomain:
        domain: OrdersDomain = self.app.state.domain
        return domain

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def count_statements(self) -> None:
        def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            text = statement.lstrip().upper()
            if text.startswith(("BEGIN", "PRAGMA")) or _is_outbox_relay(text):
                return
            self.statements.append(statement)

        event.listen(self.domain.engine.sync_engine, "before_cursor_execute", before)


def _is_outbox_relay(statement: str) -> bool:
    # The relay polls in the background; its statements are not the request's.
    return "ORDERS_OUTBOX" in statement or "PG_TRY_ADVISORY_XACT_LOCK" in statement


@pytest.fixture
async def subgraph(engine: AsyncEngine) -> AsyncIterator[Subgraph]:
    app = create_app(runtime(), engine=engine)
    async with serving(app, "http://orders") as client:
        yield Subgraph(app, client)
