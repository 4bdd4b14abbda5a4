"""Inventory's unit of work: one transaction over the stock and the feeds, plus what must
happen once it is durable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db.uow import SqlUnitOfWork
from domains.inventory import tables
from domains.inventory.repository import (
    FeedRepository,
    ReconciliationRepository,
    StockRepository,
)
from kernel.clock import Clock
from kernel.events import Event

AfterCommit = Callable[[list[Event]], Awaitable[None]]


class InventoryUnitOfWork(SqlUnitOfWork):
    """``after_commit`` runs once the transaction is durable and before the caller gets
    its answer, so a read right after a write never meets a cached value from before it.
    """

    stock: StockRepository
    feeds: FeedRepository
    reconciliations: ReconciliationRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        on_commit: Callable[[list[Event]], Any] | None = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        super().__init__(sessions, tables.outbox, clock=clock, on_commit=on_commit)
        self._after_commit = after_commit

    def _start(self) -> None:
        self.stock = StockRepository(self.session)
        self.feeds = FeedRepository(self.session)
        self.reconciliations = ReconciliationRepository(self.session)

    async def commit(self) -> None:
        events = list(self._events)
        await super().commit()
        if self._after_commit is not None and events:
            await self._after_commit(events)
