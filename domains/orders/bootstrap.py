"""Starting the orders domain: its database and outbox relay.

Orders have no cached read model: an order is read by id through per-request loaders
(two statements per batch), and order pages are keyset queries on an index.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from adapters.db.engine import create_engine, session_factory
from adapters.db.outbox import OutboxRelay
from adapters.runtime import Runtime
from domains.orders import tables
from domains.orders.uow import OrdersUnitOfWork


class OrdersDomain:
    """What the orders subgraph, the demo loader and checkout work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        self.engine = engine
        self.runtime = runtime
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self.relay = OutboxRelay(engine, tables.outbox, runtime.bus.publish)
        self._relay_task: asyncio.Task[None] | None = None

    def uow(self) -> OrdersUnitOfWork:
        return OrdersUnitOfWork(
            self._sessions, tables.outbox, on_commit=lambda _events: self.relay.wake()
        )

    def start_relay(self) -> None:
        self._relay_task = asyncio.create_task(self.relay.run(), name="orders-outbox-relay")

    async def close(self) -> None:
        task, self._relay_task = self._relay_task, None
        if task is not None:
            # Python 3.11's wait_for can swallow a cancellation that lands just as the
            # relay is woken (gh-86296); cancel again until the task has really ended.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_engine:
            await self.engine.dispose()


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> OrdersDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    owns_engine = engine is None
    engine = engine or create_engine(runtime.database_url("orders"))
    if runtime.migrate_on_start:
        await migrations.upgrade(engine, "orders", tables.metadata)
    domain = OrdersDomain(engine, runtime, owns_engine=owns_engine)
    domain.start_relay()
    return domain
