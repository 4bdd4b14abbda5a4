"""Starting the pricing domain: its database, outbox relay, read models and consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Consumer
from adapters.runtime import DomainBase, Runtime, open_database
from domains.pricing import handlers, tables
from domains.pricing.read_models import PricingReadModels
from domains.pricing.uow import PricingUnitOfWork


class PricingDomain(DomainBase):
    """What the pricing subgraph, the demo loader and the ERP import work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        super().__init__(engine, runtime, tables.outbox, owns_engine=owns_engine)
        self.read_models = PricingReadModels(runtime.cache, engine, clock=runtime.clock)

    def uow(self) -> PricingUnitOfWork:
        return PricingUnitOfWork(
            self._sessions,
            clock=self.clock,
            on_commit=self.wake_relay,
            after_commit=self.read_models.invalidate_for,
        )

    def consumers(self) -> list[Consumer]:
        return handlers.consumers(self)


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> PricingDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    engine, owns_engine = await open_database(runtime, "pricing", tables.metadata, engine)
    domain = PricingDomain(engine, runtime, owns_engine=owns_engine)
    domain.relay.start()
    return domain
