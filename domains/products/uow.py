"""The products unit of work: one transaction over the product tables and the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.cache import ReadModel
from adapters.db.uow import SqlUnitOfWork
from domains.products.repository import ProductRepository, outbox
from kernel.clock import Clock
from kernel.events import Event


class ProductsUnitOfWork(SqlUnitOfWork):
    """Also drops the cached cards of the products it changed, once the change is real.

    Invalidating after the commit (not before) means a reader can never re-cache the old
    value from a transaction that has not committed yet.
    """

    products: ProductRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        cards: ReadModel[str] | None = None,
        on_commit: Callable[[list[Event]], Any] | None = None,
    ) -> None:
        super().__init__(sessions, outbox, clock=clock, on_commit=on_commit)
        self._cards = cards

    def _start(self) -> None:
        self.products = ProductRepository(self.session)

    async def commit(self) -> None:
        touched = list(dict.fromkeys(event.partition_key for event in self._events))
        await super().commit()
        if self._cards is not None and touched:
            await self._cards.invalidate(touched)
