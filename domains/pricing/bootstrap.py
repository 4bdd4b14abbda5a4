"""Starting the pricing domain: its database, outbox relay, read models and consumers."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from adapters.db.engine import create_engine, session_factory
from adapters.db.outbox import OutboxRelay
from adapters.runtime import Runtime
from domains.pricing import tables
from domains.pricing.read_models import PRICE_EVENTS, PROMOTION_EVENTS, PricingReadModels
from domains.pricing.uow import PricingUnitOfWork


class PricingDomain:
    """What the pricing subgraph, the demo loader and the ERP import work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        self.engine = engine
        self.runtime = runtime
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self.relay = OutboxRelay(engine, tables.outbox, runtime.bus.publish)
        self.read_models = PricingReadModels(runtime.cache, engine)
        self._relay_task: asyncio.Task[None] | None = None

    def uow(self) -> PricingUnitOfWork:
        return PricingUnitOfWork(
            self._sessions,
            on_commit=lambda _events: self.relay.wake(),
            after_commit=self.read_models.invalidate_for,
        )

    def start_relay(self) -> None:
        self._relay_task = asyncio.create_task(self.relay.run(), name="pricing-outbox-relay")

    async def close(self) -> None:
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None
        if self._owns_engine:
            await self.engine.dispose()


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> PricingDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    owns_engine = engine is None
    engine = engine or create_engine(runtime.database_url("pricing"))
    if runtime.migrate_on_start:
        await migrations.upgrade(engine, "pricing", tables.metadata)
    domain = PricingDomain(engine, runtime, owns_engine=owns_engine)
    runtime.bus.subscribe(domain.read_models.on_event, types=[*PRICE_EVENTS, *PROMOTION_EVENTS])
    domain.start_relay()
    return domain
