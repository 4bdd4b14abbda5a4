"""The unit of work: one transaction, and the events it records, committed together."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db import outbox
from kernel import correlation
from kernel.clock import Clock
from kernel.events import Event
from kernel.tracing import current_traceparent


class SqlUnitOfWork:
    """Base for each domain's unit of work.

    Subclasses attach their repositories in ``_start``. A service calls ``record`` for
    each event and ``commit`` once; leaving the block without committing rolls back.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox_table: Table,
        *,
        clock: Clock,
        on_commit: Callable[[list[Event]], Any] | None = None,
    ) -> None:
        self.clock = clock
        self._sessions = sessions
        self._outbox_table = outbox_table
        self._on_commit = on_commit
        self._events: list[Event] = []
        # How many of ``_events`` a writer took to store in its own statement.
        self._handed_over = 0
        self._open = False
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        if self._open:
            # A second entry would replace the transaction under the first one's feet.
            raise RuntimeError("this unit of work is open already; a use case opens its own")
        self._open = True
        self.session = self._sessions()
        self._events = []
        self._handed_over = 0
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
            await self.session.close()
        finally:
            self._open = False

    def _start(self) -> None:
        """Attach repositories to ``self.session``."""

    def record(self, *events: Event) -> None:
        correlation_id = correlation.current()
        traceparent = current_traceparent()
        for event in events:
            # Events are frozen; stamping here keeps every service free of plumbing.
            if event.correlation_id is None and correlation_id is not None:
                object.__setattr__(event, "correlation_id", correlation_id)
            if event.traceparent is None and traceparent is not None:
                object.__setattr__(event, "traceparent", traceparent)
            self._events.append(event)

    def events_to_store(self) -> list[Event]:
        """The events recorded and not yet stored, for a writer that inserts their outbox
        rows in its own statement with its change. A statement in this unit's transaction
        commits or rolls back with it, and ``commit`` stores only the events recorded
        after this call; a statement that commits on its own calls ``_stored`` for them
        once it has."""
        unstored = self._events[self._handed_over :]
        self._handed_over = len(self._events)
        return unstored

    async def commit(self) -> None:
        await outbox.record(self.session, self._outbox_table, self._events[self._handed_over :])
        await self.session.commit()
        committed, self._events, self._handed_over = self._events, [], 0
        self._stored(committed)

    def _stored(self, events: list[Event]) -> None:
        """``events`` are in the outbox for good: the relay is woken for them (``on_commit``),
        after this unit's commit or a statement that commits on its own."""
        if self._on_commit is not None and events:
            self._on_commit(events)

    async def rollback(self) -> None:
        self._events, self._handed_over = [], 0
        await self.session.rollback()
