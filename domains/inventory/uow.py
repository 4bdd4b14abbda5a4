"""Inventory's unit of work: one transaction over the stock and the feeds, plus what must
happen once it is durable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db.uow import SqlUnitOfWork
from domains.inventory import tables
from domains.inventory.model import Reservation
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

    async def insert_reservations(self, reservations: Sequence[Reservation], now: datetime) -> None:
        """Store new reservations with the events recorded so far: on PostgreSQL in one
        statement (``insert_reservations_with_events``), on SQLite, which has no
        data-modifying CTE, the reservations now and the events at commit. Raises
        ``DuplicateReservation`` when a key is taken; roll back then."""
        if self.session.get_bind().dialect.name == "sqlite":
            await self.stock.insert_reservations(reservations, now)
            return
        await self.stock.insert_reservations_with_events(reservations, self.events_to_store(), now)

    async def commit(self) -> None:
        events = list(self._events)
        await super().commit()
        if self._after_commit is not None and events:
            await self._after_commit(events)
