"""Pricing's unit of work: the repository on one transaction, and read-model invalidation
once that transaction is committed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import one_statement
from adapters.db.uow import SqlUnitOfWork
from domains.pricing import tables
from domains.pricing.quote_facts import QuoteFacts, fetch_quote_facts
from domains.pricing.repository import PriceKey, PricingRepository
from kernel.clock import Clock
from kernel.events import Event

AfterCommit = Callable[[list[Event]], Awaitable[None]]


class PricingUnitOfWork(SqlUnitOfWork):
    def __init__(
        self,
        sessions: Any,
        *,
        engine: AsyncEngine,
        clock: Clock,
        on_commit: Any = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        super().__init__(sessions, tables.outbox, clock=clock, on_commit=on_commit)
        self._after_commit = after_commit
        self._engine = engine
        self.prices: PricingRepository

    def _start(self) -> None:
        self.prices = PricingRepository(self.session)

    async def quote_facts(
        self, keys: Sequence[PriceKey], at: datetime, region: str | None
    ) -> QuoteFacts:
        """Outside the unit's transaction (none need be open): one statement, its own
        snapshot (``QuoteSource``)."""
        async with one_statement(self._engine) as conn:
            return await fetch_quote_facts(conn, keys, at, region)

    async def commit(self) -> None:
        # Invalidating only after the commit means no reader can cache the old state again
        # from a transaction that has not finished.
        committed = list(self._events)
        await super().commit()
        if self._after_commit is not None and committed:
            await self._after_commit(committed)
