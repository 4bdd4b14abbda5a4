"""Pricing's unit of work: the repository on one transaction, and read-model invalidation
once that transaction is committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.db.uow import SqlUnitOfWork
from domains.pricing import tables
from domains.pricing.repository import PricingRepository
from kernel.clock import Clock
from kernel.events import Event

AfterCommit = Callable[[list[Event]], Awaitable[None]]


class PricingUnitOfWork(SqlUnitOfWork):
    def __init__(
        self,
        sessions: Any,
        *,
        clock: Clock,
        on_commit: Any = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        super().__init__(sessions, tables.outbox, clock=clock, on_commit=on_commit)
        self._after_commit = after_commit
        self.prices: PricingRepository

    def _start(self) -> None:
        self.prices = PricingRepository(self.session)

    async def commit(self) -> None:
        # Invalidating only after the commit means no reader can cache the old state again
        # from a transaction that has not finished.
        committed = list(self._events)
        await super().commit()
        if self._after_commit is not None and committed:
            await self._after_commit(committed)
