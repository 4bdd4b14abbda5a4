"""Starting the pricing domain: its database, outbox relay, read models and consumers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Consumer
from adapters.runtime import DomainBase, Runtime, open_database
from domains.pricing import tables
from domains.pricing.low_stock import REGIONAL_AVAILABILITY, apply_regional_availability
from domains.pricing.model import stock_can_matter
from domains.pricing.read_models import PRICE_EVENTS, PROMOTION_EVENTS, PricingReadModels
from domains.pricing.uow import PricingUnitOfWork
from kernel.event_types import RegionalAvailabilityChanged
from kernel.events import Event


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
        return [
            Consumer(self.read_models.on_event, [*PRICE_EVENTS, *PROMOTION_EVENTS]),
            # A redelivered stock change pauses or resumes nothing twice.
            Consumer(
                self.on_regional_availability, [REGIONAL_AVAILABILITY], once_as="pricing.low-stock"
            ),
        ]

    async def on_regional_availability(self, event: Event) -> None:
        regional = event.payload_as(RegionalAvailabilityChanged)
        available = regional.available
        # Most stock changes cannot touch any promotion: the cached live promotions say
        # so without a transaction (the demo load alone sends thousands of these).
        offers = await self.read_models.live_offers()
        if not any(stock_can_matter(offer.terms, available) for offer in offers):
            return
        await apply_regional_availability(
            self.uow(), sku=regional.sku, region=regional.region, available=available
        )


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> PricingDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    engine, owns_engine = await open_database(runtime, "pricing", tables.metadata, engine)
    domain = PricingDomain(engine, runtime, owns_engine=owns_engine)
    domain.relay.start()
    return domain
