"""Starting the products domain: its database, outbox relay, read model and event consumers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Consumer
from adapters.cache import ReadModel
from adapters.runtime import DomainBase, Runtime, open_database
from domains.products import handlers, model, repository
from domains.products.uow import ProductsUnitOfWork

CARDS = "products.card"


class ProductsDomain(DomainBase):
    """What the products subgraph, the demo loader and the ERP sync work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        super().__init__(engine, runtime, repository.outbox, owns_engine=owns_engine)
        # Product cards: what product(sku) and _entities serve, keyed by SKU.
        self.cards: ReadModel[str] = ReadModel(
            runtime.cache, CARDS, self._load_cards, clock=runtime.clock
        )

    def uow(self) -> ProductsUnitOfWork:
        return ProductsUnitOfWork(
            self._sessions, clock=self.clock, cards=self.cards, on_commit=self.wake_relay
        )

    async def _load_cards(self, skus: Sequence[str]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = await repository.load_products(conn, skus)
        return {sku: model.to_card(product) for sku, product in found.items()}

    def consumers(self) -> list[Consumer]:
        return handlers.consumers(self)


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> ProductsDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    engine, owns_engine = await open_database(runtime, "products", repository.metadata, engine)
    domain = ProductsDomain(engine, runtime, owns_engine=owns_engine)
    domain.relay.start()
    return domain
