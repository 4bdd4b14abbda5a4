"""Starting the products domain: its database, outbox relay, read model and consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache import ReadModel
from adapters.db import migrations
from adapters.db.engine import create_engine, session_factory
from adapters.db.outbox import OutboxRelay
from adapters.runtime import Runtime
from domains.common.events import Event
from domains.products import model, repository
from domains.products.uow import ProductsUnitOfWork

CARDS = "products.card"


class ProductsDomain:
    """What the products subgraph, the demo loader and the ERP sync work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        self.engine = engine
        self.runtime = runtime
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self.relay = OutboxRelay(engine, repository.outbox, runtime.bus.publish)
        # Product cards: what product(sku) and _entities serve, keyed by SKU.
        self.cards: ReadModel[str] = ReadModel(runtime.cache, CARDS, self._load_cards)
        self._relay_task: asyncio.Task[None] | None = None

    def uow(self) -> ProductsUnitOfWork:
        return ProductsUnitOfWork(
            self._sessions, cards=self.cards, on_commit=lambda _events: self.relay.wake()
        )

    async def _load_cards(self, skus: Sequence[str]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = await repository.load_products(conn, skus)
        return {sku: model.to_card(product) for sku, product in found.items()}

    async def on_event(self, event: Event) -> None:
        """Another replica changed a product: drop our cached card of it."""
        await self.cards.invalidate([event.partition_key])

    def start_relay(self) -> None:
        self._relay_task = asyncio.create_task(self.relay.run(), name="products-outbox-relay")

    async def close(self) -> None:
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None
        if self._owns_engine:
            await self.engine.dispose()


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> ProductsDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    owns_engine = engine is None
    engine = engine or create_engine(runtime.database_url("products"))
    if runtime.migrate_on_start:
        await migrations.upgrade(engine, "products", repository.metadata)
    domain = ProductsDomain(engine, runtime, owns_engine=owns_engine)
    runtime.bus.subscribe(domain.on_event, types=model.EVENT_TYPES)
    domain.start_relay()
    return domain
